"""The pack's version covers exactly what the pack shows, for each role.

A walk through every kind of change a pack can show, each made the way the
product makes it (the services): after each one, for each viewer, the
version changed if and only if their pack changed. At the end, every field
the pack shows (by path, e.g. `group.slug`, `readings.passages.notes.tags`)
must have changed in at least one step, so a field the version does not
cover cannot hide: adding a field to the pack without a step here fails.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from readings.models import Note, Passage
from readings.pack.builder import access_pack_scope, build_pack, notes_version, pack_scope, pack_version
from readings.services.assignments import assignment_create, assignment_update
from readings.services.importing import text_import, text_revise, text_update
from readings.services.notes import (
    note_create,
    note_delete,
    note_mark_helpful,
    note_set_hidden,
    note_unmark_helpful,
    note_update,
)
from readings.services.progress import progress_record
from readings.services.questions import (
    question_create,
    question_decide,
    question_delete,
    question_update,
    questions_reorder,
)
from sessions_app.models import Session, StudyGroup
from sessions_app.selectors import access_session, membership_for
from sessions_app.services.accounts import profile_update
from sessions_app.services.groups import group_update, membership_add, membership_end
from sessions_app.services.schedule import attendance_set, session_cancel, session_create, session_update

from ..factories import MembershipFactory, SessionFactory, UserFactory
from .documents import MANIFESTO_HTML

pytestmark = pytest.mark.django_db

VIEWERS = ("member", "member_b", "facilitator", "organizer")
# Fields no change can reach: ids, and what every build stamps anew.
UNCHANGEABLE = {"generated_at", "version"}


def leaves(value, path: str = "", found: dict | None = None, at: str = "") -> dict[str, object]:
    """Every leaf of the pack by its place (`readings[0].passages[3].body`), and empty lists as leaves."""
    found = {} if found is None else found
    if isinstance(value, dict):
        for key, inner in value.items():
            leaves(inner, f"{path}.{key}" if path else key, found, f"{at}.{key}" if at else key)
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            leaves(inner, path, found, f"{at}[{index}]")
    else:
        found[at] = (path, value)
    return found


def changed_fields(before: dict, after: dict) -> set[str]:
    """The field paths (without list indices) whose value differs somewhere between two packs."""
    old, new = leaves(before), leaves(after)
    return {
        (old.get(place) or new.get(place))[0] for place in old.keys() | new.keys() if old.get(place) != new.get(place)
    }


def field_paths(pack: dict) -> set[str]:
    """The pack's field paths, ids and build stamps left out."""
    return {path for path, _ in leaves(pack).values() if path.split(".")[-1] not in {"id", *UNCHANGEABLE}}


def view(user, session_id: int) -> tuple[str, dict]:
    """The user's version and pack as a request would build them now (fresh rows).

    The version read with a request's scope (`access_pack_scope`, the session before in the same read) must be
    the one made from loaded rows (`pack_scope`, which reads the session before when asked), and the pack the same.
    """
    session = access_session(user, session_id)
    scope = pack_scope(user=user, session=session, membership=membership_for(user, session.group_id))
    version = pack_version(scope)
    pack = build_pack(scope, version=version)
    requested = access_pack_scope(user, session_id)
    assert pack_version(requested) == version
    assert {**build_pack(requested, version=version), "generated_at": None} == {**pack, "generated_at": None}
    return version, {key: value for key, value in pack.items() if key not in UNCHANGEABLE}


def edited_manifesto() -> bytes:
    """The manifesto with a heading, a footnote, a quoted phrase and a paragraph's kind changed, and one added."""
    html = MANIFESTO_HTML.read_text()
    for old, new in (
        ('roman">II</h2>', 'roman">Two</h2>'),
        ("Guild-master, that is,", "Guild-master, which is to say,"),
        ("Freeman and slave, patrician", "Citizen and slave, patrician"),
        (
            "<p>Two things result from this fact:</p>",
            "<p>A paragraph the editor added.</p><blockquote><p>Two things result from this fact:</p></blockquote>",
        ),
    ):
        assert old in html
        html = html.replace(old, new)
    return html.encode()


@pytest.fixture
def people(world):
    member_b = UserFactory(username="member_b")
    MembershipFactory(group=world.group, user=member_b)
    return {
        "member": world.member,
        "member_b": member_b,
        "facilitator": world.facilitator,
        "organizer": world.organizer,
    }


