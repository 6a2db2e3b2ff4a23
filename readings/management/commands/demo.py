"""Load demo data for `make run`: the product at work within two minutes of starting it.

A group with an organizer and two members, a weekly series, the sample
essay with a few group notes, a reply and a private note, and, on every run
that needs one, a drop-in session starting in two hours and a minute: its
reading is assigned, it has questions, a member has answered it, and its
"starting soon" reminder falls due about a minute from now, so the worker
prints it at its next dispatch pass. Run again, it adds nothing but that
session (when the last one's reminder is behind it) and prints the same
passwords: they are derived from SECRET_KEY, so they stay the same for as
long as the database and the key do.

It lives in the highest app whose data it creates, since a lower app may
not import a higher one.
"""

import base64
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.links import absolute_url
from readings.enums import QuestionKind
from readings.models import Passage, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create
from readings.services.questions import question_create
from sessions_app.enums import Role, RSVPStatus
from sessions_app.models import Session, StudyGroup, User
from sessions_app.services.groups import group_create, membership_add
from sessions_app.services.schedule import rsvp_set, series_create, session_create

DEMO_GROUP = "Demo Study Circle"
DEMO_TIMEZONE = "Europe/London"
SAMPLE_ESSAY = settings.BASE_DIR / "sample-texts" / "october-revolution-study-notes.txt"
PEOPLE = [
    ("organizer", "Olga Organizer", Role.ORGANIZER),
    ("member1", "Mira Member", Role.MEMBER),
    ("member2", "Max Member", Role.MEMBER),
]
DROP_IN_TITLE = "Drop-in: first look at the essay"
# The drop-in's reading: the essay's first part, "why did October not fail?" (positions, heading = 1).
READING = (2, 16)
# (author, passage position, quoted words or None for the whole passage, body, visibility)
NOTES = [
    ("member1", 4, "the Russian working class was relatively tiny", "How tiny, in numbers? Worth checking.", "group"),
    ("organizer", 9, "connected dynamically", "The key move of this part: each circumstance feeds the next.", "group"),
    ("member1", 12, "hungry for land", "Land for the peasants, peace for the soldiers: two promises.", "group"),
    ("member1", 13, "weak Russian bourgeoisie", "Look up who they were before Thursday.", "private"),
]
REPLY = ("member2", "About three million industrial workers in 1917, out of some 160 million people.")
QUESTIONS = [
    (QuestionKind.OPENING, "What did you expect the essay to argue, from its title?", (), 10, ""),
    (
        QuestionKind.DISCUSSION,
        "Which of the three external circumstances mattered most, and why?",
        (5, 9),
        20,
        "Start from §9: the author links all three.",
    ),
    (QuestionKind.CLOSING, "What one question would you bring to next week's reading?", (), 5, ""),
]
PROPOSED = ("member2", "Could October have succeeded without the war?")


def demo_password(username: str) -> str:
    """The demo account's password: stable for a given SECRET_KEY, unguessable without it."""
    digest = salted_hmac("studycircle.demo.password", username).digest()
    return base64.urlsafe_b64encode(digest).decode()[:16]


