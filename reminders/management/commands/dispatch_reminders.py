from django.core.management.base import BaseCommand

from reminders.services.dispatch import reminders_dispatch_due


class Command(BaseCommand):
    help = "Run one dispatch pass by hand: send every due reminder now (what beat's minute tick does)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Rows per batch (default REMINDER_BATCH_SIZE)."
        )

    def handle(self, *args, batch_size=None, **options):
        result = reminders_dispatch_due(batch_size=batch_size)
        self.stdout.write(
            f"Claimed {result.claimed}: sent {result.sent}, failed {result.failed}, skipped {result.skipped}, "
            f"retrying later {result.retrying + result.released}."
        )
