"""A group's whole content, and a member's own notes, as JSON documents (docs/export-format.md).

`group_export` is what `manage.py export_group` writes and what an organizer
downloads from the group page; `member_export` is `me/export/`. Both build
plain dicts from flat queries, in a fixed order (by id, that is creation
order), so the same content always gives the same document.
"""

from datetime import UTC, datetime

from django.utils import timezone

from readings.enums import NoteVisibility
from readings.models import (
    DiscussionQuestion,
    Note,
    NoteHelpful,
    NoteTag,
    Passage,
    PassageRead,
    ReadingAssignment,
    ReadingVisit,
    Text,
    TextRevision,
)
from readings.selectors import in_threads_for
from sessions_app.models import RSVP, Attendance, Membership, Series, Session, StudyGroup, User

GROUP_FORMAT = "studycircle.group"
GROUP_VERSION = 1
MEMBER_FORMAT = "studycircle.member-notes"
MEMBER_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    """A time as ISO 8601 in UTC with a `Z`, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rows(queryset, fields: list[str]) -> list[dict]:
    """`values()` rows with datetimes written as ISO strings (dates and times too)."""
    rows = []
    for row in queryset.values(*fields):
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = iso(value)
            elif hasattr(value, "isoformat"):
                row[key] = value.isoformat()
        rows.append(row)
    return rows


GROUP_FIELDS = [
    "name",
    "slug",
    "description",
    "timezone",
    "reading_lead_minutes",
    "starting_lead_minutes",
    "default_note_visibility",
    "highlights_unlock_peek",
    "member_progress_visible",
    "summary_attendance",
    "created_at",
]
SERIES_FIELDS = [
    "id",
    "title",
    "description",
    "timezone",
    "first_starts_on",
    "local_start_time",
    "duration_minutes",
    "rrule",
    "location",
    "online_url",
    "created_at",
]
SESSION_FIELDS = [
    "id",
    "series",
    "occurrence_index",
    "detached",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "location",
    "online_url",
    "status",
    "sequence",
    "post_before_peek",
    "reading_lead_minutes",
    "starting_lead_minutes",
    "reading_minutes",
    "created_at",
]
TEXT_FIELDS = [
    "id",
    "title",
    "author",
    "source",
    "language",
    "original_format",
    "revision",
    "full_text",
    "next_anchor",
    "created_by",
    "created_at",
]
REVISION_FIELDS = [
    "number",
    "format",
    "filename",
    "checksum",
    "size_bytes",
    "notices",
    "changes",
    "created_by",
    "created_at",
]
PASSAGE_FIELDS = [
    "anchor",
    "position",
    "kind",
    "heading_level",
    "section",
    "body",
    "word_count",
    "quoted",
    "attribution",
    "cited_works",
    "footnotes",
    "start_offset",
    "end_offset",
    "retired",
    "revision_added",
    "revision_changed",
    "revision_retired",
]
READING_FIELDS = ["id", "session", "text", "required", "instructions", "position", "reading_minutes", "word_count"]
QUESTION_FIELDS = [
    "id",
    "session",
    "position",
    "prompt",
    "kind",
    "minutes",
    "facilitator_notes",
    "state",
    "proposed_by",
    "created_at",
]
NOTE_FIELDS = [
    "id",
    "author",
    "selector",
    "body",
    "visibility",
    "question",
    "parent",
    "root",
    "anchor_state",
    "candidates",
    "hidden",
    "hidden_by",
    "hidden_root",
    "deleted_at",
    "highlight",
    "created_at",
    "updated_at",
]


def group_notes(group: StudyGroup, *, for_user: User | None):
    """The notes of `group` an export holds: all of them, or (`for_user`) all but other people's private threads."""
    notes = Note.objects.filter(passage__text__group=group)
    if for_user is not None:
        notes = notes.filter(in_threads_for(NoteVisibility.GROUP, NoteVisibility.FACILITATORS, author=for_user))
    return notes


def _anchor_of(passage_ids: set[int]) -> dict[int, tuple[int, str]]:
    """passage id → (text id, anchor)."""
    return {
        pk: (text_id, anchor)
        for pk, text_id, anchor in Passage.objects.filter(pk__in=passage_ids).values_list("pk", "text_id", "anchor")
    }


