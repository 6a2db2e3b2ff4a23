from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from sessions_app.admin import RaisesPackVersions

from .enums import NoteVisibility, TextFormat
from .models import (
    DiscussionQuestion,
    Note,
    NoteHelpful,
    NoteMention,
    NoteTag,
    Passage,
    PassageRead,
    ReadingAssignment,
    ReadingVisit,
    Text,
    TextImport,
    TextRevision,
)
from .services.importing import read_content, text_import
from .services.notes import note_set_hidden


class TextImportForm(forms.ModelForm):
    """Add a text by uploading it: the same import service as the API and the command."""

    file = forms.FileField(help_text="A .txt, .md or .html file.")
    format = forms.ChoiceField(
        choices=[("", "Detect"), *TextFormat.choices],
        required=False,
        help_text="Leave on Detect unless it guesses wrong.",
    )

    class Meta:
        model = Text
        fields = ["group", "title", "author", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = "Leave empty to take the document's own title."

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            self.data_bytes = upload.read()
            try:
                read_content(data=self.data_bytes, filename=upload.name, fmt=cleaned.get("format") or None)
            except ValidationError as error:
                for messages in error.message_dict.values():
                    self.add_error("file" if "format" not in error.message_dict else "format", messages)
        return cleaned


class RevisionInline(admin.TabularInline):
    model = TextRevision
    extra = 0
    can_delete = False
    fields = ("number", "format", "filename", "size_bytes", "changes", "notices", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Text)
class TextAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("title", "group", "author", "original_format", "revision", "updated_at")
    list_filter = ("group", "original_format")
    search_fields = ("title", "author")
    inlines = [RevisionInline]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TextImportForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["group", "file", "format", "title", "author", "source"]
        return ["group", "title", "author", "source", "original_format", "revision", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["group", "original_format", "revision", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        upload = form.cleaned_data["file"]
        text = text_import(
            group=form.cleaned_data["group"],
            created_by=request.user,
            title=form.cleaned_data.get("title") or "",
            author=form.cleaned_data.get("author") or "",
            source=form.cleaned_data.get("source") or "",
            data=form.data_bytes,
            filename=upload.name,
            fmt=form.cleaned_data.get("format") or None,
        )
        obj.pk, obj.title = text.pk, text.title

    def version_groups(self, obj) -> list[int]:
        return [obj.group_id]


@admin.register(Passage)
class PassageAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("text", "position", "anchor", "kind", "section", "quoted", "retired")
    list_filter = ("kind", "quoted", "retired", "text")
    search_fields = ("body", "anchor")
    list_select_related = ("text",)
    readonly_fields = ("text", "anchor", "revision_added", "revision_changed", "revision_retired")

    def version_groups(self, obj) -> list[int]:
        return [obj.text.group_id]


@admin.register(TextRevision)
class TextRevisionAdmin(admin.ModelAdmin):
    list_display = ("text", "number", "format", "filename", "size_bytes", "created_at")
    list_filter = ("format",)
    readonly_fields = ("text", "number", "format", "filename", "checksum", "size_bytes", "notices", "changes")

    def has_add_permission(self, request):
        return False


@admin.register(ReadingAssignment)
class ReadingAssignmentAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("session", "text", "start_passage", "end_passage", "required", "reading_minutes")
    list_select_related = ("session", "text", "start_passage__text", "end_passage__text")
    raw_id_fields = ("session", "text", "start_passage", "end_passage")
    readonly_fields = ("word_count", "reading_minutes")

    def version_groups(self, obj) -> list[int]:
        return [obj.session.group_id]


@admin.register(DiscussionQuestion)
class DiscussionQuestionAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("prompt", "session", "kind", "state", "position")
    list_filter = ("kind", "state")
    raw_id_fields = ("session", "passages", "proposed_by")

    def version_groups(self, obj) -> list[int]:
        return [obj.session.group_id]


class NoteTagInline(admin.TabularInline):
    model = NoteTag
    extra = 0


@admin.register(Note)
class NoteAdmin(RaisesPackVersions, admin.ModelAdmin):
    """Notes are the members' words: the admin shows them for moderation, it does not edit them."""

    list_display = ("id", "author", "passage", "visibility", "highlight", "helpful_count", "hidden", "created_at")
    list_filter = ("visibility", "highlight", "anchor_state", "hidden")
    raw_id_fields = ("author", "passage", "question")
    # A thread's audience, passage and hiding are kept consistent by the note services, at every depth:
    # here they are read-only, and hiding goes through the actions below.
    # The body stays as its author wrote it (and rendered, and within NOTE_BODY_MAX_CHARS): only services write it.
    readonly_fields = (
        "body",
        "body_html",
        "selector",
        "candidates",
        "anchor_state",
        "parent",
        "root",
        "visibility",
        "hidden",
        "hidden_by",
        "hidden_root",
        "highlight",
        "helpful_count",
    )
    inlines = [NoteTagInline]
    actions = ["hide_notes", "show_notes"]

    def get_readonly_fields(self, request, obj=None):
        # A written note's author is copied onto its thread (`thread_author`, `hidden_author`): it stays.
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else (*fields, "author")

    @admin.action(description="Hide the selected notes and their replies from the group")
    def hide_notes(self, request, queryset):
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description="Show the selected hidden notes again")
    def show_notes(self, request, queryset):
        self._set_hidden(request, queryset, hidden=False)

    def _set_hidden(self, request, queryset, *, hidden: bool) -> None:
        done = 0
        for note in queryset.exclude(visibility=NoteVisibility.PRIVATE).order_by("pk"):
            note_set_hidden(note=note, hidden=hidden, by=request.user)
            done += 1
        self.message_user(request, f"{'Hid' if hidden else 'Showed'} {done} note(s); private notes are left alone.")

    def version_groups(self, obj) -> list[int]:
        return [obj.passage.text.group_id]


@admin.register(NoteHelpful)
class NoteHelpfulAdmin(admin.ModelAdmin):
    """Who found which note helpful; marks are made and taken back by their people (the count follows them)."""

    list_display = ("note", "user", "created_at")
    raw_id_fields = ("note", "user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NoteTag)
class NoteTagAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("name", "note")
    search_fields = ("name",)

    def version_groups(self, obj) -> list[int]:
        return [obj.note.passage.text.group_id]


@admin.register(TextImport)
class TextImportAdmin(admin.ModelAdmin):
    """Imports run by a worker, to look into: where each stands, and why a failed one failed."""

    list_display = ("id", "filename", "group", "created_by", "state", "progress", "size_bytes", "created_at", "error")
    list_filter = ("state",)
    list_select_related = ("group", "created_by")
    search_fields = ("filename", "title", "error")
    # The stored bytes are not shown: they can be megabytes, and they go once the import ends.
    exclude = ("data",)
    readonly_fields = [field.name for field in TextImport._meta.fields if field.name != "data"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PassageRead)
class PassageReadAdmin(admin.ModelAdmin):
    """Who read which passage (reading progress); written by the reader, read-only here."""

    list_display = ("user", "passage", "read_at")
    list_select_related = ("user", "passage__text")
    raw_id_fields = ("user", "passage")
    readonly_fields = ("user", "passage", "read_at")


@admin.register(ReadingVisit)
class ReadingVisitAdmin(admin.ModelAdmin):
    """Who opened which session's reading, when they were last active, and where they were."""

    list_display = ("user", "session", "opened_at", "last_activity_at", "last_passage")
    list_select_related = ("user", "session", "last_passage")
    raw_id_fields = ("user", "session", "last_passage")
    readonly_fields = ("user", "session", "opened_at", "last_activity_at", "last_passage")


@admin.register(NoteMention)
class NoteMentionAdmin(admin.ModelAdmin):
    """Who each note mentions, and whether its audience included them; written by the note services only."""

    list_display = ("note", "user", "notified")
    list_filter = ("notified",)
    raw_id_fields = ("note", "user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
