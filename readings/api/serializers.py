"""Readings over HTTP: input serializers validate, output serializers shape."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import AwareDateTimeField, DescriptionField, MultiLineField, SingleLineField
from sessions_app.api.serializers import ChoiceField
from sessions_app.enums import SessionStatus, SummaryAttendance

from ..enums import AnchorState, NoteVisibility, PassageKind, ProgressStatus, QuestionKind, TextFormat
from ..mentions import html_with_mention_names, mention_names
from ..models import DiscussionQuestion, Note, Passage, ReadingAssignment, Text, TextImport, TextRevision
from ..search import KINDS, QUERY_MAX_CHARS


class TextContentSerializer(serializers.Serializer):
    """The content of an import: a multipart `file`, or `content` with an optional `format`."""

    file = serializers.FileField(
        required=False, help_text="The text as a .txt, .md, .html, .epub or .pdf file (multipart)."
    )
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The text itself, when not uploading a file."
    )
    format = ChoiceField(
        choices=TextFormat.choices,
        required=False,
        help_text="txt, md, html, epub or pdf; detected from the file name, content type or content when left out.",
    )
    chapters = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="EPUB only: the ids of the chapters to import (from `texts/inspect/`); all when left out.",
    )

    def to_internal_value(self, data):
        # A multipart form sends each chosen chapter as its own `chapters` field.
        if hasattr(data, "getlist") and "chapters" in data:
            # A plain dict, not QueryDict.copy(): that deep-copies the uploaded file.
            chapters = [item for value in data.getlist("chapters") for item in _split(value)]
            data = {key: data.get(key) for key in data} | {"chapters": chapters}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if not attrs.get("file") and attrs.get("content") is None:
            raise serializers.ValidationError({"file": "Send a file, or the text itself as “content”."})
        if attrs.get("file") and attrs.get("content") is not None:
            raise serializers.ValidationError({"content": "Send a file or content, not both."})
        return attrs


def _split(value: str) -> list[str]:
    """`chapters=a,b` in a form is the same as `chapters=a&chapters=b`."""
    return [item.strip() for item in str(value).split(",") if item.strip()]


class TextInspectSerializer(serializers.Serializer):
    """A file to look at before importing it: `group` says whose import it is."""

    group = serializers.IntegerField()
    file = serializers.FileField(help_text="The .epub, .pdf, .txt, .md or .html file (multipart).")
    format = ChoiceField(choices=TextFormat.choices, required=False)


class ChapterSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    level = serializers.IntegerField()


class InspectedMetadataSerializer(serializers.Serializer):
    title = serializers.CharField(required=False)
    author = serializers.CharField(required=False)
    language = serializers.CharField(required=False)
    source = serializers.CharField(required=False)


class TextInspectionSerializer(serializers.Serializer):
    format = serializers.CharField()
    metadata = InspectedMetadataSerializer()
    chapters = ChapterSerializer(many=True, help_text="An EPUB's table of contents; empty for other formats.")
    pages = serializers.IntegerField(allow_null=True, help_text="A PDF's page count; null for other formats.")


class TextInputSerializer(TextContentSerializer):
    group = serializers.IntegerField()
    title = SingleLineField(max_length=300, required=False, allow_blank=True, default="")
    author = SingleLineField(max_length=200, required=False, allow_blank=True, default="")
    source = SingleLineField(max_length=500, required=False, allow_blank=True, default="")
    if_title_exists = ChoiceField(
        choices=[("import", "import"), ("refuse", "refuse")],
        required=False,
        default="import",
        help_text="When the group already has a text with the title this one takes: `import` a separate text "
        "(the default), or `refuse` with a 400 on `title` naming that text, to send the file to its "
        "`revisions/` instead. An upload imported by a worker is checked against the `title` given.",
    )


class TextUpdateSerializer(serializers.Serializer):
    title = SingleLineField(max_length=300, required=False)
    author = SingleLineField(max_length=200, required=False, allow_blank=True)
    source = SingleLineField(max_length=500, required=False, allow_blank=True)


class CitedWorkSerializer(serializers.Serializer):
    title = serializers.CharField()
    passages = serializers.ListField(child=serializers.IntegerField(), help_text="Positions of the citing passages.")


class TextSummarySerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="original_format", read_only=True)
    passage_count = serializers.IntegerField(read_only=True)
    created_at = AwareDateTimeField(read_only=True)
    updated_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Text
        fields = [
            "id",
            "group",
            "title",
            "author",
            "source",
            "language",
            "format",
            "revision",
            "passage_count",
            "created_at",
            "updated_at",
        ]


class TextSerializer(TextSummarySerializer):
    """A text with what the importer found: cited works and notices of its latest revision."""

    cited_works = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()

    class Meta(TextSummarySerializer.Meta):
        fields = [*TextSummarySerializer.Meta.fields, "cited_works", "notices"]

    @extend_schema_field(CitedWorkSerializer(many=True))
    def get_cited_works(self, text: Text) -> list[dict]:
        return self.context["cited_works"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_notices(self, text: Text) -> list[str]:
        return self.context["notices"]


class FootnoteSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The reference mark as printed: “1”, “*”.")
    body = serializers.CharField()


class PassageSerializer(serializers.ModelSerializer):
    footnotes = FootnoteSerializer(many=True, read_only=True, help_text="The original's footnotes/endnotes.")

    class Meta:
        model = Passage
        fields = [
            "id",
            "anchor",
            "position",
            "kind",
            "section",
            "body",
            "word_count",
            "quoted",
            "attribution",
            "cited_works",
            "footnotes",
            "retired",
            "start_offset",
            "end_offset",
        ]


class TextImportSerializer(serializers.ModelSerializer):
    """Where an import running in a worker stands: `text` once it is done, `error` if it failed."""

    text = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="The text, once done.")
    error = serializers.SerializerMethodField()

    class Meta:
        model = TextImport
        fields = ["state", "progress", "text", "error"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, job: TextImport) -> str | None:
        return job.error or None


class PassageQuerySerializer(serializers.Serializer):
    include_retired = serializers.BooleanField(
        required=False, default=False, help_text="Also list retired passages, last (true or false)."
    )


class RevisionSerializer(serializers.ModelSerializer):
    created_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = TextRevision
        fields = ["number", "format", "filename", "checksum", "size_bytes", "notices", "changes", "created_at"]


# --- Assignments -------------------------------------------------------------------


class PassageRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    anchor = serializers.CharField()


class TextRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.CharField(required=False)


class AssignmentInputSerializer(serializers.Serializer):
    text = serializers.IntegerField()
    start_passage = serializers.IntegerField()
    end_passage = serializers.IntegerField()
    required = serializers.BooleanField(default=True)
    instructions = DescriptionField(allow_blank=True, required=False, default="")


class AssignmentUpdateSerializer(serializers.Serializer):
    start_passage = serializers.IntegerField(required=False)
    end_passage = serializers.IntegerField(required=False)
    required = serializers.BooleanField(required=False)
    instructions = DescriptionField(allow_blank=True, required=False)
    position = serializers.IntegerField(min_value=1, required=False)


class AssignmentSerializer(serializers.ModelSerializer):
    text = TextRefSerializer(read_only=True)
    start_passage = PassageRefSerializer(read_only=True)
    end_passage = PassageRefSerializer(read_only=True)

    class Meta:
        model = ReadingAssignment
        fields = [
            "id",
            "text",
            "start_passage",
            "end_passage",
            "required",
            "instructions",
            "position",
            "word_count",
            "reading_minutes",
        ]


# --- Questions -----------------------------------------------------------------------


class QuestionInputSerializer(serializers.Serializer):
    prompt = MultiLineField(max_length=2000)
    kind = ChoiceField(choices=QuestionKind.choices, default=QuestionKind.DISCUSSION)
    passages = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    minutes = serializers.IntegerField(min_value=1, max_value=240, required=False, allow_null=True, default=None)
    facilitator_notes = DescriptionField(allow_blank=True, required=False, default="")


class QuestionUpdateSerializer(serializers.Serializer):
    prompt = MultiLineField(max_length=2000, required=False)
    kind = ChoiceField(choices=QuestionKind.choices, required=False)
    passages = serializers.ListField(child=serializers.IntegerField(), required=False)
    minutes = serializers.IntegerField(min_value=1, max_value=240, required=False, allow_null=True)
    facilitator_notes = DescriptionField(allow_blank=True, required=False)


class ReorderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), help_text="Every question id, in the new order.")


class QuestionSerializer(serializers.ModelSerializer):
    """A question; `facilitator_notes` only for those with facilitator rights (absent otherwise)."""

    passages = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    proposed_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DiscussionQuestion
        fields = [
            "id",
            "position",
            "prompt",
            "kind",
            "passages",
            "minutes",
            "facilitator_notes",
            "state",
            "proposed_by",
        ]

    def to_representation(self, question):
        data = super().to_representation(question)
        if not self.context.get("facilitator_rights"):
            data.pop("facilitator_notes")
        return data


# --- Notes ----------------------------------------------------------------------------


class SelectorSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Code point offset into the passage body.")
    end = serializers.IntegerField()
    exact = serializers.CharField(trim_whitespace=False)
    prefix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    suffix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class NoteInputSerializer(serializers.Serializer):
    passage = serializers.IntegerField()
    body = MultiLineField(
        trim_whitespace=False, max_length=None, required=False, default="", help_text="Markdown; empty for a highlight."
    )
    visibility = ChoiceField(
        choices=NoteVisibility.choices,
        required=False,
        default=None,
        help_text="Default: a highlight is private; a note is for the audience you chose last in this group, "
        "else the group's `default_note_visibility`. A reply always has its thread's audience.",
    )
    highlight = serializers.BooleanField(
        required=False, default=False, help_text="Mark the selected words only: no body, no replies."
    )
    selector = SelectorSerializer(required=False, allow_null=True, default=None)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)
    question = serializers.IntegerField(required=False, allow_null=True, default=None)
    tags = serializers.ListField(child=SingleLineField(max_length=60), required=False, default=list)


_PREPARED: dict[tuple[type, bool], serializers.Serializer] = {}


def validated_input(serializer_class: type[serializers.Serializer], data, *, partial: bool = False) -> dict:
    """What `serializer_class(data=data, partial=partial)` validates `data` to; its 400 as `is_valid` raises it.

    DRF builds a serializer's fields anew for each instance (deep copies of the declared ones), which cost
    several times more than checking a note's input with them. The fields of one instance per class, kept
    for the process, check each request's data instead (validating keeps nothing on them). Data they
    refuse goes through a new instance's `is_valid`, so every error reads exactly as it did.
    """
    key = (serializer_class, partial)
    if (prepared := _PREPARED.get(key)) is None:
        prepared = _PREPARED[key] = serializer_class(partial=partial)
    try:
        return dict(prepared.run_validation(data))
    except serializers.ValidationError:
        pass
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class NoteUpdateSerializer(serializers.Serializer):
    body = MultiLineField(trim_whitespace=False, required=False)
    visibility = ChoiceField(choices=NoteVisibility.choices, required=False)
    selector = SelectorSerializer(required=False, allow_null=True)
    passage = serializers.IntegerField(required=False, help_text="Re-attach the note to another passage.")
    question = serializers.IntegerField(required=False, allow_null=True)
    tags = serializers.ListField(child=SingleLineField(max_length=60), required=False)


class HideSerializer(serializers.Serializer):
    hidden = serializers.BooleanField(default=True)


class HelpfulSerializer(serializers.Serializer):
    """What a helpful mark changed: the note's count and whether the requester's mark is on it."""

    note = serializers.IntegerField()
    helpful_count = serializers.IntegerField()
    helpful_by_me = serializers.BooleanField()


class CandidateSerializer(serializers.Serializer):
    passage = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class NoteSerializer(serializers.ModelSerializer):
    """A note as its reader may see it. A deleted note with replies reads as an empty placeholder."""

    author = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField(
        help_text="The body rendered and sanitised; a mention shows the member's current display name."
    )
    selector = SelectorSerializer(read_only=True, allow_null=True)
    candidates = CandidateSerializer(many=True, read_only=True)
    deleted = serializers.SerializerMethodField()
    helpful_count = serializers.SerializerMethodField()
    helpful_by_me = serializers.SerializerMethodField()
    created_at = AwareDateTimeField(read_only=True)
    updated_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "passage",
            "author",
            "body",
            "body_html",
            "visibility",
            "highlight",
            "selector",
            "parent",
            "question",
            "tags",
            "mentions",
            "anchor_state",
            "candidates",
            "hidden",
            "deleted",
            "helpful_count",
            "helpful_by_me",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        }
    )
    def get_author(self, note: Note) -> dict | None:
        if note.deleted_at is not None:
            return None
        return {"id": note.author_id, "name": note.author.name}

    def get_tags(self, note: Note) -> list[str]:
        return [tag.name for tag in note.tags.all()]

    def get_body_html(self, note: Note) -> str:
        return html_with_mention_names(note.body_html, mention_names(note))

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "notified": {"type": "boolean", "description": "Whether the note's audience includes them."},
                },
                "required": ["id", "name", "notified"],
            },
        }
    )
    def get_mentions(self, note: Note) -> list[dict]:
        """The members the note mentions (`@username`), by their current name."""
        return [
            {"id": mention.user_id, "name": mention.user.name, "notified": mention.notified}
            for mention in note.mentions.all()
        ]

    def get_deleted(self, note: Note) -> bool:
        return note.deleted_at is not None

    @extend_schema_field(
        serializers.IntegerField(allow_null=True, help_text="How many found it helpful; null for a private note.")
    )
    def get_helpful_count(self, note: Note) -> int | None:
        return None if note.visibility == NoteVisibility.PRIVATE else note.helpful_count

    def get_helpful_by_me(self, note: Note) -> bool:
        return bool(getattr(note, "helpful_by_me", False))

    def to_representation(self, note: Note) -> dict:
        """The fields above, written directly: DRF's field-by-field walk (and building the fields on each
        serializer) was about a tenth of writing a note.

        tests/readings/test_api_notes_cost.py::test_a_note_answers_what_its_declared_fields_answer holds it to
        what the declared fields answer.
        """
        deleted = note.deleted_at is not None
        return {
            "id": note.pk,
            "passage": note.passage_id,
            "author": None if deleted else {"id": note.author_id, "name": note.author.name},
            "body": note.body,
            "body_html": self.get_body_html(note),
            "visibility": note.visibility,
            "highlight": bool(note.highlight),
            "selector": None if note.selector is None else _selector_json(note.selector),
            "parent": note.parent_id,
            "question": note.question_id,
            "tags": self.get_tags(note),
            "mentions": self.get_mentions(note),
            "anchor_state": note.anchor_state,
            "candidates": [_candidate_json(candidate) for candidate in note.candidates],
            "hidden": bool(note.hidden),
            "deleted": deleted,
            "helpful_count": self.get_helpful_count(note),
            "helpful_by_me": self.get_helpful_by_me(note),
            "created_at": _instant(note.created_at),
            "updated_at": _instant(note.updated_at),
        }


_instant = AwareDateTimeField().to_representation


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


def _selector_json(selector: dict) -> dict:
    """A stored selector as `SelectorSerializer` answers it: `prefix` and `suffix` only where it has them."""
    answer = {
        "start": _int_or_none(selector["start"]),
        "end": _int_or_none(selector["end"]),
        "exact": _text_or_none(selector["exact"]),
    }
    for key in ("prefix", "suffix"):
        if key in selector:
            answer[key] = _text_or_none(selector[key])
    return answer


def _candidate_json(candidate: dict) -> dict:
    """A place an orphaned note could go, as `CandidateSerializer` answers it."""
    return {
        "passage": _int_or_none(candidate["passage"]),
        "anchor": _text_or_none(candidate["anchor"]),
        "position": _int_or_none(candidate["position"]),
        "start": _int_or_none(candidate["start"]),
        "end": _int_or_none(candidate["end"]),
    }


class AnswersSerializer(serializers.Serializer):
    question = QuestionSerializer()
    answers = NoteSerializer(many=True)


class BusyPassageSerializer(serializers.Serializer):
    passage = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()
    text = TextRefSerializer()
    note_count = serializers.IntegerField()


class HighlightedWordsSerializer(serializers.Serializer):
    words = serializers.CharField()
    times = serializers.IntegerField(help_text="How many group or facilitators highlights mark exactly these words.")


class StuckPassageSerializer(serializers.Serializer):
    passage = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()
    text = TextRefSerializer()
    asking = serializers.IntegerField(
        help_text="Notes that ask: tagged question or confused, or ending in a question mark (never private ones)."
    )
    most_highlighted = HighlightedWordsSerializer(allow_null=True)


# --- Reading progress -----------------------------------------------------------------------


class ProgressInputSerializer(serializers.Serializer):
    passages = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=500,
        allow_empty=True,
        help_text="Ids of passages of the session's reading read since the last batch (or marked read).",
    )
    last_passage = serializers.IntegerField(
        required=False, min_value=1, allow_null=True, help_text="The passage to continue from next time."
    )


class ProgressPassageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()
    text = serializers.IntegerField(source="text_id")


class ReadingProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="assignment.id")
    text = TextRefSerializer(source="assignment.text")
    required = serializers.BooleanField(source="assignment.required")
    words = serializers.IntegerField()
    read_words = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)


class OwnProgressSerializer(serializers.Serializer):
    required_words = serializers.IntegerField(help_text="Words in the required readings' passages.")
    read_words = serializers.IntegerField(help_text="Of those, words in passages read.")
    percent = serializers.IntegerField(allow_null=True, help_text="Whole percent read; null if nothing is required.")
    status = ChoiceField(choices=ProgressStatus.choices)
    opened_at = AwareDateTimeField(allow_null=True)
    last_activity_at = AwareDateTimeField(allow_null=True)
    last_passage = ProgressPassageSerializer(allow_null=True, help_text="Where to continue.")
    passages_read = serializers.ListField(child=serializers.IntegerField())
    readings = ReadingProgressSerializer(many=True)


class MemberProgressSerializer(serializers.Serializer):
    user = serializers.SerializerMethodField()
    role = serializers.CharField()
    opened = serializers.BooleanField()
    read_words = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)
    status = ChoiceField(choices=ProgressStatus.choices)
    notes = serializers.IntegerField(help_text="Notes on the session's passages that you may see.")
    replies = serializers.IntegerField(help_text="Replies on the session's passages that you may see.")
    last_activity_at = AwareDateTimeField(allow_null=True)

    @extend_schema_field({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}})
    def get_user(self, row) -> dict:
        return {"id": row.user.pk, "name": row.user.name}


class ProgressTotalsSerializer(serializers.Serializer):
    members = serializers.IntegerField()
    not_opened = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    finished = serializers.IntegerField()
    average_percent = serializers.IntegerField(allow_null=True)


class GroupProgressSerializer(serializers.Serializer):
    totals = ProgressTotalsSerializer(help_text="How the group stands.")
    members = MemberProgressSerializer(
        many=True, allow_null=True, help_text="Each member; null when the group shows facilitators totals only."
    )


class ProgressSerializer(serializers.Serializer):
    mine = OwnProgressSerializer()
    group = GroupProgressSerializer(allow_null=True, help_text="For facilitators and organizers; null for others.")
    pace_words_per_minute = serializers.IntegerField(
        help_text="A passage counts once on screen for its words at this pace,"
    )
    cap_seconds = serializers.IntegerField(help_text="but never needs longer than this many seconds.")


# --- The facilitator's brief (readings/brief.py: plain dicts, here described for the schema) -------


class BriefPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BriefPassageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()


class PackMentionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(help_text="As written in `body` after the @.")
    name = serializers.CharField(help_text="Their display name now; `body_html` shows the mention by it.")


class BriefNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = BriefPersonSerializer(allow_null=True, help_text="null for a deleted note kept for its replies")
    passage = BriefPassageSerializer()
    body = serializers.CharField()
    body_html = serializers.CharField()
    mentions = PackMentionSerializer(many=True, help_text="Whom it mentions, by their display name now.")
    visibility = serializers.ChoiceField(
        choices=NoteVisibility.choices, help_text="group or facilitators: never private."
    )


class BriefHelpfulNoteSerializer(BriefNoteSerializer):
    helpful_count = serializers.IntegerField(help_text="How many found it helpful.")


class BriefRepliedNoteSerializer(BriefNoteSerializer):
    replies = serializers.IntegerField(help_text="Replies you may see (never private ones).")


class BriefQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Its rank among the session's accepted questions (question 2).")
    prompt = serializers.CharField()
    answers = BriefNoteSerializer(many=True, help_text="Notes that answer it, oldest first.")
    unanswered = serializers.BooleanField(help_text="No note answers it yet.")


class BriefStuckPassageSerializer(StuckPassageSerializer):
    heat = serializers.IntegerField(help_text="Its asking notes as a whole percent of the top passage's (0–100).")


class BriefMemberSerializer(serializers.Serializer):
    user = BriefPersonSerializer()
    opened = serializers.BooleanField()
    percent = serializers.IntegerField(allow_null=True, help_text="Whole percent of the required words read.")
    status = ChoiceField(choices=ProgressStatus.choices)


class BriefProgressSerializer(serializers.Serializer):
    totals = ProgressTotalsSerializer()
    members = BriefMemberSerializer(
        many=True, allow_null=True, help_text="Each member; null when the group shows facilitators totals only."
    )
    not_opened = BriefPersonSerializer(many=True, allow_null=True, help_text="Who has not opened the reading yet.")
    in_progress = BriefPersonSerializer(many=True, allow_null=True, help_text="Who has started but not finished.")


class BriefProposedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prompt = serializers.CharField()
    proposed_by = BriefPersonSerializer(allow_null=True)


class BriefSerializer(serializers.Serializer):
    """The facilitator's brief: only what its facilitator may see, never a private note or a count of one."""

    questions = BriefQuestionSerializer(many=True, help_text="Each accepted question, in order, with its answers.")
    stuck = BriefStuckPassageSerializer(many=True, help_text="Where members got stuck, most asking first.")
    most_helpful = BriefHelpfulNoteSerializer(many=True, help_text="Notes marked helpful most often.")
    most_replied = BriefRepliedNoteSerializer(many=True, help_text="Notes with the most replies.")
    progress = BriefProgressSerializer(help_text="Who has read the required reading.")
    proposed = BriefProposedSerializer(many=True, help_text="Proposed questions waiting for a decision.")


