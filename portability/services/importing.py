"""Loading a group export (`studycircle.group`) into this instance, with new ids.

One transaction: a file that fails any check leaves nothing behind, and the
error names where in the file it is (`notes[3].selector`). Passages keep their
anchors, offsets and bodies, and notes their selectors and anchor state, so
every note stays on its words. Note bodies are rendered again here (the
file's HTML, if any, is never trusted). People are matched to existing
accounts by email address (one account with it, case-insensitively);
anyone else gets a new account without a password, who sets one through
"Forgot your password?".
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

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
from readings.rendering import markdown_problem, render_markdown
from reminders.enums import ReminderState
from reminders.models import Reminder
from reminders.services.planning import reminders_plan_for_group
from sessions_app.models import RSVP, Attendance, Membership, Series, Session, StudyGroup, User

from .exporting import (
    GROUP_FIELDS,
    GROUP_FORMAT,
    GROUP_VERSION,
    NOTE_FIELDS,
    PASSAGE_FIELDS,
    QUESTION_FIELDS,
    READING_FIELDS,
    REVISION_FIELDS,
    SERIES_FIELDS,
    SESSION_FIELDS,
    TEXT_FIELDS,
)

SKIPPED_ON_IMPORT = "Due before the group was imported: the previous instance's to send."


def _as_written(fields: list[str], *set_here: str) -> list[str]:
    """The export's `fields` copied as the file has them: all but the id and what the import sets itself.

    So a field the export adds is imported too, unless it is named here as a reference or a time.
    """
    return [name for name in fields if name not in {"id", *set_here}]


GROUP_COPIED = _as_written(GROUP_FIELDS, "slug", "created_at")
SERIES_COPIED = _as_written(SERIES_FIELDS, "created_at")
SESSION_COPIED = _as_written(SESSION_FIELDS, "series", "created_at")
TEXT_COPIED = _as_written(TEXT_FIELDS, "created_by", "created_at")
REVISION_COPIED = _as_written(REVISION_FIELDS, "created_by", "created_at")
READING_COPIED = _as_written(READING_FIELDS, "session", "text")
QUESTION_COPIED = _as_written(QUESTION_FIELDS, "session", "proposed_by", "created_at")
NOTE_COPIED = _as_written(
    NOTE_FIELDS,
    *("author", "selector", "question", "parent", "root", "hidden", "hidden_by", "hidden_root"),
    *("created_at", "updated_at"),
)


class _Where:
    """The path of what is being read (`notes[3]`), for error messages."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, field: str, message: str) -> ValidationError:
        return ValidationError({f"{self.path}.{field}" if field else self.path: message})


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValidationError({key: "Expected a list."})
    return value


def _get(row: dict, key: str, where: _Where, *, default=..., kinds: tuple = ()):
    if not isinstance(row, dict):
        raise where.error("", "Expected an object.")
    if key not in row:
        if default is ...:
            raise where.error(key, "This field is missing.")
        return default
    value = row[key]
    if kinds and not isinstance(value, kinds):
        raise where.error(key, f"Expected {' or '.join(kind.__name__ for kind in kinds)}.")
    return value


def _time(row: dict, key: str, where: _Where, *, required: bool = False) -> datetime | None:
    value = row.get(key) if isinstance(row, dict) else None
    if value is None:
        if required:
            raise where.error(key, "This field is missing.")
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise where.error(key, "Expected a time in ISO 8601 with an offset.")
    return moment


def _checked(obj: models.Model, where: _Where) -> models.Model:
    """The model's own field checks (lengths, choices, single-line text), without database queries."""
    relations = [field.name for field in obj._meta.fields if field.is_relation]
    try:
        obj.clean_fields(exclude=relations)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise where.error(field, " ".join(messages)) from None
    return obj


