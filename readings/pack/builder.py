"""The session pack: what one person may see of a session, in one plain dict.

Built from a fixed number of flat queries (`values()`), whatever the number of
passages, notes or questions, and shaped exactly as DESIGN.md's contract.
`pack_version` is a key over what this user can see, read from counters on
the rows a request loads anyway (`sessions_app.versions`); it is the ETag, so
a 304 never builds the pack and costs no query of its own.
"""

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from functools import cached_property

import orjson
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.http import Http404

from sessions_app.enums import SessionStatus
from sessions_app.models import Membership, Session, User
from sessions_app.rules import facilitates
from sessions_app.versions import version_parts

from ..brief import facilitator_brief
from ..enums import AnchorState, NoteVisibility, QuestionState
from ..mentions import html_with_mention_names, mention_map
from ..models import DiscussionQuestion, NoteMention, NoteTag, Passage, ReadingAssignment, Text
from ..selectors import notes_visible_to

# Bump when the pack's shape or any format's rendering changes, so caches and
# ETags from before do not outlive it.
PACK_FORMAT = 5


class PackScope:
    """Whose pack, of which session, and which passage ranges it reads: shared by the version and the pack.

    The assignments load on first use (one query) and serve both the version and the pack.
    """

    def __init__(self, *, user: User, session: Session, membership: Membership) -> None:
        self.user, self.session, self.membership = user, session, membership

    @cached_property
    def assignments(self) -> list[dict]:
        return list(
            ReadingAssignment.objects.filter(session_id=self.session.pk)
            .order_by("position", "id")
            .values(
                "id",
                "text_id",
                "required",
                "instructions",
                "reading_minutes",
                "start_passage__position",
                "end_passage__position",
                "updated_at",
                "text__updated_at",
                "text__revision",
            )
        )

    def ranges(self, prefix: str = "") -> Q:
        """Passages inside the session's readings (by position, so inserted passages count)."""
        condition = Q(pk__in=[])
        for assignment in self.assignments:
            condition |= Q(
                **{
                    f"{prefix}text_id": assignment["text_id"],
                    f"{prefix}position__gte": assignment["start_passage__position"],
                    f"{prefix}position__lte": assignment["end_passage__position"],
                }
            )
        return condition


def pack_scope(*, user: User, session: Session, membership: Membership) -> PackScope:
    """The scope of `user`'s pack of `session` (loaded with its group)."""
    return PackScope(user=user, session=session, membership=membership)


def access_pack_scope(user: User, session_id: int | str) -> PackScope:
    """The scope of `user`'s pack of the session, in one indexed read (session, group, membership); else 404.

    The same rule as `sessions_app.selectors.access_session` (the user's groups; drafts only for
    those with facilitator rights), read together with the membership, whose counters the version needs.
    """
    try:
        session = (
            Session.objects.select_related("group")
            .filter(pk=int(session_id), group__memberships__user=user)
            .annotate(
                membership_id=F("group__memberships__id"),
                membership_role=F("group__memberships__role"),
                membership_version=F("group__memberships__personal_version"),
            )
            .get()
        )
    except (Session.DoesNotExist, TypeError, ValueError):
        raise Http404("No such session.") from None
    membership = Membership(
        pk=session.membership_id,
        user=user,
        group=session.group,
        role=session.membership_role,
        personal_version=session.membership_version,
    )
    if session.status == SessionStatus.DRAFT and not facilitates(membership):
        raise Http404("No such session.")
    return PackScope(user=user, session=session, membership=membership)


def pack_notes(scope: PackScope):
    """The notes of the session's readings that go in this user's pack: exactly those they may see.

    That includes their own hidden notes (the pack marks them), as DESIGN.md says.
    """
    visible = notes_visible_to(scope.user, membership=scope.membership)
    return visible.filter(scope.ranges("passage__"))


def pack_version(scope: PackScope) -> str:
    """A short key that changes whenever anything in this user's pack changes: no query.

    It hashes the session's and group's own fields and the counters of
    `sessions_app.versions` (the user's role's counter on the session, their
    personal counter in the group), which every service raises in the
    transaction of a change to what the pack shows (`readings.pack.versions`).
    Nobody else's private note, hidden note or facilitator notes move this
    person's counters, so the version cannot leak one.
    """
    parts = (PACK_FORMAT, *version_parts(session=scope.session, membership=scope.membership))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def notes_version(scope: PackScope) -> str:
    """The key the live reader's poll answers 304 under: the pack's version (no query).

    It changes with every note this user may see (and with anything else the
    pack shows, which costs the poll one small fetch); nobody else's private
    note can change it.
    """
    return pack_version(scope)


