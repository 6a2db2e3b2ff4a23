"""The session pack: what one person may see of a session, in one plain dict.

Built from a fixed number of flat queries (`values()`), whatever the number of
passages, notes or questions, and shaped exactly as DESIGN.md's contract.
`pack_version` is a cheap key over what this user can see; it is the ETag,
so a 304 never builds the pack.
"""

import hashlib
from collections import defaultdict
from datetime import UTC, datetime

from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value

from sessions_app.models import Membership, Session, User
from sessions_app.permissions import has_facilitator_rights

from ..enums import AnchorState, QuestionState
from ..models import DiscussionQuestion, NoteTag, Passage, ReadingAssignment, Text
from ..selectors import notes_visible_to

# Bump when the pack's shape or any format's rendering changes, so caches and
# ETags from before do not outlive it.
PACK_FORMAT = 1


def _in_session(session_id: int) -> Exists:
    """A note whose passage lies inside one of the session's assignment ranges."""
    return Exists(
        ReadingAssignment.objects.filter(
            session_id=session_id,
            text_id=OuterRef("passage__text_id"),
            start_passage__position__lte=OuterRef("passage__position"),
            end_passage__position__gte=OuterRef("passage__position"),
        )
    )


def pack_notes(user: User, session: Session):
    """The notes of the session's readings that go in `user`'s pack (hidden ones never do)."""
    return notes_visible_to(user).filter(_in_session(session.pk), hidden=False)


def _aggregate(queryset, **aggregates) -> dict[str, Subquery]:
    grouped = queryset.order_by().annotate(_one=Value(1, output_field=IntegerField())).values("_one")
    return {
        name: Subquery(grouped.annotate(value=expression).values("value")[:1])
        for name, expression in aggregates.items()
    }


def pack_version(*, user: User, session: Session, membership: Membership) -> str:
    """A short key that changes whenever anything in this user's pack changes, in one query.

    It covers the session (times, details, status, facilitators), the group's
    name, the user's role, the assignments and the revisions of their texts,
    the accepted questions, and the notes *this user* may see. Nobody else's
    private note is in it, so it cannot leak one.
    """
    assignments = ReadingAssignment.objects.filter(session_id=session.pk)
    questions = DiscussionQuestion.objects.filter(session_id=session.pk, state=QuestionState.ACCEPTED)
    facilitators = Session.facilitators.through.objects.filter(session_id=session.pk)
    row = (
        Session.objects.filter(pk=session.pk)
        .annotate(
            **_aggregate(
                assignments,
                v_readings=Count("id"),
                v_readings_at=Max("updated_at"),
                v_texts_at=Max("text__updated_at"),
                v_revisions=Sum("text__revision"),
            ),
            **_aggregate(questions, v_questions=Count("id"), v_questions_at=Max("updated_at")),
            **_aggregate(facilitators, v_facilitators=Count("id"), v_facilitator_ids=Sum("user_id")),
            **_aggregate(
                pack_notes(user, session), v_notes=Count("id"), v_notes_at=Max("updated_at"), v_note_ids=Sum("id")
            ),
        )
        .values(
            "updated_at",
            "sequence",
            "status",
            "group__name",
            "v_readings",
            "v_readings_at",
            "v_texts_at",
            "v_revisions",
            "v_questions",
            "v_questions_at",
            "v_facilitators",
            "v_facilitator_ids",
            "v_notes",
            "v_notes_at",
            "v_note_ids",
        )
        .get()
    )
    key = "|".join(f"{name}={row[name]}" for name in sorted(row))
    key += f"|user={user.pk}|role={membership.role}|format={PACK_FORMAT}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


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


def _notes_by_passage(user: User, session: Session) -> tuple[dict[int, list[dict]], dict[int, int]]:
    """Visible notes as NOTE dicts with their replies nested, keyed by passage; and each passage's text."""
    rows = list(
        pack_notes(user, session)
        .order_by("created_at", "id")
        .values(
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
            "selector",
            "anchor_state",
            "question_id",
            "deleted_at",
        )
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for note_id, name in (
        NoteTag.objects.filter(note__in=pack_notes(user, session)).order_by("name").values_list("note_id", "name")
    ):
        tags[note_id].append(name)
    notes = {}
    for row in rows:
        deleted = row["deleted_at"] is not None
        notes[row["id"]] = {
            "id": row["id"],
            "author": None
            if deleted
            else {
                "id": row["author_id"],
                "name": _name(
                    row["author__display_name"],
                    row["author__first_name"],
                    row["author__last_name"],
                    row["author__username"],
                ),
            },
            "body": row["body"],
            "body_html": row["body_html"],
            "visibility": row["visibility"],
            "selector": row["selector"],
            "anchor_state": row["anchor_state"],
            "question": row["question_id"],
            "tags": tags.get(row["id"], []),
            "replies": [],
        }
    top: dict[int, list[dict]] = defaultdict(list)
    text_of: dict[int, int] = {}
    for row in rows:
        note = notes[row["id"]]
        parent = notes.get(row["parent_id"])
        if parent is not None:
            parent["replies"].append(note)
        else:
            top[row["passage_id"]].append(note)
        text_of[row["passage_id"]] = row["passage__text_id"]
    return top, text_of


def build_pack(*, user: User, session: Session, membership: Membership, version: str | None = None) -> dict:
    """The whole pack for `user`, as DESIGN.md's contract describes it."""
    assignments = list(
        ReadingAssignment.objects.filter(session_id=session.pk)
        .order_by("position", "id")
        .values(
            "id",
            "text_id",
            "required",
            "instructions",
            "reading_minutes",
            "start_passage__position",
            "end_passage__position",
        )
    )
    texts = {
        row["id"]: row
        for row in Text.objects.filter(pk__in={a["text_id"] for a in assignments}).values(
            "id", "title", "author", "source"
        )
    }
    ranges = Q(pk__in=[])
    for assignment in assignments:
        ranges |= Q(
            text_id=assignment["text_id"],
            position__gte=assignment["start_passage__position"],
            position__lte=assignment["end_passage__position"],
        )
    passages = list(
        Passage.objects.filter(ranges, retired=False)
        .order_by("text_id", "position")
        .values("id", "text_id", "anchor", "position", "kind", "section", "body")
    )
    by_text: dict[int, list[dict]] = defaultdict(list)
    for passage in passages:
        by_text[passage["text_id"]].append(passage)
    notes, note_text = _notes_by_passage(user, session)
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

    facilitator_rights = has_facilitator_rights(membership)
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
    for row in (
        DiscussionQuestion.objects.filter(session_id=session.pk, state=QuestionState.ACCEPTED)
        .order_by("position", "id")
        .values("id", "position", "prompt", "kind", "minutes", "facilitator_notes")
    ):
        question = {
            "id": row["id"],
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
    return {
        "session": _session_part(session),
        "group": {"id": group.pk, "name": group.name, "slug": group.slug, "timezone": group.timezone},
        "readings": readings,
        "questions": questions,
        "reading_minutes": sum(reading["reading_minutes"] for reading in readings),
        "generated_at": _iso(datetime.now(UTC)),
        "version": version or pack_version(user=user, session=session, membership=membership),
    }