def _copy(model: type[models.Model], row: dict, fields: Iterable[str], where: _Where, **extra) -> models.Model:
    values = {}
    for name in fields:
        field = model._meta.get_field(name)
        if isinstance(field, models.DateTimeField):
            values[name] = _time(row, name, where, required=not field.null and not field.auto_now_add)
            if values[name] is None and (field.auto_now_add or field.auto_now):
                values.pop(name)
        elif isinstance(field, models.JSONField):
            values[name] = _get(row, name, where, default=field.get_default())
        else:
            optional = field.has_default() or field.null or field.blank
            values[name] = _get(row, name, where, default=field.get_default() if optional else ...)
    return _checked(model(**values, **extra), where)


def _keep_times(model: type[models.Model], objects: list, fields: list[str]) -> None:
    """Give rows back the times the file says (auto_now_add set them to now when they were created)."""
    objects = [obj for obj in objects if all(getattr(obj, name) is not None for name in fields)]
    if objects:
        model.objects.bulk_update(objects, fields, batch_size=500)


def _ref(mapping: dict, value, where: _Where, field: str, *, what: str, optional: bool = True):
    if value is None and optional:
        return None
    try:
        return mapping[value]
    except (KeyError, TypeError):
        raise where.error(field, f"Refers to {what} {value!r}, which is not in the file.") from None


def _unique_username(wanted: str) -> str:
    base = (slugify(wanted) or "member")[:140]
    username, n = base, 2
    while User.objects.filter(username__iexact=username).exists():
        username, n = f"{base}-{n}", n + 1
    return username


def _person(row: dict, where: _Where) -> User:
    email = _get(row, "email", where, default="", kinds=(str,)).strip()
    if email:
        matches = list(User.objects.filter(email__iexact=email)[:2])
        if len(matches) == 1:
            return matches[0]
    name = _get(row, "name", where, default="", kinds=(str,))
    user = User(
        username=_unique_username(_get(row, "username", where, default="", kinds=(str,)) or name),
        email=email,
        display_name=_get(row, "display_name", where, default=name, kinds=(str,)),
        first_name=_get(row, "first_name", where, default="", kinds=(str,)),
        last_name=_get(row, "last_name", where, default="", kinds=(str,)),
    )
    user.set_unusable_password()
    _checked(user, where)
    user.save()
    return user


def _check_version(data) -> None:
    if not isinstance(data, dict) or data.get("format") != GROUP_FORMAT:
        raise ValidationError({"format": f"This is not a group export: expected “format”: “{GROUP_FORMAT}”."})
    version = data.get("version")
    if not isinstance(version, int) or not 1 <= version <= GROUP_VERSION:
        raise ValidationError(
            {"version": f"Version {version!r} is not one this instance reads (1 to {GROUP_VERSION}): upgrade it first."}
        )