class DiscussionSerializer(serializers.Serializer):
    questions = AnswersSerializer(many=True)
    busiest_passages = BusyPassageSerializer(many=True)
    stuck = StuckPassageSerializer(many=True, help_text="Where members got stuck: passages by the notes that ask.")
    brief = BriefSerializer(help_text="The facilitator's brief (also in the facilitators' pack and email).")


# --- Search ---------------------------------------------------------------------------------


class SearchQuerySerializer(serializers.Serializer):
    q = SingleLineField(
        max_length=QUERY_MAX_CHARS,
        help_text='What to look for, in web search syntax: words, "an exact phrase", -excluded, this or that.',
        error_messages={"blank": "Type a word or two to search for.", "required": "Type a word or two to search for."},
    )
    group = serializers.IntegerField(required=False, min_value=1, help_text="Only this group's texts and notes.")
    text = serializers.IntegerField(required=False, min_value=1, help_text="Only this text and notes on it.")
    session = serializers.IntegerField(
        required=False, min_value=1, help_text="Only the passages this session reads, the notes on them and its texts."
    )
    author = serializers.IntegerField(required=False, min_value=1, help_text="Only notes and replies by this person.")
    tag = SingleLineField(required=False, max_length=40, help_text="Only notes and replies with this tag.")
    kind = ChoiceField(choices=[(kind, kind) for kind in KINDS], required=False, help_text="Only hits of this kind.")


