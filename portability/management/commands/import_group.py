"""Load a group export into this instance: `manage.py import_group group.json` (or `-` for standard input)."""

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portability.services.importing import group_import


class Command(BaseCommand):
    help = (
        "Create a group from a file written by export_group (new ids; people matched by email address, "
        "others get accounts without a password). Nothing is written if the file has an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the export file, or - to read standard input")
        parser.add_argument("--slug", help="give the group this slug instead of the file's (if that one is taken)")

    def handle(self, *args, path: str, slug: str | None, **options):
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not JSON: {error}.") from None
        try:
            group = group_import(data=data, slug=slug)
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(f"Nothing was imported. {problems}") from None
        counts = {
            "people": group.memberships.count(),
            "sessions": group.sessions.count(),
            "texts": group.texts.count(),
        }
        self.stdout.write(
            f"Imported “{group.name}” (slug {group.slug}) as /groups/{group.pk}/: {counts['people']} members, "
            f"{counts['sessions']} sessions, {counts['texts']} texts, {len(data.get('notes', []))} notes."
        )
