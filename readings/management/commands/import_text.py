"""Import a text file into a group, or a new revision of a text, from the shell."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from readings.models import Text
from readings.services.importing import text_import, text_revise
from sessions_app.models import StudyGroup

# Below this size the import is over before a progress bar is worth drawing.
PROGRESS_BAR_FROM_BYTES = 256 * 1024


class Command(BaseCommand):
    help = "Import a .txt, .md or .html file as a new text of a group (--group) or a new revision (--into)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--group", help="slug of the group the new text belongs to")
        target.add_argument("--into", type=int, metavar="TEXT_ID", help="import as the next revision of this text")
        parser.add_argument("--title", default="")
        parser.add_argument("--author", default="")
        parser.add_argument("--source", default="")
        parser.add_argument("--format", choices=["txt", "md", "html", "epub", "pdf"], help="default: detected")
        parser.add_argument(
            "--chapter",
            action="append",
            dest="chapters",
            metavar="ID",
            help="EPUB only: import this chapter (repeat for several; default: the whole book)",
        )

    def handle(self, *args, path: Path, group, into, title, author, source, format, chapters, **options):
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        bar = tqdm(total=1, unit="block", desc=path.name, disable=len(data) < PROGRESS_BAR_FROM_BYTES)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        content = {"data": data, "filename": path.name, "fmt": format, "chapters": chapters, "on_progress": progress}
        try:
            if into is not None:
                text = Text.objects.filter(pk=into).first()
                if text is None:
                    raise CommandError(f"There is no text {into}.")
                revision = text_revise(text=text, created_by=None, **content)
                bar.close()
                changes = revision.changes
                self.stdout.write(
                    f"Revision {revision.number}: {changes['kept']} kept, {changes['edited']} edited, "
                    f"{changes['added']} added, {changes['retired']} retired."
                )
                notices = revision.notices
            else:
                study_group = StudyGroup.objects.filter(slug=group).first()
                if study_group is None:
                    raise CommandError(f"There is no group with the slug “{group}”.")
                text = text_import(
                    group=study_group, created_by=None, title=title, author=author, source=source, **content
                )
                bar.close()
                self.stdout.write(
                    f"Imported “{text.title}” (text {text.pk}): {text.passages.count()} passages, "
                    f"revision {text.revision}."
                )
                notices = text.revisions.get(number=1).notices
        except ValidationError as error:
            bar.close()
            raise CommandError(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from None
        for notice in notices:
            self.stdout.write(self.style.WARNING(f"Notice: {notice}"))