class Command(BaseCommand):
    help = (
        "Create (or top up) the demo group, its people, series, essay and notes, and a drop-in session whose "
        "reminder is due in about a minute; prints the demo accounts and their (stable) passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            metavar="USERNAME",
            help="Print only this demo account's password (changes nothing), e.g. for scripts.",
        )

    def handle(self, *args, **options):
        if options["password"]:
            if options["password"] not in {username for username, _name, _role in PEOPLE}:
                raise CommandError(f"“{options['password']}” is not a demo account.")
            self.stdout.write(demo_password(options["password"]))
            return
        session = self._load()
        self._report(session)

    @transaction.atomic
    def _load(self) -> Session:
        users = self._people()
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
        essay = Text.objects.filter(group=group).order_by("pk").first()
        if essay is None:
            essay = text_import(
                group=group,
                created_by=users["organizer"],
                data=SAMPLE_ESSAY.read_bytes(),
                filename=SAMPLE_ESSAY.name,
                source="sample-texts/october-revolution-study-notes.txt",
            )
            self._notes(essay, users)
            self.stdout.write(f"Imported the sample essay “{essay.title}” ({essay.passages.count()} passages).")
        return self._drop_in(group, essay, users)

    def _people(self) -> dict[str, User]:
        users = {}
        for username, display_name, _role in PEOPLE:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"display_name": display_name, "email": f"{username}@example.org"}
            )
            if not user.check_password(demo_password(username)):
                user.set_password(demo_password(username))
                user.save(update_fields=["password"])
            users[username] = user
        return users

    @staticmethod
    def _passage(essay: Text, position: int) -> Passage:
        return essay.passages.get(position=position, retired=False)

    def _notes(self, essay: Text, users: dict[str, User]) -> None:
        first = None
        for author, position, quote, body, visibility in NOTES:
            passage = self._passage(essay, position)
            start = passage.body.index(quote)
            note = note_create(
                author=users[author],
                passage=passage,
                body=body,
                visibility=visibility,
                selector={"start": start, "end": start + len(quote), "exact": quote},
            )
            first = first or note
        author, body = REPLY
        note_create(author=users[author], passage=first.passage, body=body, parent=first)

    def _drop_in(self, group: StudyGroup, essay: Text, users: dict[str, User]) -> Session:
        """A drop-in whose "starting soon" reminder is due within about a minute, made unless there is one.

        One whose reminder fell due at most a minute ago (a quick restart) still
        counts: the reminder is pending until a dispatch pass sends it.
        """
        now = timezone.now()
        lead = timedelta(minutes=group.starting_lead_minutes)
        since = now + lead - timedelta(minutes=1)
        recent = Session.objects.filter(group=group, title=DROP_IN_TITLE, starts_at__gt=since).order_by("-starts_at")
        if (session := recent.first()) is not None:
            return session
        # Due within the next minute: the worker's first dispatch pass, a minute after it starts, prints it.
        starts = (now + lead + timedelta(minutes=1)).replace(second=0, microsecond=0)
        session = session_create(
            group=group,
            title=DROP_IN_TITLE,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            timezone=DEMO_TIMEZONE,
            description="An extra evening to start on the essay before the weekly series.",
            location="Community library, room 2",
            facilitators=[users["organizer"]],
        )
        assignment_create(
            session=session,
            text=essay,
            start_passage=self._passage(essay, READING[0]),
            end_passage=self._passage(essay, READING[1]),
            instructions="Mark one claim you doubt.",
        )
        for kind, prompt, positions, minutes, facilitator_notes in QUESTIONS:
            question_create(
                session=session,
                author=users["organizer"],
                prompt=prompt,
                kind=kind,
                passages=[self._passage(essay, position) for position in positions],
                minutes=minutes,
                facilitator_notes=facilitator_notes,
            )
        author, prompt = PROPOSED
        question_create(session=session, author=users[author], prompt=prompt, propose=True)
        rsvp_set(session=session, user=users["member1"], status=RSVPStatus.GOING)
        rsvp_set(session=session, user=users["organizer"], status=RSVPStatus.GOING)
        self.stdout.write(f"Scheduled “{DROP_IN_TITLE}” with a reading, questions and an RSVP.")
        return session

    def _report(self, session: Session) -> None:
        self.stdout.write(f"\nDemo accounts (log in at {absolute_url('login')}):")
        for username, display_name, role in PEOPLE:
            self.stdout.write(f"  {role:<10} {username:<10} password: {demo_password(username)}   ({display_name})")
        local = session.starts_at.astimezone(ZoneInfo(session.timezone))
        due = session.starts_at - timedelta(minutes=session.effective_starting_lead_minutes)
        page = absolute_url("session-detail", session.pk)
        self.stdout.write(
            f"\nNext session: “{session.title}”, {local:%A %H:%M} {session.timezone}: {page}\n"
            f"Its “starting soon” reminders are due at {due.astimezone(ZoneInfo(session.timezone)):%H:%M}; "
            "the worker prints them below within a minute of that."
        )

    @staticmethod
    def _next_weekday_evening() -> datetime:
        """The next Thursday at 19:00 local time, at least a day away."""
        today = timezone.now().astimezone(ZoneInfo(DEMO_TIMEZONE)).date() + timedelta(days=1)
        days_ahead = (3 - today.weekday()) % 7
        return datetime.combine(today + timedelta(days=days_ahead), time(19, 0))
