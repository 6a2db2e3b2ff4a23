"""Test data. Factories build rows directly; tests of behaviour go through services."""

from datetime import timedelta

import factory
from django.utils import timezone

from readings.enums import NoteVisibility, PassageKind, TextFormat
from readings.models import Note, Passage, Text
from reminders.enums import ReminderKind
from reminders.models import Reminder
from sessions_app.enums import Role, SessionStatus
from sessions_app.models import Membership, Session, StudyGroup, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(PASSWORD)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyGroup

    name = factory.Sequence(lambda n: f"Reading Circle {n}")
    slug = factory.Sequence(lambda n: f"reading-circle-{n}")
    timezone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    group = factory.SubFactory(GroupFactory)
    role = Role.MEMBER


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda session: session.starts_at + timedelta(minutes=90))
    timezone = "Europe/London"
    status = SessionStatus.SCHEDULED


class TextFactory(factory.django.DjangoModelFactory):
    """A text with `passages` paragraphs ("Passage 1 …"), its full text and offsets consistent, as an import makes."""

    class Meta:
        model = Text
        skip_postgeneration_save = True

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Essay {n}")
    author = "A. Writer"
    original_format = TextFormat.TXT

    @factory.post_generation
    def passages(text, create, extracted, **kwargs):
        count = 3 if extracted is None else extracted
        bodies = [f"Passage {position}: the words of paragraph {position}." for position in range(1, count + 1)]
        offset, rows = 0, []
        for position, body in enumerate(bodies, start=1):
            rows.append(
                Passage(
                    text=text,
                    anchor=f"p-{position}",
                    position=position,
                    kind=PassageKind.PARAGRAPH,
                    body=body,
                    word_count=len(body.split()),
                    start_offset=offset,
                    end_offset=offset + len(body),
                )
            )
            offset += len(body) + 2
        Passage.objects.bulk_create(rows)
        text.full_text = "\n\n".join(bodies)
        text.next_anchor = count + 1
        text.save(update_fields=["full_text", "next_anchor"])


class NoteFactory(factory.django.DjangoModelFactory):
    """A top-level note on a passage (replies and hiding go through the note services, which keep threads whole)."""

    class Meta:
        model = Note

    author = factory.SubFactory(UserFactory)
    passage = factory.LazyAttribute(lambda note: TextFactory().passages.get(position=1))
    body = factory.Sequence(lambda n: f"Note {n}")
    body_html = factory.LazyAttribute(lambda note: f"<p>{note.body}</p>")
    visibility = NoteVisibility.GROUP


class ReminderFactory(factory.django.DjangoModelFactory):
    """A pending reading reminder for a session, due now."""

    class Meta:
        model = Reminder

    session = factory.SubFactory(SessionFactory)
    recipient = factory.SubFactory(UserFactory)
    kind = ReminderKind.READING
    dedupe_key = factory.Sequence(lambda n: f"test-reminder-{n}")
    for_starts_at = factory.LazyAttribute(lambda r: r.session.starts_at)
    due_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)