def test_the_version_changes_exactly_when_the_pack_does_and_covers_every_field(world, people):
    member, member_b, facilitator, organizer = (people[name] for name in VIEWERS)
    manifesto = text_import(
        group=world.group, created_by=organizer, data=MANIFESTO_HTML.read_bytes(), filename="manifesto.html"
    )
    passages = list(manifesto.passages.order_by("position"))
    freeman = manifesto.passages.get(body__startswith="Freeman and slave")
    history = manifesto.passages.get(body__startswith="The history of all")
    reading = assignment_create(
        session=world.session, text=manifesto, start_passage=passages[1], end_passage=passages[-3]
    )
    first = question_create(
        session=world.session,
        author=organizer,
        prompt="Who are the classes?",
        passages=[freeman],
        minutes=10,
        facilitator_notes="Start with Rome.",
    )
    second = question_create(session=world.session, author=organizer, prompt="What is an epoch?")
    quoted = {"start": 0, "end": 17, "exact": "Freeman and slave"}
    pairs = note_create(
        author=member, passage=freeman, body="Pairs.", visibility="group", selector=quoted, tags=["class"]
    )
    ada, gus = UserFactory(username="ada", display_name="Ada"), UserFactory(username="gus", display_name="Gus")
    MembershipFactory(group=world.group, user=ada)
    gone = MembershipFactory(group=world.group, user=gus)
    reply = note_create(author=facilitator, passage=freeman, body="And *guilds*, as @gus said.", parent=pairs)
    note_create(author=gus, passage=history, body="Gus was here.", visibility="group")
    membership_end(membership=gone, leaving=True)  # the reply still shows his mention, by his name
    solo = note_create(author=member, passage=history, body="All of it?", visibility="group", question=first)
    note_create(author=member, passage=history, body="For the facilitators.", visibility="facilitators")
    note_create(author=member_b, passage=history, body="B's own.", visibility="private")
    note_create(author=member_b, passage=freeman, body="Orphaned by the revision.", visibility="group", selector=quoted)
    marked = {"start": 19, "end": 28, "exact": "patrician"}
    highlight = note_create(
        author=member_b, passage=freeman, body="", visibility="group", selector=marked, highlight=True
    )
    start = world.session.starts_at
    newcomer = UserFactory(username="newcomer")
    other_session = SessionFactory(group=world.group, title="Week two")
    assignment_create(session=other_session, text=manifesto, start_passage=freeman, end_passage=freeman)
    optional_passage = passages[-2]
    assignment_create(
        session=world.session,
        text=manifesto,
        start_passage=optional_passage,
        end_passage=optional_passage,
        required=False,
    )

    steps = {
        # The facilitator's brief (facilitators' packs only): proposals, progress, members.
        "another proposal": lambda: question_create(session=world.session, author=member, prompt="How?", propose=True),
        "a proposal reworded": lambda: question_update(
            question=world.session.questions.get(prompt="How?"), prompt="How so?"
        ),
        "a proposal rejected": lambda: question_decide(
            question=world.session.questions.get(prompt="How so?"), accept=False
        ),
        "a rejected question deleted": lambda: question_delete(question=world.session.questions.get(prompt="How so?")),
        "a third proposal": lambda: question_create(session=world.session, author=member, prompt="Gone?", propose=True),
        "a proposal deleted": lambda: question_delete(question=world.session.questions.get(prompt="Gone?")),
        "a member opens the reading": lambda: progress_record(user=member_b, session=world.session, passages=[]),
        "a member reads a passage": lambda: progress_record(user=member_b, session=world.session, passages=[history]),
        "the same passage again": lambda: progress_record(user=member_b, session=world.session, passages=[history]),
        "a passage of an optional reading": lambda: progress_record(
            user=member_b, session=world.session, passages=[optional_passage]
        ),
        "a passage read for another session": lambda: progress_record(
            user=member, session=other_session, passages=[freeman]
        ),
        "a member joins": lambda: membership_add(group=world.group, user=newcomer),
        "a member leaves": lambda: membership_end(membership=newcomer.memberships.get(), leaving=True),
        "progress as totals only": lambda: group_update(group=world.group, member_progress_visible=False),
        "session title": lambda: session_update(session=world.session, title="October, week two"),
        "session description": lambda: session_update(session=world.session, description="Bring the text."),
        "session times": lambda: session_update(
            session=world.session, starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=3)
        ),
        "session timezone": lambda: session_update(session=world.session, timezone="Europe/Paris"),
        "session place": lambda: session_update(
            session=world.session, location="Library", online_url="https://meet.example.org/x"
        ),
        "session facilitators": lambda: session_update(
            session=world.session, facilitators=[facilitator.pk, organizer.pk]
        ),
        "group name": lambda: group_update(group=world.group, name="Wednesday Readers"),
        "group timezone": lambda: group_update(group=world.group, timezone="Asia/Tokyo"),
        # The slug changes only in the admin, which writes the row; the version reads the row.
        "group slug": lambda: StudyGroup.objects.filter(pk=world.group.pk).update(slug="wednesday-readers"),
        "text details": lambda: text_update(
            text=manifesto, title="The Manifesto", author="Marx & Engels", source="London, 1888"
        ),
        "reading details": lambda: assignment_update(assignment=reading, required=False, instructions="Skim."),
        "facilitator notes": lambda: question_update(question=first, facilitator_notes="Start with the guilds."),
        "question wording": lambda: question_update(question=first, prompt="Which classes?", kind="opening"),
        "question minutes and passages": lambda: question_update(question=second, minutes=5, passages=[history]),
        "question order": lambda: questions_reorder(session=world.session, order=[second.pk, first.pk]),
        "a proposal": lambda: question_create(session=world.session, author=member_b, prompt="Why?", propose=True),
        "a proposal accepted": lambda: question_decide(
            question=world.session.questions.get(prompt="Why?"), accept=True
        ),
        "note body": lambda: note_update(note=pairs, body="Pairs of *opposites*."),
        "a mention": lambda: note_update(note=pairs, body="Pairs of *opposites*, as @ada says."),
        "mentioned member's name": lambda: profile_update(user=ada, display_name="Ada Lovelace"),
        "name of a member who left (an author, mentioned)": lambda: profile_update(user=gus, display_name="Gustave"),
        "note quote": lambda: note_update(note=pairs, selector={"start": 0, "end": 7, "exact": "Freeman"}),
        "note tags": lambda: note_update(note=pairs, tags=["class", "rome"]),
        "note answers a question": lambda: note_update(note=pairs, question=second),
        "note audience": lambda: note_update(note=solo, visibility="private"),
        "a helpful mark": lambda: note_mark_helpful(note=pairs, user=member_b),
        "a helpful mark taken back": lambda: note_unmark_helpful(note=pairs, user=member_b),
        "a highlight given words": lambda: note_update(note=highlight, body="Patricians too."),
        "a reply": lambda: note_create(author=organizer, passage=freeman, body="Yes.", parent=reply),
        "a private note": lambda: note_update(note=Note.objects.get(body="B's own."), body="B's own, edited."),
        "a facilitators note": lambda: note_update(
            note=Note.objects.get(body="For the facilitators."), body="For the facilitators, edited."
        ),
        "a hidden note": lambda: note_set_hidden(note=reply, hidden=True, by=organizer),
        "shown again": lambda: note_set_hidden(note=reply, hidden=False, by=organizer),
        "author's name": lambda: profile_update(user=member, display_name="Ada"),
        "facilitator's name": lambda: profile_update(user=facilitator, display_name="Fran"),
        "a deleted note with replies": lambda: note_delete(note=pairs),
        "a revision": lambda: text_revise(
            text=manifesto, created_by=organizer, data=edited_manifesto(), filename="manifesto.html"
        ),
        "reading range": lambda: assignment_update(assignment=reading, end_passage=passages[12]),
        "session cancelled": lambda: session_cancel(session=world.session),
    }

    views = {name: view(people[name], world.session.pk) for name in VIEWERS}
    every_field = set().union(*(field_paths(pack) for _, pack in views.values()))
    covered: set[str] = set()
    wrong = []
    for label, step in steps.items():
        step()
        world.session.refresh_from_db()
        world.group.refresh_from_db()
        after = {name: view(people[name], world.session.pk) for name in VIEWERS}
        for name in VIEWERS:
            (old_version, old_pack), (new_version, new_pack) = views[name], after[name]
            fields = changed_fields(old_pack, new_pack)
            covered |= fields
            if (old_version != new_version) != bool(fields):
                wrong.append(
                    f"{label}: {name}'s pack changed {sorted(fields)}, version changed: {old_version != new_version}"
                )
        views = after

    assert wrong == [], "\n".join(wrong)
    assert every_field - covered == set()
    # Inputs only facilitators may see moved only their versions, as checked above; and the walk reached them.
    assert Passage.objects.filter(text=manifesto, retired=False).count() > len(passages)


