"""Write a group's whole content as JSON: `manage.py export_group <slug> > group.json` (or --output)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portability.services.exporting import group_export
from sessions_app.models import StudyGroup


class Command(BaseCommand):
    help = (
        "Write a group's whole content (people, sessions, texts, questions, every note, private ones included) "
        "as JSON, in the format docs/export-format.md describes."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the group's slug (its address: /groups/<slug>/)")
        parser.add_argument("--output", type=Path, help="write to this file instead of standard output")

    def handle(self, *args, slug: str, output: Path | None, **options):
        group = StudyGroup.objects.filter(slug=slug).first()
        if group is None:
            raise CommandError(f"There is no group with the slug “{slug}”.")
        document = json.dumps(group_export(group=group), ensure_ascii=False, indent=1) + "\n"
        if output is None:
            self.stdout.write(document, ending="")
        else:
            output.write_text(document, encoding="utf-8")