@transaction.atomic
def group_import(*, data: dict, slug: str | None = None, now: datetime | None = None) -> StudyGroup:
    """Create the group in `data` (a `studycircle.group` document) here, with new ids; `slug` overrides the file's.

    Reminders are planned for its upcoming sessions; those already due are
    marked skipped (the instance the group came from had them to send).
    """
    now = now or timezone.now()
    _check_version(data)
    where = _Where("group")
    group_row = _get(data, "group", where, kinds=(dict,))
    group = _copy(
        StudyGroup,
        group_row,
        GROUP_COPIED,
        where,
        slug=slug or _get(group_row, "slug", where, kinds=(str,)),
    )
    if StudyGroup.objects.filter(slug=group.slug).exists():
        raise ValidationError({"slug": f"A group with the slug “{group.slug}” exists here already: choose another."})
    group.save()
    _keep_times(StudyGroup, [_with_time(group, group_row, where, "created_at")], ["created_at"])

    people: dict[int, User] = {}
    memberships = []
    for index, row in enumerate(_list(data, "people")):
        where = _Where(f"people[{index}]")
        person_id = _get(row, "id", where, kinds=(int,))
        people[person_id] = _person(row, where)
        role = _get(row, "role", where, default=None)
        if role is not None:
            membership = _checked(Membership(group=group, user=people[person_id], role=role), where)
            memberships.append((membership, row, where))
    Membership.objects.bulk_create([membership for membership, _row, _where in memberships])
    _keep_times(Membership, [_with_time(*membership, field="joined_at") for membership in memberships], ["joined_at"])

    series: dict[int, Series] = {}
    for index, row in enumerate(_list(data, "series")):
        where = _Where(f"series[{index}]")
        item = _copy(Series, row, SERIES_COPIED, where, group=group)
        item.save()
        series[_get(row, "id", where, kinds=(int,))] = item

    sessions: dict[int, Session] = {}
    rsvps, attendance = [], []
    for index, row in enumerate(_list(data, "sessions")):
        where = _Where(f"sessions[{index}]")
        session = _copy(
            Session,
            row,
            SESSION_COPIED,
            where,
            group=group,
            series=_ref(series, row.get("series"), where, "series", what="series"),
        )
        if session.ends_at <= session.starts_at:
            raise where.error("ends_at", "A session ends after it starts.")
        session.save()
        sessions[_get(row, "id", where, kinds=(int,))] = session
        session.facilitators.set(
            [
                _ref(people, user, where, "facilitators", what="person")
                for user in _get(row, "facilitators", where, default=[])
            ]
        )
        for answer in _get(row, "rsvps", where, default=[], kinds=(list,)):
            person = _ref(people, answer.get("person"), where, "rsvps", what="person", optional=False)
            rsvps.append(_checked(RSVP(session=session, user=person, status=answer.get("status")), where))
        for mark in _get(row, "attendance", where, default=[], kinds=(list,)):
            person = _ref(people, mark.get("person"), where, "attendance", what="person", optional=False)
            marked_by = _ref(people, mark.get("marked_by"), where, "attendance", what="person")
            attendance.append(Attendance(session=session, user=person, marked_by=marked_by))
    RSVP.objects.bulk_create(rsvps)
    Attendance.objects.bulk_create(attendance)

    texts: dict[int, Text] = {}
    passages: dict[tuple[int, str], Passage] = {}
    for index, row in enumerate(_list(data, "texts")):
        where = _Where(f"texts[{index}]")
        text = _copy(Text, row, TEXT_COPIED, where, group=group, created_by=people.get(row.get("created_by")))
        text.save()
        _keep_times(Text, [_with_time(text, row, where, "created_at")], ["created_at"])
        text_id = _get(row, "id", where, kinds=(int,))
        texts[text_id] = text
        revisions = []
        for number, revision in enumerate(_get(row, "revisions", where, default=[], kinds=(list,))):
            inner = _Where(f"{where.path}.revisions[{number}]")
            item = _copy(
                TextRevision,
                revision,
                REVISION_COPIED,
                inner,
                text=text,
                created_by=people.get(revision.get("created_by")),
            )
            revisions.append((item, revision, inner))
        TextRevision.objects.bulk_create([item for item, _row, _where in revisions])
        _keep_times(TextRevision, [_with_time(*revision, field="created_at") for revision in revisions], ["created_at"])
        rows = []
        for number, passage in enumerate(_get(row, "passages", where, default=[], kinds=(list,))):
            inner = _Where(f"{where.path}.passages[{number}]")
            item = _copy(Passage, passage, PASSAGE_FIELDS, inner, text=text)
            if (text_id, item.anchor) in passages:
                raise inner.error("anchor", f"The anchor “{item.anchor}” is given twice in this text.")
            passages[(text_id, item.anchor)] = item
            rows.append(item)
        Passage.objects.bulk_create(rows, batch_size=500)

    def passage_at(row: dict, where: _Where, text_key: str = "text", anchor_key: str = "anchor") -> Passage:
        key = (row.get(text_key), row.get(anchor_key))
        if key not in passages:
            raise where.error(anchor_key, f"Refers to passage {key[1]!r} of text {key[0]!r}, which is not in the file.")
        return passages[key]

    readings = []
    for index, row in enumerate(_list(data, "readings")):
        where = _Where(f"readings[{index}]")
        text = _ref(texts, row.get("text"), where, "text", what="text", optional=False)
        readings.append(
            _copy(
                ReadingAssignment,
                row,
                READING_COPIED,
                where,
                session=_ref(sessions, row.get("session"), where, "session", what="session", optional=False),
                text=text,
                start_passage=passage_at(row, where, anchor_key="start"),
                end_passage=passage_at(row, where, anchor_key="end"),
            )
        )
    ReadingAssignment.objects.bulk_create(readings)

    questions: dict[int, DiscussionQuestion] = {}
    question_passages = []
    for index, row in enumerate(_list(data, "questions")):
        where = _Where(f"questions[{index}]")
        question = _copy(
            DiscussionQuestion,
            row,
            QUESTION_COPIED,
            where,
            session=_ref(sessions, row.get("session"), where, "session", what="session", optional=False),
            proposed_by=_ref(people, row.get("proposed_by"), where, "proposed_by", what="person"),
        )
        question.save()
        _keep_times(DiscussionQuestion, [_with_time(question, row, where, "created_at")], ["created_at"])
        questions[_get(row, "id", where, kinds=(int,))] = question
        for place in _get(row, "passages", where, default=[], kinds=(list,)):
            question_passages.append((question, passage_at(place, where)))
    DiscussionQuestion.passages.through.objects.bulk_create(
        [
            DiscussionQuestion.passages.through(discussionquestion=question, passage=passage)
            for question, passage in question_passages
        ]
    )

    _import_notes(_list(data, "notes"), people=people, questions=questions, passage_at=passage_at)
    _import_progress(data, people=people, sessions=sessions, passage_at=passage_at)
    group.refresh_from_db()
    _plan_reminders(group, now)
    return group


