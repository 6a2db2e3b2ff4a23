from django.db import models

# Who sees a note: defined beside the group settings that name a default audience, re-exported here.
from sessions_app.enums import NoteVisibility as NoteVisibility


class TextFormat(models.TextChoices):
    TXT = "txt", "Plain text"
    MD = "md", "Markdown"
    HTML = "html", "HTML"
    EPUB = "epub", "EPUB"
    PDF = "pdf", "PDF"


class PassageKind(models.TextChoices):
    HEADING = "heading", "Heading"
    PARAGRAPH = "paragraph", "Paragraph"
    QUOTATION = "quotation", "Quotation"
    LIST_ITEM = "list_item", "List item"


class QuestionKind(models.TextChoices):
    OPENING = "opening", "Opening"
    COMPREHENSION = "comprehension", "Comprehension"
    DISCUSSION = "discussion", "Discussion"
    APPLICATION = "application", "Application"
    CLOSING = "closing", "Closing"


class QuestionState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class AnchorState(models.TextChoices):
    ANCHORED = "anchored", "Anchored"
    MOVED = "moved", "Moved"
    ORPHANED = "orphaned", "Orphaned"


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ProgressStatus(models.TextChoices):
    NOT_OPENED = "not_opened", "Not opened"
    IN_PROGRESS = "in_progress", "In progress"
    FINISHED = "finished", "Finished"