# A search's pages: far more than anyone pages through, and few enough that the offset of the last
# (times the largest page) is a number the database takes (10**18 pages answered 500 once).
SEARCH_PAGE_MAX = 100_000


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(
        required=False, min_value=1, max_value=SEARCH_PAGE_MAX, default=1, help_text="Which page, from 1."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=100, default=20, help_text="Results per page (up to 100)."
    )


class SearchPassageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()


class SearchGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SearchAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SearchResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in KINDS])
    id = serializers.IntegerField(help_text="The text's, passage's or note's id.")
    rank = serializers.FloatField(help_text="How well it matches (PostgreSQL's ts_rank; 0 on SQLite).")
    group = SearchGroupSerializer()
    text = TextRefSerializer()
    passage = SearchPassageSerializer(allow_null=True, help_text="null for a text")
    author = SearchAuthorSerializer(allow_null=True, help_text="A note's author; null for texts and passages.")
    tags = serializers.ListField(child=serializers.CharField())
    visibility = serializers.CharField(allow_null=True, help_text="A note's audience.")
    reply_to = serializers.IntegerField(allow_null=True, help_text="The note a reply answers.")
    created_at = AwareDateTimeField(allow_null=True)
    headline = serializers.CharField(help_text="The words around the match, HTML-escaped, the matched words in <mark>.")
    url = serializers.CharField(help_text="The page showing it: the passage in a reader (#p-12), or the text.")


class SearchResultsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many hits in all (0 past the last page).")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SearchResultSerializer(many=True)


# --- The session pack (documentation of its JSON shape; the pack is built as plain dicts) ----


class PackAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PackNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PackAuthorSerializer(allow_null=True, help_text="null for a deleted note kept for its replies")
    body = serializers.CharField()
    body_html = serializers.CharField()
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices)
    selector = SelectorSerializer(allow_null=True)
    anchor_state = serializers.ChoiceField(choices=AnchorState.choices)
    question = serializers.IntegerField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    hidden = serializers.BooleanField(
        help_text="Hidden by an organizer: only in its author's and the organizers' packs (with its replies)."
    )
    highlight = serializers.BooleanField(help_text="Marked words without a body.")
    mentions = PackMentionSerializer(many=True, help_text="The members the body mentions (`@username`).")
    helpful_count = serializers.IntegerField(allow_null=True, help_text="How many found it helpful; null: private.")

    def get_fields(self):
        # A reply is a NOTE too, with replies of its own: the schema refers back to this component.
        return {**super().get_fields(), "replies": PackNoteSerializer(many=True, help_text="Replies, oldest first.")}


class PackPassageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PassageKind.choices)
    section = serializers.CharField()
    body = serializers.CharField()
    footnotes = FootnoteSerializer(many=True, help_text="The original's own footnotes/endnotes (not people's notes).")
    notes = PackNoteSerializer(many=True)


class PackTextSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.CharField()
    source = serializers.CharField()


class PackReadingSerializer(serializers.Serializer):
    text = PackTextSerializer()
    required = serializers.BooleanField()
    instructions = serializers.CharField()
    reading_minutes = serializers.IntegerField()
    passages = PackPassageSerializer(many=True)
    orphaned_notes = PackNoteSerializer(many=True)


class PackQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(
        help_text="How people refer to it (“question 2”): its rank among the session's accepted questions, from 1."
    )
    position = serializers.IntegerField()
    prompt = serializers.CharField()
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    passages = serializers.ListField(child=serializers.IntegerField())
    minutes = serializers.IntegerField(allow_null=True)
    facilitator_notes = serializers.CharField(required=False, help_text="Only for those with facilitator rights.")


class PackSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    timezone = serializers.CharField()
    location = serializers.CharField()
    online_url = serializers.CharField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    facilitators = PackAuthorSerializer(many=True)


class PackGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    timezone = serializers.CharField()


# --- The after-session summary (readings.summary; a page, the API, an email, and a section of the next pack) ----


class SummarySessionSerializer(serializers.Serializer):
    # The summary carries its times as UTC strings already (it is also the pack's JSON).
    id = serializers.IntegerField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    timezone = serializers.CharField()