def live_notes(scope: PackScope) -> list[dict]:
    """The notes this user may see in the session's readings, one small row each, for the live reader.

    The page compares them with the notes it shows: ids it lacks are new, and
    `mine` tells which of those the reader wrote themself (already on their page).
    """
    rows = (
        pack_notes(scope)
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


def _name(display_name: str, first: str, last: str, username: str) -> str:
    return display_name or f"{first} {last}".strip() or username


def _session_part(session: Session) -> dict:
    facilitators = session.facilitators.values_list("id", "display_name", "first_name", "last_name", "username")
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
        "facilitators": [{"id": row[0], "name": _name(*row[1:])} for row in facilitators],
    }


def _notes_by_passage(scope: PackScope) -> tuple[dict[int, list[dict]], dict[int, int]]:
    """Visible notes as NOTE dicts with their replies nested, keyed by passage; and each passage's text.

    Rows come as tuples and the selector as JSON text decoded by orjson: with
    thousands of notes, the ORM's per-row conversions are most of the cost.
    """
    rows = list(
        pack_notes(scope)
        .annotate(selector_json=Cast("selector", TextField()))
        .order_by("created_at", "id")
        .values_list(
            "id",
            "passage_id",
            "passage__text_id",
            "parent_id",
            "author_id",
            "author__display_name",
            "author__first_name",
            "author__last_name",
            "author__username",
            "body",
            "body_html",
            "visibility",
            "selector_json",
            "anchor_state",
            "question_id",
            "hidden",
            "deleted_at",
            "highlight",
            "helpful_count",
        )
    )
    tags: dict[int, list[str]] = defaultdict(list)
    # Tags of every note in the readings' ranges (a join, not a list of ids); only the
    # visible notes' tags are used below.
    for note_id, name in (
        NoteTag.objects.filter(scope.ranges("note__passage__")).order_by("name").values_list("note_id", "name")
    ):
        tags[note_id].append(name)
    # Whom each note mentions, by their name now: the body shows "@Ada Lovelace", not "@ada".
    mentions: dict[int, list[dict]] = defaultdict(list)
    for note_id, user_id, username, *name in (
        NoteMention.objects.filter(scope.ranges("note__passage__"))
        .order_by("note_id", "id")
        .values_list(
            "note_id", "user_id", "user__username", "user__display_name", "user__first_name", "user__last_name"
        )
    ):
        mentions[note_id].append({"id": user_id, "username": username, "name": _name(*name, username)})
    notes: dict[int, dict] = {}
    top: dict[int, list[dict]] = defaultdict(list)
    text_of: dict[int, int] = {}
    for (
        note_id,
        passage_id,
        text_id,
        parent_id,
        author_id,
        display_name,
        first_name,
        last_name,
        username,
        body,
        body_html,
        visibility,
        selector_json,
        anchor_state,
        question_id,
        hidden,
        deleted_at,
        highlight,
        helpful_count,
    ) in rows:
        note = {
            "id": note_id,
            "author": None
            if deleted_at is not None
            else {"id": author_id, "name": _name(display_name, first_name, last_name, username)},
            "body": body,
            "body_html": html_with_mention_names(body_html, mention_map(mentions.get(note_id, ()))),
            "mentions": mentions.get(note_id, []),
            "visibility": visibility,
            "selector": orjson.loads(selector_json) if selector_json and selector_json != "null" else None,
            "anchor_state": anchor_state,
            "question": question_id,
            "tags": tags.get(note_id, []),
            "hidden": hidden,
            "highlight": highlight,
            "helpful_count": None if visibility == NoteVisibility.PRIVATE else helpful_count,
            "replies": [],
        }
        if parent_id is None:
            top[passage_id].append(note)
            text_of[passage_id] = text_id
        elif parent_id in notes:
            notes[parent_id]["replies"].append(note)
        else:
            # Who sees a reply sees the note it answers (selectors._visible_in_group); a reply is never
            # shown as a thread of its own, whatever the rows say.
            continue
        # Ordered by creation, so a parent is always in `notes` before its replies.
        notes[note_id] = note
    return top, text_of