def test_the_version_covers_the_summary_of_the_previous_session_exactly(world, people):
    """The next session's pack shows the previous one's summary: each change to what that shows (who came, its
    questions, answers and follow-ups, its title and time, the group's setting) moves the version of exactly those
    whose pack changed, and every field of the section is reached."""
    member, member_b, facilitator, organizer = (people[name] for name in VIEWERS)
    now = timezone.now()
    previous = session_create(
        group=world.group,
        title="October, week zero",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        facilitators=[facilitator],
    )
    content = "Title line\n\n" + "\n\n".join(f"Paragraph {n} of the essay." for n in range(1, 7))
    text = text_import(group=world.group, created_by=organizer, content=content, title="Ten Days")
    passage = {p.position: p for p in text.passages.all()}
    assignment_create(session=previous, text=text, start_passage=passage[2], end_passage=passage[4])
    upcoming = assignment_create(session=world.session, text=text, start_passage=passage[5], end_passage=passage[7])
    first = question_create(session=previous, author=organizer, prompt="What happened?")
    answer = note_create(author=member_b, passage=passage[2], body="Because.", visibility="group", question=first)
    when = previous.starts_at

    steps = {
        "attendance marked": lambda: attendance_set(session=previous, marked_by=facilitator, present=[member.pk]),
        "an attendee's name": lambda: profile_update(user=member, display_name="Ada"),
        "an answer": lambda: note_create(
            author=member, passage=passage[3], body="Hunger.", visibility="group", question=first
        ),
        "a helpful mark": lambda: note_mark_helpful(note=answer, user=facilitator),
        "an answer edited": lambda: note_update(note=answer, body="Because of *bread*."),
        "a facilitators follow-up": lambda: note_create(
            author=facilitator, passage=passage[4], body="Bring maps.", visibility="facilitators", tags=["follow-up"]
        ),
        "a facilitators answer": lambda: note_create(
            author=facilitator, passage=passage[2], body="Steer.", visibility="facilitators", question=first
        ),
        "a follow-up tag": lambda: note_update(note=answer, tags=["follow-up"]),
        "a helpful mark taken back": lambda: note_unmark_helpful(note=answer, user=facilitator),
        "an answer hidden": lambda: note_set_hidden(note=answer, hidden=True, by=organizer),
        "a question added": lambda: question_create(session=previous, author=organizer, prompt="And then?"),
        "a question reworded": lambda: question_update(question=first, prompt="What happened first?"),
        "a question deleted": lambda: question_delete(question=previous.questions.get(prompt="And then?")),
        "an answer deleted": lambda: note_delete(note=Note.objects.get(body="Hunger.")),
        "the previous session's title": lambda: session_update(session=previous, title="October, week one"),
        "the previous session's time": lambda: session_update(
            session=previous, starts_at=when - timedelta(hours=1), ends_at=when
        ),
        "the previous session's timezone": lambda: session_update(session=previous, timezone="Europe/Paris"),
        "the group shows counts": lambda: group_update(group=world.group, summary_attendance="counts"),
        "the next reading": lambda: assignment_update(assignment=upcoming, required=False),
        "the next reading's text": lambda: text_update(text=text, title="Ten Days That Shook", author="Reed"),
        "a session in between": lambda: session_create(
            group=world.group,
            title="October, week one and a half",
            starts_at=now - timedelta(minutes=30),
            ends_at=now - timedelta(minutes=10),
        ),
        "the session in between cancelled": lambda: session_cancel(
            session=Session.objects.get(title="October, week one and a half")
        ),
        "the previous session cancelled": lambda: session_cancel(session=previous),
    }

    views = {name: view(people[name], world.session.pk) for name in VIEWERS}
    seen: set[str] = set()
    covered: set[str] = set()
    wrong = []
    for label, step in steps.items():
        step()
        previous.refresh_from_db()
        after = {name: view(people[name], world.session.pk) for name in VIEWERS}
        for name in VIEWERS:
            (old_version, old_pack), (new_version, new_pack) = views[name], after[name]
            fields = changed_fields(old_pack, new_pack)
            covered |= fields
            seen |= field_paths(old_pack)
            if (old_version != new_version) != bool(fields):
                wrong.append(
                    f"{label}: {name}'s pack changed {sorted(fields)}, version changed: {old_version != new_version}"
                )
        views = after

    assert wrong == [], "\n".join(wrong)
    summary_fields = {path for path in seen if path.startswith("previous_summary.")}
    assert "previous_summary.attendance.names" in summary_fields
    assert summary_fields - covered == set()


