"""A held session and the one after it, for the after-session summary (readings.summary, its email, page and pack).

The held session ended half an hour before `now`. Its reading has answers and
follow-ups of every audience, so two recipients see different summaries:

- question 1 has group answers (two marked helpful), a facilitators-only one,
  a private one and a hidden one; question 2 has none; a proposal has no number;
- follow-ups: a group one, a facilitators-only one and a private one (the
  member's own), plus a group note that is not tagged follow-up.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from readings.models import DiscussionQuestion, Note, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create, note_mark_helpful, note_set_hidden
from readings.services.questions import question_create
from sessions_app.models import Session, User
from sessions_app.services.schedule import session_create

from ..factories import MembershipFactory, UserFactory

CONTENT = "Title line\n\n" + "\n\n".join(f"Paragraph {n} says one two three four five." for n in range(1, 7))

ANSWER_TOP = "The claim is that power follows the soviets."
ANSWER_SECOND = "Maybe it is about the peasants."
ANSWER_FACILITATORS = "Facilitators only: steer to the 1905 preface."
ANSWER_PRIVATE = "My private answer nobody else reads."
ANSWER_HIDDEN = "A hidden answer the organizer took down."
ANSWER_PLAIN = "Also the workers' councils."
FOLLOW_GROUP = "Look up the 1905 preface before next time."
FOLLOW_FACILITATORS = "Bring the timeline handout."
FOLLOW_PRIVATE = "Private follow-up of my own."
NOT_FOLLOW = "An ordinary remark."


@dataclass
class Circle:
    held: Session
    upcoming: Session
    text: Text
    second: User
    first_question: DiscussionQuestion
    second_question: DiscussionQuestion
    notes: dict[str, Note]


def build_circle(world, *, now: datetime) -> Circle:
    """The held session (ended 30 minutes before `now`), its notes, and the next session with its reading."""
    group = world.group
    second = UserFactory(username="second", display_name="Second Reader", email="second@example.org")
    MembershipFactory(group=group, user=second)
    held = session_create(
        group=group,
        title="October, week two",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(minutes=30),
        timezone="Europe/London",
        facilitators=[world.facilitator],
    )
    upcoming = session_create(
        group=group,
        title="October, week three",
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=7, hours=2),
        timezone="Europe/London",
    )
    text = text_import(group=group, created_by=world.organizer, content=CONTENT, title="Ten Days")
    passage = {p.position: p for p in text.passages.all()}
    assignment_create(session=held, text=text, start_passage=passage[2], end_passage=passage[4])
    assignment_create(session=upcoming, text=text, start_passage=passage[5], end_passage=passage[7])
    question_create(session=held, author=second, prompt="A proposal nobody accepted?", propose=True)
    first = question_create(session=held, author=world.organizer, prompt="What is the main claim?")
    second_question = question_create(session=held, author=world.organizer, prompt="What follows from it?")

    def note(author, body, visibility="group", *, at=2, **fields) -> Note:
        return note_create(author=author, passage=passage[at], body=body, visibility=visibility, **fields)

    notes = {
        "top": note(world.member, ANSWER_TOP, question=first),
        "second": note(second, ANSWER_SECOND, question=first),
        "facilitators": note(world.facilitator, ANSWER_FACILITATORS, "facilitators", question=first),
        "private": note(world.member, ANSWER_PRIVATE, "private", question=first),
        "hidden": note(second, ANSWER_HIDDEN, question=first),
        "plain": note(world.organizer, ANSWER_PLAIN, question=first),
        "follow_group": note(second, FOLLOW_GROUP, at=3, tags=["follow-up"]),
        "follow_facilitators": note(world.facilitator, FOLLOW_FACILITATORS, "facilitators", at=4, tags=["follow-up"]),
        "follow_private": note(world.member, FOLLOW_PRIVATE, "private", at=3, tags=["follow-up"]),
        "not_follow": note(second, NOT_FOLLOW, at=3, tags=["question"]),
    }
    for marker in (world.organizer, world.facilitator):
        note_mark_helpful(note=notes["top"], user=marker)
    note_mark_helpful(note=notes["second"], user=world.member)
    note_set_hidden(note=notes["hidden"], hidden=True, by=world.organizer)
    return Circle(held, upcoming, text, second, first, second_question, notes)
