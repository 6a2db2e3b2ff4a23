"""What is read and said: texts and their passages. Fields and constraints only."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.validators import validate_multiline_text, validate_single_line
from sessions_app.models import Session, StudyGroup

from .enums import AnchorState, ImportState, NoteVisibility, PassageKind, QuestionKind, QuestionState, TextFormat


class Text(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="texts")
    title = models.CharField(max_length=300, validators=[validate_single_line])
    author = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    source = models.CharField(
        max_length=500, blank=True, help_text="Citation or URL of the original.", validators=[validate_single_line]
    )
    # BCP 47 tag from the file's own metadata (EPUB dc:language, PDF /Lang), when it says.
    language = models.CharField(max_length=35, blank=True)
    original_format = models.CharField(max_length=8, choices=TextFormat.choices)
    revision = models.PositiveIntegerField(default=1)
    # The normalised full text of the current revision: passage bodies joined
    # by blank lines. Passage offsets point into it.
    full_text = models.TextField(blank=True)
    # Anchors are handed out from this counter and never reused.
    next_anchor = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [models.CheckConstraint(condition=Q(revision__gte=1), name="text_revision_positive")]

    def __str__(self) -> str:
        return self.title


class TextRevision(models.Model):
    """One import of a text: what came in, and what the importer noticed."""

    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    format = models.CharField(max_length=8, choices=TextFormat.choices)
    filename = models.CharField(max_length=255, blank=True, validators=[validate_single_line])
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the normalised text.")
    size_bytes = models.PositiveIntegerField()
    notices = models.JSONField(default=list, blank=True)
    # Counts of what the revision did to the passages: kept, edited, added, retired.
    changes = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["text_id", "number"]
        constraints = [models.UniqueConstraint(fields=["text", "number"], name="text_revision_number_once")]

    def __str__(self) -> str:
        return f"{self.text} r{self.number}"


class TextImport(models.Model):
    """An upload too large to import within a request (`IMPORT_ASYNC_BYTES`), imported by a worker.

    The bytes wait here, in the database, because the worker may run on
    another machine; they are dropped once the import ends either way.
    `revision_of` names the text a new revision is for; `text` is the
    result, set when the import is done.
    """

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="text_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    revision_of = models.ForeignKey(
        Text, on_delete=models.CASCADE, null=True, blank=True, related_name="revision_imports"
    )
    text = models.ForeignKey(Text, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=16, choices=ImportState.choices, default=ImportState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The upload, until the import ends.
    data = models.BinaryField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField()
    filename = models.CharField(max_length=255, blank=True, validators=[validate_single_line])
    content_type = models.CharField(max_length=100, blank=True)
    # The format asked for; blank means "detect".
    format = models.CharField(max_length=8, blank=True)
    # An EPUB's chapters to import (ids); null means all.
    chapters = models.JSONField(null=True, blank=True)
    # For a new text: what the person typed on the form (blank: take the document's own).
    title = models.CharField(max_length=300, blank=True, validators=[validate_single_line])
    author = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    source = models.CharField(max_length=500, blank=True, validators=[validate_single_line])
    # Each run claims the import by raising this; a run that finds it raised again was overtaken.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=ImportState.values), name="text_import_state_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="text_import_progress_at_most_100"),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(state__in=["queued", "running"]), name="text_import_open")
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.filename or 'pasted text'} ({self.state})"


class Passage(models.Model):
    """A paragraph, heading, quotation or list item of a text.

    Rows are updated in place across revisions: a passage keeps its row and
    `anchor` while its body is edited; removed passages are kept `retired`.
    """

    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="passages")
    anchor = models.CharField(max_length=16)
    # 1-based over the current revision's passages, headings included. A
    # retired passage keeps the position it last had.
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=PassageKind.choices)
    heading_level = models.PositiveSmallIntegerField(default=0)
    section = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    word_count = models.PositiveIntegerField()
    quoted = models.BooleanField(default=False)
    attribution = models.CharField(max_length=500, blank=True)
    cited_works = models.JSONField(default=list, blank=True)
    # The notes of the original (footnotes, endnotes) whose reference marks
    # are in this passage: [{"label": "1", "body": "..."}]. Not people's notes.
    footnotes = models.JSONField(default=list, blank=True)
    # Offsets into Text.full_text (code points), for the current revision.
    start_offset = models.PositiveIntegerField(default=0)
    end_offset = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)
    revision_added = models.PositiveIntegerField(default=1)
    revision_changed = models.PositiveIntegerField(default=1)
    revision_retired = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["text_id", "retired", "position", "id"]
        indexes = [models.Index(fields=["text", "retired", "position"], name="passage_reading_order")]
        constraints = [
            models.UniqueConstraint(fields=["text", "anchor"], name="passage_anchor_once_per_text"),
            models.UniqueConstraint(
                fields=["text", "position"], condition=Q(retired=False), name="passage_position_once_per_text"
            ),
            models.CheckConstraint(condition=Q(kind__in=PassageKind.values), name="passage_kind_valid"),
            models.CheckConstraint(condition=Q(position__gte=1), name="passage_position_positive"),
            models.CheckConstraint(
                condition=Q(end_offset__gte=models.F("start_offset")), name="passage_offsets_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text} §{self.position} ({self.anchor})"


class ReadingAssignment(models.Model):
    """A contiguous range of one text's passages, read for a session.

    The range is by position: passages inserted inside it by a later revision
    belong to it, retired ones drop out.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="readings")
    text = models.ForeignKey(Text, on_delete=models.CASCADE, related_name="assignments")
    start_passage = models.ForeignKey(Passage, on_delete=models.PROTECT, related_name="+")
    end_passage = models.ForeignKey(Passage, on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(default=True)
    instructions = models.TextField(blank=True, validators=[validate_multiline_text])
    position = models.PositiveIntegerField(default=1)
    reading_minutes = models.PositiveIntegerField(default=0)
    word_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.text} §{self.start_passage.position}–{self.end_passage.position} for {self.session}"