@pytest.mark.parametrize(
    ("note", "moves"),
    [
        ("his private note", set()),
        ("his note for the facilitators", {"facilitator", "organizer"}),
        ("an organizer's private note mentioning him", {"organizer"}),
        ("his note for the group", set(VIEWERS)),
    ],
)
def test_a_former_members_new_name_moves_only_the_versions_of_those_shown_his_notes(world, people, note, moves):
    """Renaming someone who left the group moves a pack's version only where a note showing his name reaches
    that viewer: a private or facilitators-only note he wrote must not tell the members, by their ETag, that it
    exists."""
    content = "Title line\n\n" + "\n\n".join(f"Paragraph {n} of the essay." for n in range(1, 4))
    text = text_import(group=world.group, created_by=world.organizer, content=content, title="Ten Days")
    passage = text.passages.get(position=2)
    assignment_create(session=world.session, text=text, start_passage=passage, end_passage=text.passages.last())
    gus = UserFactory(username="gus", display_name="Gus")
    gone = MembershipFactory(group=world.group, user=gus)
    writes = {
        "his private note": lambda: note_create(author=gus, passage=passage, body="Mine.", visibility="private"),
        "his note for the facilitators": lambda: note_create(
            author=gus, passage=passage, body="For you.", visibility="facilitators"
        ),
        "an organizer's private note mentioning him": lambda: note_create(
            author=world.organizer, passage=passage, body="Ask @gus.", visibility="private"
        ),
        "his note for the group": lambda: note_create(author=gus, passage=passage, body="Ours.", visibility="group"),
    }
    writes[note]()
    membership_end(membership=gone, leaving=True)
    before = {name: view(people[name], world.session.pk) for name in VIEWERS}

    profile_update(user=gus, display_name="Gustave")

    after = {name: view(people[name], world.session.pk) for name in VIEWERS}
    shown = {name for name in VIEWERS if changed_fields(before[name][1], after[name][1])}
    moved = {name for name in VIEWERS if before[name][0] != after[name][0]}
    assert (shown, moved) == (moves, moves)