def group_export(*, group: StudyGroup, for_user: User | None = None, now: datetime | None = None) -> dict:
    """The whole content of `group` (format `studycircle.group`, version GROUP_VERSION).

    `for_user=None` is the administrator's complete export (private notes
    included: moving a group must not lose anyone's notes; people with their
    usernames and email addresses). With `for_user` (an organizer's download)
    other people's private notes, and their replies, are left out, and people
    appear as the group page shows them to organizers: members by name and
    email address, people who have left by name only.
    """
    complete = for_user is None
    data: dict = {
        "format": GROUP_FORMAT,
        "version": GROUP_VERSION,
        "exported_at": iso(now or timezone.now()),
        "complete": complete,
    }
    data["group"] = _rows(StudyGroup.objects.filter(pk=group.pk), GROUP_FIELDS)[0]

    sessions = Session.objects.filter(group=group).order_by("pk")
    session_rows = _rows(sessions, SESSION_FIELDS)
    facilitators: dict[int, list[int]] = {}
    for session_id, user_id in Session.facilitators.through.objects.filter(session__group=group).values_list(
        "session_id", "user_id"
    ):
        facilitators.setdefault(session_id, []).append(user_id)
    rsvps: dict[int, list[dict]] = {}
    for session_id, user_id, status in (
        RSVP.objects.filter(session__group=group).order_by("pk").values_list("session_id", "user_id", "status")
    ):
        rsvps.setdefault(session_id, []).append({"person": user_id, "status": status})
    attendance: dict[int, list[dict]] = {}
    for session_id, user_id, marked_by in (
        Attendance.objects.filter(session__group=group).order_by("pk").values_list("session_id", "user_id", "marked_by")
    ):
        attendance.setdefault(session_id, []).append({"person": user_id, "marked_by": marked_by})
    for row in session_rows:
        row["facilitators"] = sorted(facilitators.get(row["id"], []))
        row["rsvps"] = rsvps.get(row["id"], [])
        row["attendance"] = attendance.get(row["id"], [])

    texts = Text.objects.filter(group=group).order_by("pk")
    text_rows = _rows(texts, TEXT_FIELDS)
    revisions: dict[int, list[dict]] = {}
    for row in _rows(
        TextRevision.objects.filter(text__group=group).order_by("text_id", "number"), ["text", *REVISION_FIELDS]
    ):
        revisions.setdefault(row.pop("text"), []).append(row)
    passages: dict[int, list[dict]] = {}
    for row in _rows(Passage.objects.filter(text__group=group).order_by("text_id", "pk"), ["text", *PASSAGE_FIELDS]):
        passages.setdefault(row.pop("text"), []).append(row)
    for row in text_rows:
        row["revisions"] = revisions.get(row["id"], [])
        row["passages"] = passages.get(row["id"], [])

    readings = ReadingAssignment.objects.filter(session__group=group).order_by("pk")
    reading_rows = _rows(readings, [*READING_FIELDS, "start_passage__anchor", "end_passage__anchor"])
    for row in reading_rows:
        row["start"] = row.pop("start_passage__anchor")
        row["end"] = row.pop("end_passage__anchor")

    questions = DiscussionQuestion.objects.filter(session__group=group).order_by("pk")
    question_rows = _rows(questions, QUESTION_FIELDS)
    question_passages: dict[int, list[dict]] = {}
    for question_id, text_id, anchor in (
        DiscussionQuestion.passages.through.objects.filter(discussionquestion__session__group=group)
        .order_by("passage__text_id", "passage__position", "passage_id")
        .values_list("discussionquestion_id", "passage__text_id", "passage__anchor")
    ):
        question_passages.setdefault(question_id, []).append({"text": text_id, "anchor": anchor})
    for row in question_rows:
        row["passages"] = question_passages.get(row["id"], [])

    notes = group_notes(group, for_user=for_user).order_by("created_at", "pk")
    note_rows = _rows(notes, [*NOTE_FIELDS, "passage__text_id", "passage__anchor"])
    tags: dict[int, list[str]] = {}
    for note_id, name in NoteTag.objects.filter(note__in=notes).order_by("name").values_list("note_id", "name"):
        tags.setdefault(note_id, []).append(name)
    helpful_by: dict[int, list[int]] = {}
    for note_id, user_id in NoteHelpful.objects.filter(note__in=notes).order_by("pk").values_list("note_id", "user_id"):
        helpful_by.setdefault(note_id, []).append(user_id)
    for row in note_rows:
        row["helpful_by"] = helpful_by.get(row["id"], [])
        row["text"] = row.pop("passage__text_id")
        row["anchor"] = row.pop("passage__anchor")
        row["tags"] = tags.get(row["id"], [])
        # Where an orphaned quote could go, by anchor: passage ids mean nothing on another instance.
        row["candidates"] = [
            {key: value for key, value in candidate.items() if key != "passage"}
            for candidate in row["candidates"] or []
        ]

    people_ids = set(Membership.objects.filter(group=group).values_list("user_id", flat=True))
    people_ids |= {row["created_by"] for row in text_rows}
    people_ids |= {revision["created_by"] for row in text_rows for revision in row["revisions"]}
    people_ids |= {user for row in session_rows for user in row["facilitators"]}
    people_ids |= {answer["person"] for row in session_rows for answer in row["rsvps"]}
    people_ids |= {mark[key] for row in session_rows for mark in row["attendance"] for key in ("person", "marked_by")}
    people_ids |= {row["proposed_by"] for row in question_rows}
    people_ids |= {row[key] for row in note_rows for key in ("author", "hidden_by")}
    people_ids |= {user for row in note_rows for user in row["helpful_by"]}
    # Reading progress: the administrator's export always; an organizer's download when the group
    # lets facilitators see each member's progress (else they see totals only, and so does the file).
    passages_read, reading_visits = [], []
    if complete or group.member_progress_visible:
        passages_read = _rows(
            PassageRead.objects.filter(passage__text__group=group).order_by("pk"),
            ["user", "passage__text_id", "passage__anchor", "read_at"],
        )
        reading_visits = _rows(
            ReadingVisit.objects.filter(session__group=group).order_by("pk"),
            ["user", "session", "opened_at", "last_activity_at", "last_passage__text_id", "last_passage__anchor"],
        )
    for row in passages_read:
        row.update(person=row.pop("user"), text=row.pop("passage__text_id"), anchor=row.pop("passage__anchor"))
    for row in reading_visits:
        row.update(
            person=row.pop("user"),
            last_text=row.pop("last_passage__text_id"),
            last_anchor=row.pop("last_passage__anchor"),
        )
    people_ids |= {row["person"] for row in passages_read + reading_visits}
    people_ids.discard(None)
    data["people"] = _people(group, people_ids, complete=complete, for_user=for_user)

    data["series"] = _rows(Series.objects.filter(group=group).order_by("pk"), SERIES_FIELDS)
    data["sessions"] = session_rows
    data["texts"] = text_rows
    data["readings"] = reading_rows
    data["questions"] = question_rows
    data["notes"] = note_rows
    data["passages_read"] = passages_read
    data["reading_visits"] = reading_visits
    return data