class SummaryAttendanceSerializer(serializers.Serializer):
    shown_as = serializers.ChoiceField(
        choices=SummaryAttendance.choices, help_text="The group's choice: names, or only how many came."
    )
    present = serializers.IntegerField(help_text="How many were marked present.")
    names = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Who came, by name; null when the group shows counts."
    )


class SummaryPassageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    anchor = serializers.CharField()
    position = serializers.IntegerField()


class SummaryNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PackAuthorSerializer()
    body = serializers.CharField()
    body_html = serializers.CharField()
    mentions = PackMentionSerializer(many=True, help_text="Whom it mentions, by their display name now.")
    visibility = serializers.CharField(help_text="`group` or `facilitators`: a summary never shows a private note.")
    helpful_count = serializers.IntegerField()
    passage = SummaryPassageSerializer()


class SummaryQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Its rank among the session's accepted questions.")
    prompt = serializers.CharField()
    answer_count = serializers.IntegerField(help_text="The answers you may see (never a private note).")
    answers = SummaryNoteSerializer(many=True, help_text="The most helpful answers you may see, at most three.")


class SummaryTextSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.CharField()


class SummaryReadingSerializer(serializers.Serializer):
    text = SummaryTextSerializer()
    start = serializers.IntegerField(help_text="First passage (position).")
    end = serializers.IntegerField(help_text="Last passage (position).")
    required = serializers.BooleanField()
    reading_minutes = serializers.IntegerField()


