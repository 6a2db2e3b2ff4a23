"""Reading progress as people see it: their own, and, for facilitators, each member's or the totals.

% read is the share of the session's required readings' words that lie in passages the person has
read (on screen long enough, or marked read). Every read here costs a fixed number of queries, whatever
the number of members or passages.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.compiled import CompiledQuery, any_of
from sessions_app.models import Membership, Session, User

from .enums import NoteVisibility, ProgressStatus
from .models import Passage, PassageRead, ReadingAssignment, ReadingVisit
from .reading_model import SessionReading, person_name
from .selectors import notes_visible_to, readings_of, session_passages_q

NOT_OPENED, IN_PROGRESS, FINISHED = ProgressStatus.NOT_OPENED, ProgressStatus.IN_PROGRESS, ProgressStatus.FINISHED


def percent_of(read_words: int, required_words: int) -> int | None:
    """Whole percent, rounded down (so 100 means everything); None when nothing is required."""
    if not required_words:
        return None
    return min(100, read_words * 100 // required_words)


def status_of(opened: bool, percent: int | None) -> str:
    if not opened:
        return NOT_OPENED
    return FINISHED if percent == 100 or percent is None else IN_PROGRESS


@dataclass
class MemberProgress:
    user: User
    role: str
    opened: bool
    read_words: int
    percent: int | None
    status: str
    notes: int = 0
    replies: int = 0
    last_activity_at: datetime | None = None


@dataclass
class ProgressTotals:
    members: int
    not_opened: int
    in_progress: int
    finished: int
    average_percent: int | None


@dataclass
class ReadingProgress:
    """One assignment's share of what the person read."""

    assignment: ReadingAssignment
    words: int
    read_words: int

    @property
    def percent(self) -> int | None:
        return percent_of(self.read_words, self.words)


@dataclass
class OwnProgress:
    required_words: int
    read_words: int
    percent: int | None
    status: str
    opened_at: datetime | None
    last_activity_at: datetime | None
    last_passage: Passage | None
    passages_read: list[int] = field(default_factory=list)
    readings: list[ReadingProgress] = field(default_factory=list)


def _required_q(assignments: list[ReadingAssignment], prefix: str = "") -> Q:
    return session_passages_q([one for one in assignments if one.required], prefix=prefix)


def session_passage_ids(session: Session, *, ids: list[int]) -> list[Passage]:
    """The passages among `ids` that the session's reading holds (current ones only)."""
    assignments = list(readings_of(session))
    return list(Passage.objects.filter(session_passages_q(assignments), pk__in=ids, retired=False))


def own_progress(user: User, session: Session) -> OwnProgress:
    """The person's own progress on the session's reading, per assignment too. Four queries."""
    assignments = list(readings_of(session))
    passages = list(
        Passage.objects.filter(session_passages_q(assignments), retired=False).values_list(
            "pk", "text_id", "position", "word_count"
        )
    )
    read = set(
        PassageRead.objects.filter(user=user, passage_id__in=[pk for pk, *_rest in passages]).values_list(
            "passage_id", flat=True
        )
    )
    visit = ReadingVisit.objects.filter(user=user, session=session).select_related("last_passage").first()
    readings = []
    for assignment in assignments:
        inside = [
            (pk, words)
            for pk, text_id, position, words in passages
            if text_id == assignment.text_id
            and assignment.start_passage.position <= position <= assignment.end_passage.position
        ]
        readings.append(
            ReadingProgress(
                assignment=assignment,
                words=sum(words for _pk, words in inside),
                read_words=sum(words for pk, words in inside if pk in read),
            )
        )
    required = [reading for reading in readings if reading.assignment.required]
    required_ids = {
        pk
        for pk, text_id, position, _words in passages
        for reading in required
        if text_id == reading.assignment.text_id
        and reading.assignment.start_passage.position <= position <= reading.assignment.end_passage.position
    }
    words_of = {pk: words for pk, _text_id, _position, words in passages}
    required_words = sum(words_of[pk] for pk in required_ids)
    read_words = sum(words_of[pk] for pk in required_ids & read)
    percent = percent_of(read_words, required_words)
    return OwnProgress(
        required_words=required_words,
        read_words=read_words,
        percent=percent,
        status=status_of(visit is not None, percent),
        opened_at=visit.opened_at if visit else None,
        last_activity_at=visit.last_activity_at if visit else None,
        last_passage=visit.last_passage if visit else None,
        passages_read=sorted(read),
        readings=readings,
    )