def _people(group: StudyGroup, ids: set[int], *, complete: bool, for_user: User | None) -> list[dict]:
    roles = dict(Membership.objects.filter(group=group).values_list("user_id", "role"))
    joined = dict(Membership.objects.filter(group=group).values_list("user_id", "joined_at"))
    people = []
    for user in User.objects.filter(pk__in=ids).order_by("pk"):
        person = {"id": user.pk, "name": user.name, "role": roles.get(user.pk), "joined_at": iso(joined.get(user.pk))}
        if complete or user == for_user:
            person.update(
                username=user.username,
                email=user.email,
                display_name=user.display_name,
                first_name=user.first_name,
                last_name=user.last_name,
            )
        elif user.pk in roles:
            person["email"] = user.email  # as the group page shows organizers their members
        people.append(person)
    return people


def member_export(*, user: User, now: datetime | None = None) -> dict:
    """`user`'s own notes in the groups they belong to (format `studycircle.member-notes`).

    Each note carries the words it is on (the selector's quote, or the whole
    passage), so the file reads on its own. Deleted notes are left out; notes
    in groups the person has left stay with those groups.
    """
    groups = StudyGroup.objects.filter(memberships__user=user).order_by("pk")
    notes = (
        Note.objects.filter(author=user, deleted_at__isnull=True, passage__text__group__in=groups)
        .select_related("passage__text__group")
        .order_by("pk")
    )
    tags: dict[int, list[str]] = {}
    for note_id, name in NoteTag.objects.filter(note__in=notes).order_by("name").values_list("note_id", "name"):
        tags.setdefault(note_id, []).append(name)
    rows = []
    for note in notes:
        passage = note.passage
        rows.append(
            {
                "id": note.pk,
                "group": passage.text.group.slug,
                "text": {"id": passage.text_id, "title": passage.text.title, "author": passage.text.author},
                "anchor": passage.anchor,
                "position": passage.position,
                "quote": (note.selector or {}).get("exact") if note.selector else None,
                "passage": passage.body,
                "selector": note.selector,
                "body": note.body,
                "highlight": note.highlight,
                "visibility": note.visibility,
                "reply_to": note.parent_id,
                "anchor_state": note.anchor_state,
                "tags": tags.get(note.pk, []),
                "created_at": iso(note.created_at),
                "updated_at": iso(note.updated_at),
            }
        )
    return {
        "format": MEMBER_FORMAT,
        "version": MEMBER_VERSION,
        "exported_at": iso(now or timezone.now()),
        "person": {"username": user.username, "name": user.name, "email": user.email},
        "groups": [{"name": group.name, "slug": group.slug} for group in groups],
        "notes": rows,
    }