def test_a_change_in_the_previous_session_raises_its_own_counters_and_moves_the_next_pack_by_the_scope(world, people):
    """A note in the session before raises that session's counters only (one UPDATE, no subquery over the later
    sessions): the next session's pack version moves through the scope's read of the session before, for the roles
    that see the note there, and the live reader's version of the next session (no summary) does not move."""
    member, facilitator = people["member"], people["facilitator"]
    now = timezone.now()
    previous = session_create(
        group=world.group, title="Week zero", starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )
    content = "Title line\n\n" + "\n\n".join(f"Paragraph {n} of the essay." for n in range(1, 4))
    text = text_import(group=world.group, created_by=world.organizer, content=content, title="Ten Days")
    passage = text.passages.get(position=2)
    assignment_create(session=previous, text=text, start_passage=passage, end_passage=passage)
    question = question_create(session=previous, author=world.organizer, prompt="Why?")

    def state():
        counters = Session.objects.filter(pk=world.session.pk).values_list(
            "members_version", "facilitators_version", "organizers_version"
        )
        return (
            counters.get(),
            {name: pack_version(access_pack_scope(people[name], world.session.pk)) for name in VIEWERS},
            notes_version(access_pack_scope(member, world.session.pk)),
        )

    before = state()
    with CaptureQueriesContext(connection) as captured:
        note_create(author=facilitator, passage=passage, body="Steer.", visibility="facilitators", question=question)
    between = state()
    note_create(author=member, passage=passage, body="Because.", visibility="group", question=question)
    after = state()

    updates = [query["sql"] for query in captured if query["sql"].startswith('UPDATE "sessions_app_session"')]
    assert len(updates) == 1
    assert "SELECT" not in updates[0]
    assert between[0] == after[0] == before[0]  # the next session's own counters never moved
    assert {name for name in VIEWERS if between[1][name] != before[1][name]} == {"facilitator", "organizer"}
    assert {name for name in VIEWERS if after[1][name] != between[1][name]} == set(VIEWERS)
    assert before[2] == between[2] == after[2]
    assert [
        answer["body"]
        for answer in build_pack(access_pack_scope(facilitator, world.session.pk))["previous_summary"]["questions"][0][
            "answers"
        ]
    ] == ["Steer.", "Because."]