class DiscussionQuestion(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=1)
    # A question may run over a few lines (a quotation, then the question).
    prompt = models.TextField(validators=[validate_multiline_text])
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, default=QuestionKind.DISCUSSION)
    passages = models.ManyToManyField(Passage, blank=True, related_name="questions")
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    facilitator_notes = models.TextField(blank=True, validators=[validate_multiline_text])
    state = models.CharField(max_length=16, choices=QuestionState.choices, default=QuestionState.ACCEPTED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=QuestionState.values), name="question_state_valid"),
        ]

    def __str__(self) -> str:
        return self.prompt[:60]


class NoteQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        fill_thread_copies(objs)
        return super().bulk_create(objs, *args, **kwargs)


def fill_thread_copies(notes: list["Note"]) -> None:
    """Give notes about to be written without them their copies of the thread (`thread_author`, `hidden_author`).

    A default, as `auto_now` is: from the note itself, the root or hidden root it holds, else one query.
    The note services set them; this serves whoever writes notes directly (fixtures, benchmarks).
    """
    wanted: set[int] = set()
    for note in notes:
        for copy, relation in (("thread_author", "root"), ("hidden_author", "hidden_root")):
            if getattr(note, f"{copy}_id") is not None:
                continue
            field = Note._meta.get_field(relation)
            source = field.get_cached_value(note) if field.is_cached(note) else getattr(note, field.attname)
            if source is None:
                if copy == "thread_author":  # a top-level note leads its own thread
                    note.thread_author_id = note.author_id
            elif isinstance(source, Note):
                setattr(note, f"{copy}_id", source.author_id)
            elif source == note.pk:
                setattr(note, f"{copy}_id", note.author_id)
            else:
                wanted.add(source)
    if wanted:
        authors = dict(Note.objects.filter(pk__in=wanted).values_list("pk", "author_id"))
        for note in notes:
            if note.thread_author_id is None and note.root_id is not None:
                note.thread_author_id = authors.get(note.root_id)
            if note.hidden_author_id is None and note.hidden_root_id is not None:
                note.hidden_author_id = authors.get(note.hidden_root_id)


