"""The session pack: what one person may see of a session, in one plain dict.

Built from a fixed number of flat queries, whatever the number of passages,
notes or questions, and shaped exactly as DESIGN.md's contract: the readings,
passages and notes are the read model of `readings.reading_model`
(`session_reading`, shared with the reader page), presented as plain dicts.
`pack_version` is a key over what this user can see, read from counters on
the rows a request loads anyway (`sessions_app.versions`); it is the ETag, so
a 304 never builds the pack and costs no query of its own.
"""

import gc
import hashlib
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db.models import Value
from django.http import Http404

from core.compiled import CompiledQuery
from sessions_app.enums import SessionStatus
from sessions_app.models import Membership, Session, StudyGroup, User
from sessions_app.rules import facilitates
from sessions_app.versions import version_parts

from ..brief import facilitator_brief
from ..enums import QuestionState
from ..models import DiscussionQuestion
from ..reading_model import (
    NoteView,
    ReadingView,
    person_name,
    reading_ranges,
    readings_of_sessions,
    session_reading,
    visible_session_notes,
)
from ..summary import (
    ATTENDEE_COLUMNS,
    PREVIOUS_COLUMNS,
    load_previous,
    present_at,
    previous_from,
    previous_summary,
    with_previous,
)

# Bump when the pack's shape or any format's rendering changes, so caches and
# ETags from before do not outlive it. (6: overlapping readings show a passage once; 7: the previous session's summary.)
PACK_FORMAT = 7


_UNLOADED = object()


class PackScope:
    """Whose pack, of which session: shared by the version and the pack.

    `previous`: the group's session before this one, whose summary the pack shows (`summary.with_previous`),
    or None; read with the scope (`access_pack_scope`) or, for a scope made from loaded rows, when first asked.
    """

    def __init__(self, *, user: User, session: Session, membership: Membership, previous=_UNLOADED) -> None:
        self.user, self.session, self.membership = user, session, membership
        self._previous = previous

    @property
    def previous(self) -> Session | None:
        if self._previous is _UNLOADED:
            self._previous = load_previous(self.session)
        return self._previous


def pack_scope(*, user: User, session: Session, membership: Membership) -> PackScope:
    """The scope of `user`'s pack of `session` (loaded with its group); the previous session is read when asked."""
    return PackScope(user=user, session=session, membership=membership)


_SESSION_FIELDS = [field.attname for field in Session._meta.concrete_fields]
_GROUP_FIELDS = [field.attname for field in StudyGroup._meta.concrete_fields]
_SCOPE_DB = "default"


@CompiledQuery
def _SCOPE(_shape, args):
    """Session `args[0]` with its group, the membership of user `args[1]` in it (as model fields' values) and
    the session before it (`summary.PREVIOUS_COLUMNS`)."""
    return (
        with_previous(Session.objects.filter(pk=args[0], group__memberships__user_id=args[1]), args[0])
        .order_by()
        .values_list(
            *_SESSION_FIELDS,
            *(f"group__{name}" for name in _GROUP_FIELDS),
            "group__memberships__id",
            "group__memberships__role",
            "group__memberships__personal_version",
            *PREVIOUS_COLUMNS,
        )
    )


def access_pack_scope(user: User, session_id: int | str) -> PackScope:
    """The scope of `user`'s pack of the session, in one indexed read (session, group, membership); else 404.

    The same rule as `sessions_app.selectors.access_session` (the user's groups; drafts only for
    those with facilitator rights), read together with the membership, whose counters the version needs,
    and the session before (whose summary the pack shows: its fields and counters are in the version);
    its SQL compiled once per process (`compiled`: the 304 and every pack request run it).
    """
    try:
        rows = _SCOPE.rows(None, [int(session_id), user.pk])
    except (TypeError, ValueError):
        raise Http404("No such session.") from None
    if len(rows) != 1:  # one membership per person and group
        raise Http404("No such session.")
    row = rows[0]
    sessions, groups = len(_SESSION_FIELDS), len(_GROUP_FIELDS)
    session = Session.from_db(_SCOPE_DB, _SESSION_FIELDS, row[:sessions])
    session.group = StudyGroup.from_db(_SCOPE_DB, _GROUP_FIELDS, row[sessions : sessions + groups])
    membership_id, role, personal_version = row[sessions + groups : sessions + groups + 3]
    membership = Membership(
        pk=membership_id, user=user, group=session.group, role=role, personal_version=personal_version
    )
    if session.status == SessionStatus.DRAFT and not facilitates(membership):
        raise Http404("No such session.")
    previous = previous_from(row[sessions + groups + 3 :], session)
    return PackScope(user=user, session=session, membership=membership, previous=previous)