class SummaryNextSessionSerializer(SummarySessionSerializer):
    readings = SummaryReadingSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    session = SummarySessionSerializer()
    attendance = SummaryAttendanceSerializer()
    questions = SummaryQuestionSerializer(many=True)
    follow_ups = SummaryNoteSerializer(many=True, help_text="Notes tagged “follow-up” you may see, in reading order.")
    next_session = SummaryNextSessionSerializer(allow_null=True, help_text="The group's next session, if any.")


class PackSerializer(serializers.Serializer):
    session = PackSessionSerializer()
    group = PackGroupSerializer()
    readings = PackReadingSerializer(many=True)
    questions = PackQuestionSerializer(many=True)
    reading_minutes = serializers.IntegerField()
    generated_at = AwareDateTimeField()
    version = serializers.CharField(help_text="Also the ETag.")
    brief = BriefSerializer(required=False, help_text="The facilitator's brief: only in the packs of facilitators.")
    previous_summary = SummarySerializer(
        required=False,
        help_text="The summary of the group's session before this one, as you may see it; absent when there is none.",
    )


class LiveNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    passage = serializers.IntegerField()
    parent = serializers.IntegerField(allow_null=True)
    mine = serializers.BooleanField(help_text="Written by you.")
    highlight = serializers.BooleanField()
    deleted = serializers.BooleanField()
    updated_at = AwareDateTimeField()


class LiveNotesSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="Also the ETag: send it back in If-None-Match.")
    notes = LiveNoteSerializer(many=True, help_text="Oldest first.")


class PackPreparingSerializer(serializers.Serializer):
    """The answer while a worker prepares a PDF or EPUB (202), or after its render failed (503)."""

    detail = serializers.CharField()
    status = serializers.ChoiceField(choices=["preparing", "failed"])
    format = serializers.ChoiceField(choices=["pdf", "epub"])
    version = serializers.CharField(help_text="The pack version being prepared (the ETag the file will have).")
