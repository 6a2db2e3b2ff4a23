"""Load demo data for `make run`: a group, three people, a weekly series and the sample essay.

It lives in the highest app whose data it creates, since a lower app may
not import a higher one.
"""

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from readings.models import Text
from readings.services.importing import text_import
from sessions_app.enums import Role
from sessions_app.models import StudyGroup, User
from sessions_app.services.groups import group_create, membership_add
from sessions_app.services.schedule import series_create

DEMO_GROUP = "Demo Study Circle"
DEMO_TIMEZONE = "Europe/London"
SAMPLE_ESSAY = settings.BASE_DIR / "sample-texts" / "october-revolution-study-notes.txt"
PEOPLE = [
    ("organizer", "Olga Organizer", Role.ORGANIZER),
    ("member1", "Mira Member", Role.MEMBER),
    ("member2", "Max Member", Role.MEMBER),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo group, its people, a weekly series and the sample essay; prints passwords."

    @transaction.atomic
    def handle(self, *args, **options):
        passwords = {}
        users = {}
        for username, display_name, _role in PEOPLE:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"display_name": display_name, "email": f"{username}@example.org"}
            )
            passwords[username] = secrets.token_urlsafe(9)
            user.set_password(passwords[username])
            user.save()
            users[username] = user

        group = StudyGroup.objects.filter(name=DEMO_GROUP).first()
        if group is None:
            group = group_create(
                creator=users["organizer"],
                name=DEMO_GROUP,
                description="Reading classic essays together, one evening a week.",
                timezone=DEMO_TIMEZONE,
            )
            for username, _name, role in PEOPLE[1:]:
                membership_add(group=group, user=users[username], role=role)
            series_create(
                group=group,
                title="Weekly reading",
                timezone=DEMO_TIMEZONE,
                first_starts_at=self._next_weekday_evening(),
                duration_minutes=90,
                rrule="FREQ=WEEKLY;COUNT=3",
                location="Community library, room 2",
                facilitators=[users["organizer"]],
            )
            self.stdout.write(self.style.SUCCESS(f"Created “{DEMO_GROUP}” with a weekly series of 3 sessions."))
        if not Text.objects.filter(group=group).exists():
            text = text_import(
                group=group,
                created_by=users["organizer"],
                data=SAMPLE_ESSAY.read_bytes(),
                filename=SAMPLE_ESSAY.name,
                source="sample-texts/october-revolution-study-notes.txt",
            )
            self.stdout.write(f"Imported the sample essay “{text.title}” ({text.passages.count()} passages).")
        else:
            self.stdout.write(f"“{DEMO_GROUP}” is already loaded; passwords refreshed.")

        self.stdout.write("\nDemo accounts (log in at http://127.0.0.1:8000/accounts/login/):")
        for username, display_name, role in PEOPLE:
            self.stdout.write(f"  {role:<10} {username:<10} password: {passwords[username]}   ({display_name})")

    @staticmethod
    def _next_weekday_evening() -> datetime:
        """The next Thursday at 19:00 local time, at least a day away."""
        today = timezone.now().astimezone(ZoneInfo(DEMO_TIMEZONE)).date() + timedelta(days=1)
        days_ahead = (3 - today.weekday()) % 7
        return datetime.combine(today + timedelta(days=days_ahead), time(19, 0))