def pack_version(scope: PackScope) -> str:
    """A short key that changes whenever anything in this user's pack changes: no query.

    It hashes the session's and group's own fields and the counters of
    `sessions_app.versions` (the user's role's counter on the session, their
    personal counter in the group), which every service raises in the
    transaction of a change to what the pack shows (`readings.pack.versions`),
    and the session before (its id, the fields its summary shows, its counter
    for the same role), read with the scope. Nobody else's private note, hidden
    note or facilitator notes move this person's counters, so the version
    cannot leak one.
    """
    parts = (
        PACK_FORMAT,
        *version_parts(session=scope.session, membership=scope.membership, previous=scope.previous),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def notes_version(scope: PackScope) -> str:
    """The key the live reader's poll answers 304 under, and the reader page starts from (no query).

    The pack's version without the session before (the reader shows no summary): it changes with
    every note this user may see (and with anything else of the session the pack shows, which costs
    the poll one small fetch); nobody else's private note can change it.
    """
    parts = (PACK_FORMAT, "notes", *version_parts(session=scope.session, membership=scope.membership))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def live_notes(scope: PackScope) -> list[dict]:
    """The notes this user may see in the session's readings, one small row each, for the live reader.

    The page compares them with the notes it shows: ids it lacks are new, and
    `mine` tells which of those the reader wrote themself (already on their page).
    """
    readings = reading_ranges(scope.session.pk)
    rows = (
        visible_session_notes(scope.user, scope.membership, readings)
        .order_by("created_at", "id")
        .values_list("id", "passage_id", "parent_id", "author_id", "highlight", "deleted_at", "updated_at")
    )
    return [
        {
            "id": note_id,
            "passage": passage_id,
            "parent": parent_id,
            "mine": author_id == scope.user.pk,
            "highlight": highlight,
            "deleted": deleted_at is not None,
            "updated_at": _iso(updated_at),
        }
        for note_id, passage_id, parent_id, author_id, highlight, deleted_at, updated_at in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


_FACILITATOR, _ATTENDEE = 0, 1


# The pack's own small queries, compiled once per process (`compiled`): the ORM took longer than PostgreSQL.
@CompiledQuery
def _PEOPLE(with_attendees, args):
    """The people a pack names, one query: the facilitators of session `args[0]` (in the order
    `session.facilitators` reads them) and, `with_attendees`, who came to the session before it, `args[1]`, in
    group `args[2]` (`summary.present_at`). Rows (kind, then `ATTENDEE_COLUMNS`), a UNION ALL of the two."""
    facilitators = (
        User.objects.filter(facilitated_sessions__id=args[0])
        .order_by()
        .annotate(kind=Value(_FACILITATOR))
        .values_list("kind", *ATTENDEE_COLUMNS)
    )
    if not with_attendees:
        return facilitators
    attendees = present_at(args[1], args[2]).annotate(kind=Value(_ATTENDEE)).values_list("kind", *ATTENDEE_COLUMNS)
    return facilitators.union(attendees, all=True)


def _people_of(session: Session, previous: Session | None) -> tuple[list[tuple], list[tuple] | None]:
    """(the session's facilitators, who came to `previous`, None without one), as `ATTENDEE_COLUMNS`."""
    if previous is None:
        rows = _PEOPLE.rows(False, [session.pk])
    else:
        rows = _PEOPLE.rows(True, [session.pk, previous.pk, previous.group_id])
    facilitators = [row[1:] for row in rows if row[0] == _FACILITATOR]
    return facilitators, None if previous is None else [row[1:] for row in rows if row[0] == _ATTENDEE]


@CompiledQuery
def _QUESTIONS(_shape, args):
    """The accepted questions of the sessions `args` (the pack's, and the one before it for its summary), one row
    per passage each asks about (a question about none: one row, its passage None), those in reading order."""
    return (
        DiscussionQuestion.objects.filter(session_id__in=list(args), state=QuestionState.ACCEPTED)
        .order_by("position", "id", "passages__text_id", "passages__position")
        .values_list("session_id", "id", "position", "prompt", "kind", "minutes", "facilitator_notes", "passages__id")
    )


def _questions_of(session_ids: list[int]) -> dict[int, list[tuple]]:
    """Each session's accepted questions in order: (id, position, prompt, kind, minutes, facilitator notes,
    [passage ids]). One query."""
    by_session: dict[int, list[tuple]] = {pk: [] for pk in session_ids}
    passages: dict[int, list[int]] = {}
    for session_id, question_id, *row, passage_id in _QUESTIONS.rows(None, session_ids):
        if question_id not in passages:
            passages[question_id] = []
            by_session[session_id].append((question_id, *row, passages[question_id]))
        if passage_id is not None:
            passages[question_id].append(passage_id)
    return by_session


def _session_part(session: Session, facilitators: list[tuple]) -> dict:
    return {
        "id": session.pk,
        "title": session.title,
        "description": session.description,
        "starts_at": _iso(session.starts_at),
        "ends_at": _iso(session.ends_at),
        "timezone": session.timezone,
        "location": session.location,
        "online_url": session.online_url,
        "status": session.status,
        "facilitators": [{"id": row[0], "name": person_name(*row[1:])} for row in facilitators],
    }


def _note(note: NoteView) -> dict:
    """A NOTE of the contract, its replies nested."""
    return {
        "id": note.id,
        "author": None if note.deleted else {"id": note.author_id, "name": note.author_name},
        "body": note.body,
        "body_html": note.body_html,
        "mentions": note.mentions,
        "visibility": note.visibility,
        "selector": note.selector,
        "anchor_state": note.anchor_state,
        "question": note.question_id,
        "tags": note.tags,
        "hidden": note.hidden,
        "highlight": note.highlight,
        "helpful_count": note.helpful_count,
        "replies": [_note(reply) for reply in note.replies] if note.replies else [],
    }


def _reading(reading: ReadingView) -> dict:
    text = reading.text
    return {
        "text": {"id": text.id, "title": text.title, "author": text.author, "source": text.source},
        "required": reading.required,
        "instructions": reading.instructions,
        "reading_minutes": reading.reading_minutes,
        "passages": [
            {
                "id": passage.id,
                "anchor": passage.anchor,
                "position": passage.position,
                "kind": passage.kind,
                "section": passage.section,
                "body": passage.body,
                "footnotes": passage.footnotes,
                "notes": [_note(note) for note in passage.notes],
            }
            for passage in reading.passages
        ],
        "orphaned_notes": [_note(note) for note in reading.orphaned_notes],
    }


@contextmanager
def _no_cycle_collection():
    """Hold the cyclic garbage collector off while a pack is built.

    A large pack makes tens of thousands of dicts and lists, none of them in a
    cycle; each 700 allocations would start a collection that walks the whole
    process's objects again (a sixth of the build's CPU with 2,000 notes).
    Reference counting still frees everything; the collector runs after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_pack(scope: PackScope, *, version: str | None = None) -> dict:
    """The whole pack for the scope's user, as DESIGN.md's contract describes it."""
    with _no_cycle_collection():
        return _build_pack(scope, version=version)


def _build_pack(scope: PackScope, *, version: str | None) -> dict:
    session, previous = scope.session, scope.previous
    # The session's readings and questions, and the previous one's for its summary: one query each.
    sessions = [session.pk] if previous is None else [session.pk, previous.pk]
    readings_of = readings_of_sessions(sessions)
    questions_of = _questions_of(sessions)
    facilitators, attendees = _people_of(session, previous)
    reading = session_reading(scope.user, scope.membership, session.pk, readings=readings_of.get(session.pk, []))
    readings = [_reading(one) for one in reading.readings]

    facilitator_rights = facilitates(scope.membership)
    questions = []
    columns = ("id", "position", "prompt", "kind", "minutes", "facilitator_notes", "passages")
    for number, values in enumerate(questions_of[session.pk], start=1):
        row = dict(zip(columns, values, strict=True))
        question = {
            "id": row["id"],
            "number": number,  # its rank among the accepted questions, as everywhere (`selectors.number_questions`)
            "position": row["position"],
            "prompt": row["prompt"],
            "kind": row["kind"],
            "passages": row["passages"],
            "minutes": row["minutes"],
        }
        if facilitator_rights:
            question["facilitator_notes"] = row["facilitator_notes"]
        questions.append(question)

    group = session.group
    pack = {
        "session": _session_part(session, facilitators),
        "group": {"id": group.pk, "name": group.name, "slug": group.slug, "timezone": group.timezone},
        "readings": readings,
        "questions": questions,
        "reading_minutes": sum(reading["reading_minutes"] for reading in readings),
        "generated_at": _iso(datetime.now(UTC)),
        "version": version or pack_version(scope),
    }
    if facilitator_rights:
        pack["brief"] = facilitator_brief(scope.user, scope.membership, session, reading=reading)
    # The group's session before this one, as this person may see it (readings.summary); absent when none.
    summary = previous_summary(
        scope.user,
        scope.membership,
        session,
        previous=previous,
        readings=reading.readings,
        previous_readings=None if previous is None else readings_of.get(previous.pk, []),
        previous_questions=None if previous is None else [(row[0], row[2]) for row in questions_of[previous.pk]],
        previous_attendees=attendees,
    )
    if summary is not None:
        pack["previous_summary"] = summary
    return pack