def members_progress(viewer: User, membership: Membership, session: Session) -> list[MemberProgress]:
    """Every member's progress on the session, for a facilitator; five queries for any number of members.

    Notes and replies counted are only those `viewer` may see on the session's passages, and never a
    private one (not even the viewer's own, as the brief counts).
    """
    assignments = list(readings_of(session))
    required_q = _required_q(assignments)
    members = list(
        Membership.objects.filter(group_id=session.group_id).select_related("user").order_by("user__username")
    )
    required_words = Passage.objects.filter(required_q, retired=False).aggregate(words=Sum("word_count"))["words"] or 0
    read_words = dict(
        PassageRead.objects.filter(_required_q(assignments, prefix="passage__"), passage__retired=False)
        .filter(user__memberships__group_id=session.group_id)
        .values("user_id")
        .annotate(words=Sum("passage__word_count"))
        .values_list("user_id", "words")
    )
    visits = {visit.user_id: visit for visit in ReadingVisit.objects.filter(session=session)}
    written = {
        row["author_id"]: row
        for row in notes_visible_to(viewer, membership=membership)
        .filter(session_passages_q(assignments, prefix="passage__"), deleted_at__isnull=True)
        # The viewer's own private notes are theirs alone: counted for nobody, the viewer included.
        .exclude(visibility=NoteVisibility.PRIVATE)
        .values("author_id")
        .annotate(notes=Count("pk", filter=Q(parent__isnull=True)), replies=Count("pk", filter=Q(parent__isnull=False)))
        .order_by()
    }
    rows = []
    for one in members:
        words = read_words.get(one.user_id, 0)
        percent = percent_of(words, required_words)
        visit = visits.get(one.user_id)
        counts = written.get(one.user_id, {})
        rows.append(
            MemberProgress(
                user=one.user,
                role=one.role,
                opened=visit is not None,
                read_words=words,
                percent=percent,
                status=status_of(visit is not None, percent),
                notes=counts.get("notes", 0),
                replies=counts.get("replies", 0),
                last_activity_at=visit.last_activity_at if visit else None,
            )
        )
    return rows


@dataclass(slots=True)
class MemberReading:
    """One member's progress as the brief shows it (`members_progress` without the notes counts)."""

    user_id: int
    name: str
    opened: bool
    percent: int | None
    status: str


def _members_reading(shape, args):
    """Each member of group `args[0]` with the words they read of the passages (`args[2]`, one list as an array,
    or `args[2:]`) and whether they opened session `args[1]`."""
    (array,) = shape
    group_id, session_id, *passages = args
    read_words = Value(0)
    if array or passages:
        # By the reader's reads (an index on user, passage), not by the passages: a few rows per member.
        of = any_of("passage_id", passages[0]) if array else Q(passage_id__in=passages)
        read = (
            PassageRead.objects.filter(of, user_id=OuterRef("user_id"))
            .values("user_id")
            .annotate(words=Sum("passage__word_count"))
            .values("words")
        )
        read_words = Coalesce(Subquery(read, output_field=IntegerField()), Value(0))
    return (
        Membership.objects.filter(group_id=group_id)
        .annotate(
            read_words=read_words,
            opened=Exists(ReadingVisit.objects.filter(session_id=session_id, user_id=OuterRef("user_id"))),
        )
        .order_by("user__username")
        .values_list(
            "user_id",
            "user__display_name",
            "user__first_name",
            "user__last_name",
            "user__username",
            "read_words",
            "opened",
        )
    )


_MEMBERS_READING = CompiledQuery(_members_reading)


def reading_progress_of_members(session: Session, reading: SessionReading) -> list[MemberReading]:
    """Every member's progress on the session, by username, from its loaded `reading` (`session_reading`):
    one query (the members, each with the words of the required readings they read and whether they opened it).
    """
    required = [one.range for one in reading.readings if one.required]
    words_of = {
        passage.id: passage.word_count
        for one in reading.readings
        for passage in one.passages  # each current passage once
        if any(r.text_id == passage.text_id and r.first <= passage.position <= r.last for r in required)
    }
    required_words = sum(words_of.values())
    if connections[Membership.objects.db].vendor == "postgresql":
        # SQL compiled once per process (`pack.compiled`), the passages one array: no ORM per request.
        rows = _MEMBERS_READING.rows((True,), [session.group_id, session.pk, list(words_of)])
    else:
        rows = _MEMBERS_READING.build((False,), [session.group_id, session.pk, *words_of])
    members = []
    for user_id, display_name, first_name, last_name, username, words, opened in rows:
        percent = percent_of(words, required_words)
        name = person_name(display_name, first_name, last_name, username)
        members.append(MemberReading(user_id, name, opened, percent, status_of(opened, percent)))
    return members


def progress_totals(rows: list[MemberProgress] | list[MemberReading]) -> ProgressTotals:
    percents = [row.percent for row in rows if row.percent is not None]
    return ProgressTotals(
        members=len(rows),
        not_opened=sum(row.status == NOT_OPENED for row in rows),
        in_progress=sum(row.status == IN_PROGRESS for row in rows),
        finished=sum(row.status == FINISHED for row in rows),
        average_percent=sum(percents) // len(percents) if percents else None,
    )


def required_words_read(session: Session, user_ids: list[int]) -> tuple[int, dict[int, int]]:
    """(words in the session's required readings, words of them each of `user_ids` has read). Three queries."""
    assignments = list(readings_of(session))
    required_q = _required_q(assignments)
    required_words = Passage.objects.filter(required_q, retired=False).aggregate(words=Sum("word_count"))["words"] or 0
    read = dict(
        PassageRead.objects.filter(_required_q(assignments, prefix="passage__"), passage__retired=False)
        .filter(user_id__in=user_ids)
        .values("user_id")
        .annotate(words=Sum("passage__word_count"))
        .values_list("user_id", "words")
    )
    return required_words, read
