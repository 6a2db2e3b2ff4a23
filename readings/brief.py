"""The facilitator's brief: what a facilitator wants to know before the meeting, in one plain dict.

Who has read, where members got stuck, which questions have answers, what to talk about first. One
selector (`facilitator_brief`) feeds every place the brief appears: `GET sessions/{id}/discussion/`,
the brief page, the pack for facilitators (JSON `brief`, printable HTML, PDF) and the brief email. It
holds only what its viewer may see: notes come through `notes_visible_to`, and no private note, nor a
count that includes one, is ever in it (not even the viewer's own). A fixed number of queries
whatever the number of members, notes or passages.
"""

from django.db.models import Count

from sessions_app.models import Membership, Session, User

from .enums import QuestionState
from .mentions import html_with_mention_names, mention_names, mention_refs
from .models import DiscussionQuestion, Note
from .progress import IN_PROGRESS, NOT_OPENED, members_progress, progress_totals
from .selectors import (
    answers_by_question,
    mentions_prefetch,
    passage_heat,
    shared_session_notes,
    stuck_passages,
)

TOP_NOTES = 5


def _name(user: User) -> str:
    return user.name


def _note_ref(note: Note, **extra) -> dict:
    """A note as the brief shows it: who, where, and the words."""
    return {
        "id": note.pk,
        "author": None if note.deleted_at else {"id": note.author_id, "name": _name(note.author)},
        "passage": {"id": note.passage_id, "anchor": note.passage.anchor, "position": note.passage.position},
        "body": note.body,
        "body_html": html_with_mention_names(note.body_html, mention_names(note)),
        "mentions": mention_refs(note),
        "visibility": note.visibility,
        **extra,
    }


def _shared_top_notes(user: User, membership: Membership, session: Session):
    """Live, unhidden, non-private notes with words, on the session's passages, that `user` may see."""
    return shared_session_notes(user, membership, session).filter(highlight=False)


def most_helpful_notes(user: User, membership: Membership, session: Session, *, limit: int = TOP_NOTES) -> list[dict]:
    """The notes marked helpful most often (at least once), most first. Two queries (the notes, whom they mention)."""
    notes = (
        _shared_top_notes(user, membership, session)
        .filter(helpful_count__gt=0)
        .select_related("author", "passage")
        .prefetch_related(mentions_prefetch())
        .order_by("-helpful_count", "created_at", "id")[:limit]
    )
    return [_note_ref(note, helpful_count=note.helpful_count) for note in notes]


def most_replied_notes(user: User, membership: Membership, session: Session, *, limit: int = TOP_NOTES) -> list[dict]:
    """The top-level notes with the most replies, counting only replies `user` may see (never private). 3 queries."""
    shared = _shared_top_notes(user, membership, session)
    counts = list(
        shared.filter(parent__isnull=False, parent__parent__isnull=True)
        .values("parent_id")
        .annotate(replies=Count("id"))
        .order_by("-replies", "parent_id")[: limit * 2]
    )
    replies = {row["parent_id"]: row["replies"] for row in counts}
    parents = {
        note.pk: note
        for note in shared.filter(pk__in=list(replies), parent__isnull=True)
        .select_related("author", "passage")
        .prefetch_related(mentions_prefetch())
    }
    ranked = [parents[pk] for pk in replies if pk in parents][:limit]
    return [_note_ref(note, replies=replies[note.pk]) for note in ranked]


def _questions(user: User, session: Session) -> list[dict]:
    rows = []
    for number, item in enumerate(answers_by_question(user, session), start=1):
        question = item["question"]
        answers = [_note_ref(note) for note in item["answers"] if not note.highlight]
        rows.append(
            {
                "id": question.pk,
                "number": number,  # its rank among the accepted questions (`selectors.number_questions`)
                "prompt": question.prompt,
                "answers": answers,
                "unanswered": not answers,
            }
        )
    return rows


def _proposed(session: Session) -> list[dict]:
    questions = (
        DiscussionQuestion.objects.filter(session=session, state=QuestionState.PROPOSED)
        .select_related("proposed_by")
        .order_by("position", "id")
    )
    return [
        {
            "id": question.pk,
            "prompt": question.prompt,
            "proposed_by": (
                {"id": question.proposed_by_id, "name": _name(question.proposed_by)} if question.proposed_by else None
            ),
        }
        for question in questions
    ]


def _progress(user: User, membership: Membership, session: Session) -> dict:
    rows = members_progress(user, membership, session)
    totals = progress_totals(rows)
    named = bool(session.group.member_progress_visible)
    members = None
    if named:
        members = [
            {
                "user": {"id": row.user.pk, "name": _name(row.user)},
                "opened": row.opened,
                "percent": row.percent,
                "status": row.status,
            }
            for row in rows
        ]
    return {
        "totals": {
            "members": totals.members,
            "not_opened": totals.not_opened,
            "in_progress": totals.in_progress,
            "finished": totals.finished,
            "average_percent": totals.average_percent,
        },
        "members": members,
        "not_opened": [row["user"] for row in members if row["status"] == NOT_OPENED] if named else None,
        "in_progress": [row["user"] for row in members if row["status"] == IN_PROGRESS] if named else None,
    }


def with_heat(stuck: list[dict]) -> list[dict]:
    """Each stuck passage with `heat`, its asking notes as a whole percent of the top passage's (for drawing)."""
    top = max((row["asking"] for row in stuck), default=0)
    return [{**row, "heat": row["asking"] * 100 // top if top else 0} for row in stuck]


def heat_strip(user: User, membership: Membership, session: Session) -> dict[int, dict]:
    """{passage id: {"asking": notes that ask, "heat": a whole percent of the top passage's}} for the reader's
    heat strip (facilitators only; the caller checks). Passages nobody asked about are left out. Two queries."""
    asking = passage_heat(user, membership, session)
    top = max(asking.values(), default=0)
    return {pk: {"asking": count, "heat": count * 100 // top} for pk, count in asking.items()}


def facilitator_brief(user: User, membership: Membership, session: Session) -> dict:
    """The brief of `session` for `user` (who has facilitator rights: the caller checked). JSON-ready.

    `session.group` must be loaded (for the group's `member_progress_visible`).
    """
    return {
        "questions": _questions(user, session),
        "stuck": with_heat(stuck_passages(user, membership, session)),
        "most_helpful": most_helpful_notes(user, membership, session),
        "most_replied": most_replied_notes(user, membership, session),
        "progress": _progress(user, membership, session),
        "proposed": _proposed(session),
    }


__all__ = ["facilitator_brief", "heat_strip", "passage_heat", "with_heat"]
