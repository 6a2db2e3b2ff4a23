"""A group with some of everything, made through the services as people would make it.

Used where a test needs a realistic database: exporting and importing a group,
restoring a backup. People in every role and one who left; a weekly series
and a one-off session that has happened (RSVPs, attendance); the sample essay
in two revisions (so passages were edited and retired, and notes moved and
orphaned); a reading, questions (one proposed, with facilitator notes);
notes of every visibility with threads, tags, highlights, helpful marks, a hidden thread and a deleted
note that keeps its replies.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

from readings.models import Note, Passage, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import, text_revise
from readings.services.notes import note_create, note_delete, note_mark_helpful, note_set_hidden
from readings.services.progress import progress_record
from readings.services.questions import question_create
from sessions_app.enums import Role
from sessions_app.models import Membership, Session, StudyGroup, User
from sessions_app.services.groups import group_create, membership_add, membership_end
from sessions_app.services.schedule import attendance_set, rsvp_set, series_create, session_create

SAMPLE = Path(__file__).resolve().parents[1] / "sample-texts" / "october-revolution-study-notes.txt"


@dataclass
class Populated:
    group: StudyGroup
    organizer: User
    facilitator: User
    member: User
    other_member: User
    essay: Text
    session: Session  # the series' first session: it reads the essay
    past: Session
    private_note: Note  # the member's


def _person(username: str, prefix: str) -> User:
    user = User.objects.create_user(
        username=f"{prefix}{username}", email=f"{prefix}{username}@example.org", password="a long test passphrase"
    )
    user.display_name = username.capitalize()
    user.save(update_fields=["display_name"])
    return user


def _starting(text: Text, start: str) -> Passage:
    [found] = [p for p in text.passages.filter(retired=False) if p.body.startswith(start)]
    return found


def _on(passage: Passage, exact: str) -> dict:
    start = passage.body.index(exact)
    return {"start": start, "end": start + len(exact), "exact": exact}


def populate_group(*, name: str = "Thursday Circle", prefix: str = "") -> Populated:
    """Build the group `name`; `prefix` keeps usernames apart when a test makes two groups."""
    organizer, facilitator, member, other_member, leaver = (_person(n, prefix) for n in ("ada", "bo", "cy", "di", "ed"))
    group = group_create(
        creator=organizer, name=name, description="We read slowly.\nOne essay a month.", timezone="Europe/Berlin"
    )
    membership_add(group=group, user=facilitator, role=Role.FACILITATOR)
    membership_add(group=group, user=member)
    membership_add(group=group, user=other_member)
    membership_add(group=group, user=leaver)

    now = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(60))
    first = (now + timedelta(days=7)).replace(hour=19, minute=0, second=0, microsecond=0, tzinfo=None)
    series = series_create(
        group=group,
        title="Monthly essay",
        timezone="Europe/Berlin",
        first_starts_at=datetime.combine(first.date(), first.time()),
        rrule="FREQ=WEEKLY;COUNT=3",
        location="Library, room 2",
        facilitators=[facilitator],
    )
    session = series.sessions.order_by("starts_at").first()
    past_start = timezone.now() + timedelta(seconds=2)
    past = session_create(
        group=group,
        title="Kick-off",
        starts_at=past_start,
        ends_at=past_start + timedelta(hours=1),
        timezone="Europe/Berlin",
        online_url="https://meet.example.org/kick-off",
    )
    rsvp_set(session=past, user=member, status="going")
    rsvp_set(session=session, user=member, status="going")
    rsvp_set(session=session, user=other_member, status="declined")

    essay = text_import(group=group, created_by=organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passages = list(essay.passages.filter(retired=False).order_by("position"))
    assignment_create(
        session=session,
        text=essay,
        start_passage=passages[0],
        end_passage=passages[-1],
        instructions="Mark one claim you doubt.",
    )
    moved = _starting(essay, "The October revolution was such")
    doomed = _starting(essay, "Stalin also spells out the international dimensions")
    question_create(
        session=session,
        author=organizer,
        prompt="What does the essay mean by “proletarian dictatorship”?",
        passages=[moved],
        minutes=15,
        facilitator_notes="Steer towards the peasants.",
    )
    question_create(session=session, author=member, prompt="Was October inevitable?", propose=True)

    opening = note_create(
        author=organizer,
        passage=moved,
        body="Is it *towering*? See [the source](https://example.org/source).",
        visibility="group",
        selector=_on(moved, "towering achievement"),
        tags=["rhetoric"],
    )
    reply = note_create(author=member, passage=moved, body="I think so.", parent=opening)
    note_create(author=facilitator, passage=moved, body="Why?", parent=reply)
    private_note = note_create(
        author=member,
        passage=moved,
        body="My own reminder.",
        visibility="private",
        selector=_on(moved, "momentous event"),
    )
    note_create(author=organizer, passage=moved, body="Organizer's own reminder.", visibility="private")
    # Highlights (a shared one and a private one), and helpful marks on the opening note.
    shared = _on(moved, "momentous event")
    note_create(author=member, passage=moved, highlight=True, visibility="group", selector=shared)
    note_create(author=other_member, passage=moved, highlight=True, selector=_on(moved, "towering achievement"))
    for who in (member, facilitator, other_member):
        note_mark_helpful(note=opening, user=who)
    note_create(author=facilitator, passage=doomed, body="For facilitators.", visibility="facilitators")
    orphan = note_create(
        author=other_member,
        passage=doomed,
        body="On words that go.",
        visibility="group",
        selector=_on(doomed, "international dimensions"),
        tags=["peasants", "world"],
    )
    note_create(author=leaver, passage=doomed, body="Before I left.", parent=orphan)
    rude = note_create(author=other_member, passage=moved, body="Off topic.", visibility="group")
    note_create(author=member, passage=moved, body="Agreed, off topic.", parent=rude)
    note_set_hidden(note=rude, hidden=True, by=organizer)
    withdrawn = note_create(author=member, passage=doomed, body="Withdrawn.", visibility="group")
    note_create(author=organizer, passage=doomed, body="A reply that stays.", parent=withdrawn)
    note_delete(note=withdrawn)

    progress_record(user=member, session=session, passages=passages[:5], last_passage=passages[4])
    progress_record(user=leaver, session=session, passages=[doomed], last_passage=doomed)
    progress_record(user=other_member, session=session, passages=[])
    membership_end(membership=Membership.objects.get(group=group, user=leaver), leaving=True)
    text_revise(
        text=essay,
        created_by=facilitator,
        content=essay.full_text.replace(
            "October stands as such a towering achievement",
            "October stands, as we shall see, as such a towering achievement",
        ).replace(
            "Stalin also spells out the international dimensions of this relationship between worker and peasant.\n\n",
            "",
        ),
    )
    # The kick-off has happened by now (it started two seconds after it was made).
    Session.objects.filter(pk=past.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    past.refresh_from_db()
    attendance_set(session=past, marked_by=organizer, present=[member.pk, facilitator.pk])
    return Populated(
        group=group,
        organizer=organizer,
        facilitator=facilitator,
        member=member,
        other_member=other_member,
        essay=essay,
        session=session,
        past=past,
        private_note=private_note,
    )