def build_pack(scope: PackScope, *, version: str | None = None) -> dict:
    """The whole pack for the scope's user, as DESIGN.md's contract describes it."""
    session, assignments = scope.session, scope.assignments
    texts = {
        row["id"]: row
        for row in Text.objects.filter(pk__in={a["text_id"] for a in assignments}).values(
            "id", "title", "author", "source"
        )
    }
    passages = list(
        Passage.objects.filter(scope.ranges(), retired=False)
        .order_by("text_id", "position")
        .values("id", "text_id", "anchor", "position", "kind", "section", "body", "footnotes")
    )
    by_text: dict[int, list[dict]] = defaultdict(list)
    for passage in passages:
        by_text[passage["text_id"]].append(passage)
    notes, note_text = _notes_by_passage(scope)
    placed: set[int] = set()

    readings = []
    for assignment in assignments:
        first, last = assignment["start_passage__position"], assignment["end_passage__position"]
        in_range = [p for p in by_text[assignment["text_id"]] if first <= p["position"] <= last]
        reading_passages, orphaned = [], []
        for passage in in_range:
            here = notes.get(passage["id"], [])
            placed.add(passage["id"])
            reading_passages.append(
                {
                    "id": passage["id"],
                    "anchor": passage["anchor"],
                    "position": passage["position"],
                    "kind": passage["kind"],
                    "section": passage["section"],
                    "body": passage["body"],
                    "footnotes": passage["footnotes"],
                    "notes": [n for n in here if n["anchor_state"] != AnchorState.ORPHANED],
                }
            )
            orphaned.extend(n for n in here if n["anchor_state"] == AnchorState.ORPHANED)
        text = texts[assignment["text_id"]]
        readings.append(
            {
                "text": {"id": text["id"], "title": text["title"], "author": text["author"], "source": text["source"]},
                "required": assignment["required"],
                "instructions": assignment["instructions"],
                "reading_minutes": assignment["reading_minutes"],
                "passages": reading_passages,
                "orphaned_notes": orphaned,
            }
        )
    # Notes on passages that left the ranges (retired ones) are orphans of their text's reading.
    for passage_id, stray in notes.items():
        if passage_id in placed:
            continue
        for reading in readings:
            if reading["text"]["id"] == note_text[passage_id]:
                reading["orphaned_notes"].extend(stray)
                break

    facilitator_rights = facilitates(scope.membership)
    question_passages: dict[int, list[int]] = defaultdict(list)
    for question_id, passage_id in (
        DiscussionQuestion.passages.through.objects.filter(
            discussionquestion__session_id=session.pk, discussionquestion__state=QuestionState.ACCEPTED
        )
        .order_by("passage__text_id", "passage__position")
        .values_list("discussionquestion_id", "passage_id")
    ):
        question_passages[question_id].append(passage_id)
    questions = []
    for number, row in enumerate(
        DiscussionQuestion.objects.filter(session_id=session.pk, state=QuestionState.ACCEPTED)
        .order_by("position", "id")
        .values("id", "position", "prompt", "kind", "minutes", "facilitator_notes"),
        start=1,
    ):
        question = {
            "id": row["id"],
            "number": number,  # its rank among the accepted questions, as everywhere (`selectors.number_questions`)
            "position": row["position"],
            "prompt": row["prompt"],
            "kind": row["kind"],
            "passages": question_passages.get(row["id"], []),
            "minutes": row["minutes"],
        }
        if facilitator_rights:
            question["facilitator_notes"] = row["facilitator_notes"]
        questions.append(question)

    group = session.group
    pack = {
        "session": _session_part(session),
        "group": {"id": group.pk, "name": group.name, "slug": group.slug, "timezone": group.timezone},
        "readings": readings,
        "questions": questions,
        "reading_minutes": sum(reading["reading_minutes"] for reading in readings),
        "generated_at": _iso(datetime.now(UTC)),
        "version": version or pack_version(scope),
    }
    if facilitator_rights:
        pack["brief"] = facilitator_brief(scope.user, scope.membership, session)
    return pack