def _with_time(obj: models.Model, row: dict, where: _Where, field: str) -> models.Model:
    setattr(obj, field, _time(row, field, where))
    return obj


def _selector(value, where: _Where):
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(key), int) for key in ("start", "end")):
        raise where.error("selector", "Expected {start, end, exact, prefix, suffix} or null.")
    if not all(isinstance(value.get(key, ""), str) for key in ("exact", "prefix", "suffix")):
        raise where.error("selector", "The selector's exact, prefix and suffix are strings.")
    return value


def _import_progress(data: dict, *, people: dict, sessions: dict, passage_at) -> None:
    reads = []
    for index, row in enumerate(_list(data, "passages_read")):
        where = _Where(f"passages_read[{index}]")
        person = _ref(people, _get(row, "person", where), where, "person", what="person", optional=False)
        read_at = _time(row, "read_at", where, required=True)
        reads.append(PassageRead(user=person, passage=passage_at(row, where), read_at=read_at))
    PassageRead.objects.bulk_create(reads, batch_size=500)
    visits = []
    for index, row in enumerate(_list(data, "reading_visits")):
        where = _Where(f"reading_visits[{index}]")
        last = None
        if row.get("last_anchor") is not None:
            last = passage_at(row, where, text_key="last_text", anchor_key="last_anchor")
        visits.append(
            ReadingVisit(
                user=_ref(people, _get(row, "person", where), where, "person", what="person", optional=False),
                session=_ref(sessions, _get(row, "session", where), where, "session", what="session", optional=False),
                opened_at=_time(row, "opened_at", where, required=True),
                last_activity_at=_time(row, "last_activity_at", where, required=True),
                last_passage=last,
            )
        )
    ReadingVisit.objects.bulk_create(visits)