class Note(models.Model):
    """An annotation on a passage, optionally on a quoted span of it.

    `selector` is a W3C TextPositionSelector + TextQuoteSelector in Unicode
    code points: {start, end, exact, prefix, suffix}; null means the whole
    passage. A deleted note that has replies stays as a placeholder
    (`deleted_at` set, body emptied) so the thread keeps its shape.
    """

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="notes")
    selector = models.JSONField(null=True, blank=True)
    body = models.TextField(blank=True, validators=[validate_multiline_text])
    body_html = models.TextField(blank=True)
    visibility = models.CharField(max_length=16, choices=NoteVisibility.choices, default=NoteVisibility.PRIVATE)
    question = models.ForeignKey(
        DiscussionQuestion, on_delete=models.SET_NULL, null=True, blank=True, related_name="answers"
    )
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    # The top-level note of this reply's thread (null for a top-level note): the thread's audience is
    # its root's, at any depth. Set by the note services.
    root = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="thread")
    anchor_state = models.CharField(max_length=16, choices=AnchorState.choices, default=AnchorState.ANCHORED)
    # Where an orphaned quote could go: [{"passage", "anchor", "position", "start", "end"}].
    candidates = models.JSONField(default=list, blank=True)
    hidden = models.BooleanField(default=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The topmost hidden note at or above this one (this note itself, if it is that one), or null:
    # hiding a note takes it and every reply under it out of view. Kept by the note services.
    hidden_root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="hidden_subtree"
    )
    # Copies, so the visibility rule reads one row (`selectors._visible_in_group`): the thread root's
    # author (the note's own for a top-level note), who sees the whole thread, and `hidden_root`'s author
    # (null when nothing hides the note), who still sees what was hidden. A reply's `visibility` is its
    # root's likewise. Kept by the note services in the same transaction; on PostgreSQL the database
    # refuses any note that disagrees with its root or its hidden root (migration readings.0014).
    thread_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    hidden_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A highlight: words marked in the passage, with no body and no card; it takes no replies.
    highlight = models.BooleanField(default=False)
    # How many people marked it helpful (rows of NoteHelpful), kept by the note services in the same
    # transaction; shown only where the note is not private.
    helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["passage", "visibility"], name="note_passage_visibility"),
            models.Index(fields=["author", "passage"], name="note_author_passage"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(visibility__in=NoteVisibility.values), name="note_visibility_valid"),
            models.CheckConstraint(condition=Q(anchor_state__in=AnchorState.values), name="note_anchor_state_valid"),
            models.CheckConstraint(
                condition=~Q(hidden=True, visibility=NoteVisibility.PRIVATE), name="note_private_never_hidden"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, root__isnull=True) | Q(parent__isnull=False, root__isnull=False),
                name="note_reply_has_root",
            ),
            models.CheckConstraint(condition=~Q(hidden=True, hidden_root__isnull=True), name="note_hidden_in_subtree"),
            models.CheckConstraint(
                condition=Q(root__isnull=False) | Q(thread_author=F("author")), name="note_top_level_leads_its_thread"
            ),
            models.CheckConstraint(
                condition=Q(hidden_root__isnull=True, hidden_author__isnull=True)
                | Q(hidden_root__isnull=False, hidden_author__isnull=False),
                name="note_hidden_author_with_hidden_root",
            ),
            models.CheckConstraint(
                condition=Q(highlight=False) | Q(body="", parent__isnull=True, selector__isnull=False),
                name="note_highlight_is_bodiless_span",
            ),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} by {self.author_id} on {self.passage_id}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            fill_thread_copies([self])
        super().save(*args, **kwargs)


class NoteHelpful(models.Model):
    """One person found one note helpful (at most once; undoing deletes the row)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="helpful_marks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "user"], name="note_helpful_once_per_person")]
        indexes = [models.Index(fields=["user", "note"], name="note_helpful_by_user")]

    def __str__(self) -> str:
        return f"{self.user_id} found note {self.note_id} helpful"


class NoteMention(models.Model):
    """A member mentioned (`@username`) in a note; `notified` says whether the note's audience includes them."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notified = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["note", "user"], name="note_mention_once")]

    def __str__(self) -> str:
        return f"Mention of {self.user_id} in note {self.note_id}"


class NoteTag(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40, validators=[validate_single_line])

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["note", "name"], name="note_tag_once")]
        indexes = [models.Index(fields=["name"], name="note_tag_name")]

    def __str__(self) -> str:
        return self.name


class PassageRead(models.Model):
    """A passage a person has read: on screen long enough to read it, or marked read. Once per person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passages_read")
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField()

    class Meta:
        ordering = ["user_id", "passage_id"]
        constraints = [models.UniqueConstraint(fields=["user", "passage"], name="passage_read_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.passage_id}"


class ReadingVisit(models.Model):
    """A person's reading of one session: when they opened it, where they were last, when last active."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_visits")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reading_visits")
    opened_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    # "Continue where I left off": the passage they reached last.
    last_passage = models.ForeignKey(Passage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["session_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "session"], name="reading_visit_once")]

    def __str__(self) -> str:
        return f"{self.user_id} reading {self.session_id}"