def _import_notes(rows: list, *, people: dict, questions: dict, passage_at) -> None:
    """Notes level by level (top-level notes, then replies to them, …), so each reply's parent has its new id."""
    notes: dict[int, Note] = {}
    pending: list[tuple[Note, dict, _Where]] = []
    levels: dict[int, int] = {}
    for index, row in enumerate(rows):
        where = _Where(f"notes[{index}]")
        note_id = _get(row, "id", where, kinds=(int,))
        parent = row.get("parent")
        if parent is not None and parent not in levels:
            raise where.error("parent", f"Refers to note {parent!r}, which is not earlier in the file.")
        levels[note_id] = 0 if parent is None else levels[parent] + 1
        body = _get(row, "body", where, default="", kinds=(str,))
        if problem := markdown_problem(body, what="note"):
            raise where.error("body", problem)
        note = _copy(
            Note,
            row,
            NOTE_COPIED,
            where,
            author=_ref(people, row.get("author"), where, "author", what="person", optional=False),
            passage=passage_at(row, where),
            selector=_selector(row.get("selector"), where),
            body_html=render_markdown(body) if body else "",
            question=_ref(questions, row.get("question"), where, "question", what="question"),
            hidden_by=_ref(people, row.get("hidden_by"), where, "hidden_by", what="person"),
        )
        if not isinstance(note.candidates, list):
            raise where.error("candidates", "Expected a list.")
        for candidate in note.candidates:
            if not isinstance(candidate, dict):
                raise where.error("candidates", "Expected a list of objects.")
            candidate["passage"] = passage_at({"text": row.get("text"), "anchor": candidate.get("anchor")}, where).pk
        pending.append((note, row, where))
        notes[note_id] = note
    for level in sorted(set(levels.values())):
        batch = [(note, row, where) for note, row, where in pending if levels[row["id"]] == level]
        for note, row, where in batch:
            note.parent = _ref(notes, row.get("parent"), where, "parent", what="note")
            note.root = _ref(notes, row.get("root"), where, "root", what="note")
            if (note.parent is None) != (note.root is None) or (note.root is not None and note.root.pk is None):
                raise where.error("root", "A reply names the top-level note of its thread, and only a reply does.")
            if note.root is not None and note.visibility != note.root.visibility:
                raise where.error("visibility", "A reply has the audience of its thread's top-level note.")
        Note.objects.bulk_create([note for note, _row, _where in batch], batch_size=500)
    hidden = []
    for note, row, where in pending:
        _with_time(note, row, where, "created_at")
        _with_time(note, row, where, "updated_at")
        if row.get("hidden"):
            note.hidden = True
            note.hidden_root = _ref(notes, row.get("hidden_root"), where, "hidden_root", what="note", optional=False)
            hidden.append(note)
        elif row.get("hidden_root") is not None:
            note.hidden_root = _ref(notes, row.get("hidden_root"), where, "hidden_root", what="note")
            hidden.append(note)
        if note.hidden_root is not None:
            note.hidden_author_id = note.hidden_root.author_id
    Note.objects.bulk_update(hidden, ["hidden", "hidden_root", "hidden_author"], batch_size=500)
    marks = []
    for note, row, where in pending:
        helpful_by = _get(row, "helpful_by", where, default=[], kinds=(list,))
        for person in helpful_by:
            user = _ref(people, person, where, "helpful_by", what="person", optional=False)
            marks.append(_checked(NoteHelpful(note=note, user=user), where))
        note.helpful_count = len(set(helpful_by))
    NoteHelpful.objects.bulk_create(marks, batch_size=500)
    Note.objects.bulk_update([note for note, _row, _where in pending], ["helpful_count"], batch_size=500)
    _keep_times(Note, [note for note, _row, _where in pending], ["created_at", "updated_at"])
    tags = []
    for note, row, where in pending:
        for name in _get(row, "tags", where, default=[], kinds=(list,)):
            tags.append(_checked(NoteTag(note=note, name=name), where))
    NoteTag.objects.bulk_create(tags, batch_size=500)


def _plan_reminders(group: StudyGroup, now: datetime) -> None:
    reminders_plan_for_group(group=group, now=now)
    Reminder.objects.filter(session__group=group, state=ReminderState.PENDING, due_at__lte=now).update(
        state=ReminderState.SKIPPED, last_error=SKIPPED_ON_IMPORT
    )
