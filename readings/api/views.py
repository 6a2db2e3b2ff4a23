"""Texts, passages and revisions over HTTP."""

from typing import NoReturn

from django import forms
from django.conf import settings
from django.db.models import Case, F, IntegerField, Value, When, prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.renderers import OptionsInJSONMixin
from core.rules import SIGNED_IN, Target, allowed
from sessions_app.models import Session
from sessions_app.rules import CHANGE_SESSION, facilitates
from sessions_app.selectors import access_session, membership_for, sessions_for_user

from .. import brief, progress, rules, search, selectors
from ..enums import AnchorState, NoteVisibility
from ..models import DiscussionQuestion, Note, Passage, ReadingAssignment, Text, TextImport
from ..pack.builder import access_pack_scope, build_pack, live_notes, notes_version, pack_version
from ..pack.document import filename as pack_filename
from ..pack.renderers import PACK_RENDERERS, PackJSONRenderer
from ..services.assignments import assignment_create, assignment_delete, assignment_update
from ..services.importing import TitleTaken, text_import, text_inspect, text_revise, text_update, text_with_title
from ..services.notes import (
    note_create,
    note_delete,
    note_mark_helpful,
    note_set_hidden,
    note_unmark_helpful,
    note_update,
)
from ..services.pack_files import FAILED, PackFile, pack_file_request, pack_render_cached
from ..services.progress import progress_record
from ..services.questions import question_create, question_decide, question_delete, question_update, questions_reorder
from ..services.text_imports import import_runs_in_worker, text_import_enqueue
from ..summary import session_summary
from . import serializers as s


def _check_body_size(request) -> None:
    """Refuse a body far over every import limit before reading any of it.

    An uploaded file may be as large as the largest format allows (PDFs and
    EPUBs have their own limits); the format's own limit is checked once the
    file is known. A JSON body stays within DATA_UPLOAD_MAX_MEMORY_SIZE.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    multipart = request.content_type.startswith("multipart/")
    limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit:
        mb = 1024 * 1024
        message = f"The request is {length / mb:.1f} MB; texts may be up to {settings.TEXT_MAX_BYTES / mb:.1f} MB"
        if multipart:
            message += f", EPUBs {settings.EPUB_MAX_BYTES / mb:.1f} MB and PDFs {settings.PDF_MAX_BYTES / mb:.1f} MB"
        raise serializers.ValidationError({"file": message + "."})


def _upload_bytes(kwargs: dict) -> tuple[bytes, str]:
    """The upload as bytes, and the request field it came in (`file` or `content`)."""
    if "data" in kwargs:
        return kwargs["data"], "file"
    return kwargs["content"].encode("utf-8"), "content"


def _title_taken(taken: TitleTaken) -> NoReturn:
    """`if_title_exists=refuse` met a text with that title: a 400 on `title` saying what to do instead."""
    existing = taken.existing.pk
    raise serializers.ValidationError(
        {
            "title": f"A text called “{taken.title}” is already in this group (text {existing}). Send the file to "
            f"/api/v1/texts/{existing}/revisions/ to import it as that text's new revision, or send "
            "if_title_exists=import to import it as a separate text."
        }
    )


def _accepted(job: TextImport) -> Response:
    """202 for an import queued for a worker: where to follow it, and where it stands."""
    location = reverse("text-import-detail", args=[job.pk])
    return Response(s.TextImportSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


def _content_kwargs(validated: dict) -> dict:
    upload = validated.get("file")
    chapters = validated.get("chapters")
    if upload is not None:
        return {
            "data": upload.read(),
            "filename": upload.name or "",
            "content_type": upload.content_type or "",
            "fmt": validated.get("format"),
            "chapters": chapters,
        }
    return {"content": validated["content"], "fmt": validated.get("format"), "chapters": chapters}


# The import's content, as the schema declares it: multipart, with a `file` or the text as `content`.
# The same fields are also read from a JSON body (without `file`), as DESIGN.md's contract allows.
IMPORT_REQUEST = {"multipart/form-data": s.TextInputSerializer}
REVISION_REQUEST = {"multipart/form-data": s.TextContentSerializer}


class TextViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Texts. An upload over IMPORT_ASYNC_BYTES is imported by a worker: 202, and `texts/imports/{id}/` follows it."""

    serializer_class = s.TextSummarySerializer
    filterset_fields = ["group"]
    lookup_value_regex = "[0-9]+"
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "passages": SIGNED_IN,
        "create": rules.IMPORT_TEXTS,
        "inspect": rules.IMPORT_TEXTS,
        "partial_update": rules.CHANGE_TEXT,
        "revisions": SIGNED_IN,
        "revisions:post": rules.REVISE_TEXT,
    }
    # Where a file is uploaded, multipart; the imports also take their text as JSON `content`.
    upload_parsers = {
        "create": [JSONParser, MultiPartParser],
        "revisions": [JSONParser, MultiPartParser],
        "inspect": [MultiPartParser],
    }

    def get_parsers(self):
        """JSON everywhere, and multipart where a file is uploaded.

        DRF builds the request's parsers before it sets `self.action`, so the action is looked up
        from the method here.
        """
        action = getattr(self, "action", None) or self.action_map.get(self.request.method.lower())
        if action in self.upload_parsers:
            return [parser() for parser in self.upload_parsers[action]]
        return super().get_parsers()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Text.objects.none()
        return selectors.texts_for_user(self.request.user).order_by("title", "id")

    def _detail(self, text: Text, status_code: int = status.HTTP_200_OK, notices: list[str] | None = None) -> Response:
        text = selectors.texts_for_user(self.request.user).get(pk=text.pk)
        revision = selectors.latest_revision(text)
        context = {
            "cited_works": selectors.cited_works_of(text),
            "notices": notices if notices is not None else (revision.notices if revision else []),
        }
        return Response(s.TextSerializer(text, context=context).data, status=status_code)

    @extend_schema(
        request=IMPORT_REQUEST,
        responses={
            201: s.TextSerializer,
            202: OpenApiResponse(s.TextImportSerializer, description="Queued for a worker; see Location."),
        },
        description="Import a text: upload a `file`, or send the text itself as `content` "
        "(also accepted as a JSON body).",
    )
    def create(self, request):
        _check_body_size(request)
        data = s.TextInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_for(request.user, data.validated_data["group"])
        if membership is None:
            raise serializers.ValidationError({"group": "No such group among yours."})
        self.check_object_permissions(request, Target(membership, membership.group))
        fields = data.validated_data
        content = _content_kwargs(fields)
        described = {"title": fields["title"], "author": fields["author"], "source": fields["source"]}
        refuse = fields["if_title_exists"] == "refuse"
        upload, field = _upload_bytes(content)
        if import_runs_in_worker(
            data=upload,
            fmt=content.get("fmt"),
            filename=content.get("filename", ""),
            content_type=content.get("content_type", ""),
        ):
            if refuse and (existing := text_with_title(group=membership.group, title=fields["title"])):
                _title_taken(TitleTaken(existing=existing, title=existing.title))
            job = text_import_enqueue(
                group=membership.group,
                created_by=request.user,
                data=upload,
                field=field,
                filename=content.get("filename", ""),
                content_type=content.get("content_type", ""),
                fmt=content.get("fmt"),
                chapters=content.get("chapters"),
                **described,
            )
            return _accepted(job)
        try:
            text = text_import(
                group=membership.group,
                created_by=request.user,
                if_title_exists="ask" if refuse else "import",
                **described,
                **content,
            )
        except TitleTaken as taken:
            _title_taken(taken)
        return self._detail(text, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": s.TextInspectSerializer},
        responses={200: s.TextInspectionSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def inspect(self, request):
        """What a file is before importing it: metadata and an EPUB's chapters. Nothing is saved."""
        _check_body_size(request)
        data = s.TextInspectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_for(request.user, data.validated_data["group"])
        if membership is None:
            raise serializers.ValidationError({"group": "No such group among yours."})
        self.check_object_permissions(request, Target(membership, membership.group))
        upload = data.validated_data["file"]
        found = text_inspect(
            data=upload.read(),
            filename=upload.name or "",
            content_type=upload.content_type or "",
            fmt=data.validated_data.get("format"),
        )
        return Response(s.TextInspectionSerializer(found).data)

    @extend_schema(responses={200: s.TextSerializer})
    def retrieve(self, request, pk=None):
        text, _membership = selectors.access_text(request.user, pk)
        return self._detail(text)

    @extend_schema(request=s.TextUpdateSerializer, responses={200: s.TextSerializer})
    def partial_update(self, request, pk=None):
        text, membership = selectors.access_text(request.user, pk)
        self.check_object_permissions(request, Target(membership, text))
        data = s.TextUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        text_update(text=text, **data.validated_data)
        return self._detail(text)

    @extend_schema(responses={200: s.PassageSerializer(many=True)}, parameters=[s.PassageQuerySerializer])
    @action(detail=True, methods=["get"], filter_backends=[])
    def passages(self, request, pk=None):
        text, _membership = selectors.access_text(request.user, pk)
        query = s.PassageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        passages = selectors.passages_of(text, include_retired=query.validated_data["include_retired"])
        page = self.paginate_queryset(passages)
        return self.get_paginated_response(s.PassageSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses={200: s.RevisionSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=REVISION_REQUEST,
        responses={
            201: s.TextSerializer,
            200: s.TextSerializer,
            202: OpenApiResponse(s.TextImportSerializer, description="Queued for a worker; see Location."),
        },
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def revisions(self, request, pk=None):
        text, membership = selectors.access_text(request.user, pk)
        if request.method == "GET":
            page = self.paginate_queryset(text.revisions.order_by("-number"))
            return self.get_paginated_response(s.RevisionSerializer(page, many=True).data)
        self.check_object_permissions(request, Target(membership, text))
        _check_body_size(request)
        data = s.TextContentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        content = _content_kwargs(data.validated_data)
        upload, field = _upload_bytes(content)
        if import_runs_in_worker(
            data=upload,
            fmt=content.get("fmt"),
            filename=content.get("filename", ""),
            content_type=content.get("content_type", ""),
        ):
            job = text_import_enqueue(
                group=text.group,
                created_by=request.user,
                data=upload,
                field=field,
                filename=content.get("filename", ""),
                content_type=content.get("content_type", ""),
                fmt=content.get("fmt"),
                chapters=content.get("chapters"),
                revision_of=text,
            )
            return _accepted(job)
        previous = text.revision
        revision = text_revise(text=text, created_by=request.user, **content)
        made = revision.number != previous
        return self._detail(text, status.HTTP_201_CREATED if made else status.HTTP_200_OK, notices=revision.notices)


class TextImportView(APIView):
    """Where an import queued for a worker stands; for its uploader and whoever may import into its group."""

    action_rules = {"get": SIGNED_IN}  # the selector answers 404 to anyone else

    @extend_schema(responses={200: s.TextImportSerializer})
    def get(self, request, pk=None):
        return Response(s.TextImportSerializer(selectors.access_text_import(request.user, pk)).data)


# --- Session readings, questions and discussion ------------------------------------------


class SessionScopedMixin:
    """Views under `sessions/{session_pk}/`: the session through its selector, and the caller's rights."""

    def load_session(self) -> Session:
        session = access_session(self.request.user, self.kwargs["session_pk"])
        self.membership = membership_for(self.request.user, session.group_id)
        self.target = Target(self.membership, session)
        # Who leads the session also sees proposals, and adds questions rather than proposing them.
        self.can_edit = allowed(CHANGE_SESSION, self.request.user, self.target)
        return session

    def check_rule(self) -> None:
        """The rule `action_rules` names for this action, against the session loaded by `load_session`."""
        self.check_object_permissions(self.request, self.target)


def _passage_in(text: Text, passage_id: int, field: str) -> Passage:
    passage = Passage.objects.filter(pk=passage_id, text=text).first()
    if passage is None:
        raise serializers.ValidationError({field: f"Passage {passage_id} is not part of “{text.title}”."})
    return passage


# The router's pattern for `session_pk` is a regex, which the schema generator cannot type.
SESSION_PK = OpenApiParameter("session_pk", int, OpenApiParameter.PATH, description="The session's id.")


@extend_schema(parameters=[SESSION_PK])
class AssignmentViewSet(SessionScopedMixin, viewsets.GenericViewSet):
    """A session's reading assignments: ranges of a text's passages, in order."""

    serializer_class = s.AssignmentSerializer
    queryset = ReadingAssignment.objects.none()  # for the schema; reads go through the selectors
    filter_backends: list = []
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": rules.ASSIGN_READINGS,
        "partial_update": rules.CHANGE_READING,
        "destroy": rules.REMOVE_READING,
    }

    @extend_schema(responses={200: s.AssignmentSerializer(many=True)})
    def list(self, request, session_pk=None):
        session = self.load_session()
        page = self.paginate_queryset(selectors.readings_of(session))
        return self.get_paginated_response(s.AssignmentSerializer(page, many=True).data)

    @extend_schema(request=s.AssignmentInputSerializer, responses={201: s.AssignmentSerializer})
    def create(self, request, session_pk=None):
        session = self.load_session()
        self.check_rule()
        data = s.AssignmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        text = Text.objects.filter(pk=fields["text"], group_id=session.group_id).first()
        if text is None:
            raise serializers.ValidationError({"text": "No such text in this session's group."})
        start = Passage.objects.filter(pk=fields["start_passage"]).first()
        end = Passage.objects.filter(pk=fields["end_passage"]).first()
        if start is None or end is None:
            missing = "start_passage" if start is None else "end_passage"
            raise serializers.ValidationError({missing: "No such passage."})
        assignment = assignment_create(
            session=session,
            text=text,
            start_passage=start,
            end_passage=end,
            required=fields["required"],
            instructions=fields["instructions"],
        )
        return Response(s.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    def _assignment(self, session: Session, pk) -> ReadingAssignment:
        assignment = selectors.readings_of(session).filter(pk=pk).first()
        if assignment is None:
            raise Http404("No such reading.")
        return assignment

    @extend_schema(responses={200: s.AssignmentSerializer})
    def retrieve(self, request, session_pk=None, pk=None):
        return Response(s.AssignmentSerializer(self._assignment(self.load_session(), pk)).data)

    @extend_schema(request=s.AssignmentUpdateSerializer, responses={200: s.AssignmentSerializer})
    def partial_update(self, request, session_pk=None, pk=None):
        session = self.load_session()
        assignment = self._assignment(session, pk)
        self.check_rule()
        data = s.AssignmentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        for field in ("start_passage", "end_passage"):
            if field in changes:
                changes[field] = _passage_in(assignment.text, changes[field], field)
        assignment = assignment_update(assignment=assignment, **changes)
        return Response(s.AssignmentSerializer(assignment).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, session_pk=None, pk=None):
        session = self.load_session()
        assignment = self._assignment(session, pk)
        self.check_rule()
        assignment_delete(assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[SESSION_PK])
class QuestionViewSet(SessionScopedMixin, viewsets.GenericViewSet):
    """A session's discussion questions: accepted ones for everyone, proposals for those who lead it."""

    serializer_class = s.QuestionSerializer
    queryset = DiscussionQuestion.objects.none()  # for the schema; reads go through the selectors
    filter_backends: list = []
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": SIGNED_IN,  # members propose, those who lead the session add
        "partial_update": rules.CHANGE_QUESTION,
        "destroy": rules.REMOVE_QUESTION,
        "accept": rules.DECIDE_QUESTION,
        "reject": rules.DECIDE_QUESTION,
        "reorder": rules.REORDER_QUESTIONS,
    }

    def _context(self) -> dict:
        return {"facilitator_rights": facilitates(self.membership)}

    def _passages(self, session: Session, ids: list[int]) -> list[Passage]:
        passages = list(Passage.objects.filter(pk__in=ids, text__group_id=session.group_id))
        if missing := set(ids) - {p.pk for p in passages}:
            raise serializers.ValidationError({"passages": f"No such passages: {sorted(missing)}."})
        return passages

    def _question(self, session: Session, pk) -> DiscussionQuestion:
        return selectors.access_question(self.request.user, session, pk, sees_all=self.can_edit)

    @extend_schema(responses={200: s.QuestionSerializer(many=True)})
    def list(self, request, session_pk=None):
        session = self.load_session()
        questions = selectors.questions_for(request.user, session, sees_all=self.can_edit)
        page = self.paginate_queryset(questions)
        return self.get_paginated_response(s.QuestionSerializer(page, many=True, context=self._context()).data)

    @extend_schema(request=s.QuestionInputSerializer, responses={201: s.QuestionSerializer})
    def create(self, request, session_pk=None):
        """Those who lead the session add questions; members propose them (state `proposed`)."""
        session = self.load_session()
        data = s.QuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["passages"] = self._passages(session, fields["passages"])
        question = question_create(session=session, author=request.user, propose=not self.can_edit, **fields)
        return Response(s.QuestionSerializer(question, context=self._context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.QuestionSerializer})
    def retrieve(self, request, session_pk=None, pk=None):
        session = self.load_session()
        return Response(s.QuestionSerializer(self._question(session, pk), context=self._context()).data)

    @extend_schema(request=s.QuestionUpdateSerializer, responses={200: s.QuestionSerializer})
    def partial_update(self, request, session_pk=None, pk=None):
        session = self.load_session()
        question = self._question(session, pk)
        self.check_rule()
        data = s.QuestionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "passages" in changes:
            changes["passages"] = self._passages(session, changes["passages"])
        question = question_update(question=question, **changes)
        return Response(s.QuestionSerializer(question, context=self._context()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, session_pk=None, pk=None):
        session = self.load_session()
        question = self._question(session, pk)
        self.check_rule()
        question_delete(question=question)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.QuestionSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, session_pk=None, pk=None):
        return self._decide(pk, accept=True)

    @extend_schema(request=None, responses={200: s.QuestionSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, session_pk=None, pk=None):
        return self._decide(pk, accept=False)

    def _decide(self, pk, *, accept: bool) -> Response:
        session = self.load_session()
        question = self._question(session, pk)
        self.check_rule()
        question = question_decide(question=question, accept=accept)
        return Response(s.QuestionSerializer(question, context=self._context()).data)

    @extend_schema(request=s.ReorderSerializer, responses={200: s.QuestionSerializer(many=True)})
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request, session_pk=None):
        session = self.load_session()
        self.check_rule()
        data = s.ReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        questions_reorder(session=session, order=data.validated_data["order"])
        questions = selectors.questions_for(request.user, session, sees_all=True)
        return Response(s.QuestionSerializer(questions, many=True, context=self._context()).data)


class DiscussionView(SessionScopedMixin, APIView):
    """For facilitators: the facilitator's brief (`brief`), and, as before, the notes answering each question,
    the passages with the most group notes and where members got stuck."""

    action_rules = {"get": rules.SEE_DISCUSSION}

    @extend_schema(
        responses={
            200: s.DiscussionSerializer,
            403: OpenApiResponse(description="The overview is for facilitators and organizers."),
        }
    )
    def get(self, request, session_pk=None):
        session = self.load_session()
        self.check_rule()
        the_brief = brief.facilitator_brief(request.user, self.membership, session)
        body = {
            "questions": selectors.answers_by_question(request.user, session),
            "busiest_passages": selectors.busiest_passages(request.user, session),
            "stuck": the_brief["stuck"],
            "brief": the_brief,
        }
        return Response(s.DiscussionSerializer(body, context={"facilitator_rights": True}).data)


# --- Notes -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An object's id: a whole number, in the schema and in what is accepted."""

    field_class = forms.IntegerField


class NoteFilter(filters.FilterSet):
    passage = IdFilter(field_name="passage_id")
    text = IdFilter(field_name="passage__text_id")
    session = IdFilter(method="in_session")
    author = IdFilter(field_name="author_id")
    visibility = filters.ChoiceFilter(choices=NoteVisibility.choices)
    question = IdFilter(field_name="question_id")
    tag = filters.CharFilter(method="with_tag")
    anchor_state = filters.ChoiceFilter(choices=AnchorState.choices)
    highlight = filters.BooleanFilter(field_name="highlight")
    sort = filters.ChoiceFilter(
        choices=[("time", "Oldest first"), ("helpful", "Most helpful first, then oldest")],
        method="sort_by",
        help_text="Default: by text, passage and time.",
    )

    class Meta:
        model = Note
        fields = [
            "passage",
            "text",
            "session",
            "author",
            "visibility",
            "question",
            "tag",
            "anchor_state",
            "highlight",
            "sort",
        ]

    def sort_by(self, queryset, name, value):
        if value == "helpful":
            # A private note's count is nobody's business, its author's included: it sorts as none.
            helpful = Case(
                When(visibility=NoteVisibility.PRIVATE, then=Value(0)),
                default=F("helpful_count"),
                output_field=IntegerField(),
            )
            return queryset.order_by(helpful.desc(), "created_at", "id")
        return queryset.order_by("created_at", "id")

    def in_session(self, queryset, name, value):
        session = access_session(self.request.user, value)
        return queryset.filter(selectors.session_passages_q(selectors.readings_of(session), prefix="passage__"))

    def with_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip().lower().lstrip("#"))


class NoteViewSet(viewsets.GenericViewSet):
    serializer_class = s.NoteSerializer
    filterset_class = NoteFilter
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": SIGNED_IN,  # on a passage you can see (the selector's 400 otherwise)
        "partial_update": rules.CHANGE_NOTE,
        "destroy": rules.CHANGE_NOTE,
        "hide": rules.HIDE_NOTE,
        "helpful": SIGNED_IN,  # on a note you can see; the service refuses your own and private ones
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Note.objects.none()
        return selectors.notes_for_api(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.NoteSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.NoteSerializer(selectors.access_note(request.user, pk)).data)

    def _visible_passage(self, passage_id: int) -> Passage:
        try:
            return selectors.access_passage(self.request.user, passage_id)
        except Http404:
            raise serializers.ValidationError({"passage": "No such passage in your groups."}) from None

    def _question(self, question_id: int | None, passage: Passage) -> DiscussionQuestion | None:
        if question_id is None:
            return None
        question = selectors.answerable_question(self.request.user, question_id, group_id=passage.text.group_id)
        if question is None:
            raise serializers.ValidationError({"question": "No such question for this passage's group."})
        return question

    @extend_schema(request=s.NoteInputSerializer, responses={201: s.NoteSerializer})
    def create(self, request):
        fields = s.validated_input(s.NoteInputSerializer, request.data)
        found = selectors.passage_to_write_on(request.user, fields.pop("passage"))
        if found is None:
            raise serializers.ValidationError({"passage": "No such passage in your groups."})
        passage, membership = found
        parent = None
        if (parent_id := fields.pop("parent")) is not None:
            parent = selectors.notes_visible_to(request.user).filter(pk=parent_id).first()
            if parent is None:
                raise serializers.ValidationError({"parent": "No such note to reply to."})
        fields["question"] = self._question(fields.pop("question"), passage)
        note = note_create(author=request.user, passage=passage, parent=parent, membership=membership, **fields)
        # The note as written (its author sees it): no second read through the visibility rules; whom it
        # mentions, with their names, read once for `mentions` and `body_html`.
        prefetch_related_objects([note], selectors.mentions_prefetch())
        return Response(s.NoteSerializer(note).data, status=201)

    def _own(self, pk) -> Note:
        note = selectors.access_note(self.request.user, pk)
        self.check_object_permissions(self.request, Target(None, note))
        return note

    @extend_schema(request=s.NoteUpdateSerializer, responses={200: s.NoteSerializer})
    def partial_update(self, request, pk=None):
        note = self._own(pk)
        changes = s.validated_input(s.NoteUpdateSerializer, request.data, partial=True)
        if "passage" in changes:
            changes["passage"] = self._visible_passage(changes["passage"])
        if "question" in changes:
            changes["question"] = self._question(changes["question"], changes.get("passage", note.passage))
        note_update(note=note, **changes)
        return Response(s.NoteSerializer(selectors.access_note(request.user, note.pk)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        note_delete(note=self._own(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.HideSerializer, responses={200: s.NoteSerializer})
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        """Organizers hide a note and the replies under it from everyone but its author and the organizers.

        `{"hidden": false}` shows them again.
        """
        note = selectors.access_note(request.user, pk)
        self.check_object_permissions(request, Target(membership_for(request.user, note.passage.text.group_id), note))
        data = s.HideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = note_set_hidden(note=note, hidden=data.validated_data["hidden"], by=request.user)
        return Response(s.NoteSerializer(note).data)

    @extend_schema(request=None, responses={200: s.HelpfulSerializer})
    @action(detail=True, methods=["post", "delete"])
    def helpful(self, request, pk=None):
        """POST marks a note you can see as helpful (once per person); DELETE takes your mark back.

        A private note, a highlight and your own note take no marks (400).
        """
        note = selectors.access_note(request.user, pk)
        if request.method == "DELETE":
            note = note_unmark_helpful(note=note, user=request.user)
        else:
            note = note_mark_helpful(note=note, user=request.user)
        return Response(
            {"note": note.pk, "helpful_count": note.helpful_count, "helpful_by_me": request.method != "DELETE"}
        )


# --- The live reader -------------------------------------------------------------------------


class LiveNotesView(APIView):
    """The notes you may see in a session's readings, for a reading view that stays open.

    Poll it with `If-None-Match` set to the last ETag: while nothing you may
    see has changed it answers 304 at the cost of two small queries, and
    nobody else's private note ever changes it.
    """

    action_rules = {"get": SIGNED_IN}

    @extend_schema(
        responses={
            200: s.LiveNotesSerializer,
            304: OpenApiResponse(description="Not modified: no note you may see changed since that ETag."),
        }
    )
    def get(self, request, session_pk=None):
        scope = access_pack_scope(request.user, session_pk)
        version = notes_version(scope)
        headers = {"ETag": f'"{version}"', "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
        if version in _etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response({"version": version, "notes": live_notes(scope)}, headers=headers)


# --- Reading progress ---------------------------------------------------------------------------


class ProgressView(SessionScopedMixin, APIView):
    """Reading progress on a session: your own; for facilitators and organizers, the group's too.

    The reader POSTs what was read in batches (idempotent), and "mark read" the same way.
    """

    action_rules = {"get": SIGNED_IN, "post": SIGNED_IN}  # your own progress; the group's by `facilitates`

    def _body(self, session: Session) -> dict:
        body = {
            "mine": progress.own_progress(self.request.user, session),
            "group": None,
            "pace_words_per_minute": settings.READING_PACE_WORDS_PER_MINUTE,
            "cap_seconds": settings.READING_CAP_SECONDS,
        }
        if facilitates(self.membership):
            rows = progress.members_progress(self.request.user, self.membership, session)
            body["group"] = {
                "totals": progress.progress_totals(rows),
                "members": rows if session.group.member_progress_visible else None,
            }
        return s.ProgressSerializer(body).data

    @extend_schema(parameters=[SESSION_PK], responses={200: s.ProgressSerializer})
    def get(self, request, session_pk=None):
        return Response(self._body(self.load_session()))

    @extend_schema(parameters=[SESSION_PK], request=s.ProgressInputSerializer, responses={200: s.ProgressSerializer})
    def post(self, request, session_pk=None):
        session = self.load_session()
        data = s.ProgressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = set(data.validated_data["passages"])
        last_id = data.validated_data.get("last_passage")
        found = {passage.pk: passage for passage in progress.session_passage_ids(session, ids=[*wanted, last_id or 0])}
        if missing := sorted(wanted - set(found)):
            listed = ", ".join(str(pk) for pk in missing[:10])
            raise serializers.ValidationError({"passages": f"Not passages of this session's reading: {listed}."})
        if last_id is not None and last_id not in found:
            raise serializers.ValidationError({"last_passage": "Not a passage of this session's reading."})
        progress_record(
            user=request.user,
            session=session,
            passages=[found[pk] for pk in sorted(wanted)],
            last_passage=found.get(last_id) if last_id else None,
        )
        return Response(self._body(session))


# --- Search -----------------------------------------------------------------------------------


def search_scope_from(request, params) -> search.SearchScope:
    """Check a search's query parameters (400 naming the field) and scope it to the person asking."""
    query = s.SearchQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    fields = dict(query.validated_data)
    if (session_id := fields.get("session")) is not None:
        fields["session"] = sessions_for_user(request.user).filter(pk=session_id).first()
        if fields["session"] is None:
            raise serializers.ValidationError({"session": "No such session among yours."})
    return search.search_scope(user=request.user, query=fields.pop("q"), **fields)


def _page_url(url: str, number: int) -> str | None:
    if number < 1:
        return None
    return remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)


class SearchView(APIView):
    """Search the texts of your groups, their passages, and the notes and replies you may see.

    Best matches first, 20 to a page. A private note is found only by its author; nothing counts it for
    anyone else.
    """

    action_rules = {"get": SIGNED_IN}  # scoped to your groups and what you may see by `search_scope_from`

    @extend_schema(
        parameters=[s.SearchQuerySerializer, s.PageQuerySerializer],
        responses={200: s.SearchResultsSerializer},
    )
    def get(self, request):
        scope = search_scope_from(request, request.query_params)
        pages = s.PageQuerySerializer(data=request.query_params)
        pages.is_valid(raise_exception=True)
        number, size = pages.validated_data["page"], pages.validated_data["page_size"]
        count, hits = search.search_page(scope, page=number, page_size=size)
        if not hits and number > 1:
            raise NotFound("That page is past the last result.")
        url = request.build_absolute_uri()
        body = {
            "count": count,
            "next": _page_url(url, number + 1) if number * size < count else None,
            "previous": (
                remove_query_param(url, "page") if number == 2 else replace_query_param(url, "page", number - 1)
            )
            if number > 1
            else None,
            "results": search.search_results(scope, hits),
        }
        return Response(s.SearchResultsSerializer(body).data)


# --- The session pack -------------------------------------------------------------------------


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()}


class SessionSummaryView(SessionScopedMixin, APIView):
    """After the session: who came, its questions with their most helpful answers, the follow-ups, what is next.

    For every member of the group, each seeing only what they may (never a private note, nor a count of one).
    """

    action_rules = {"get": SIGNED_IN}  # members of the group: `access_session` answers 404 to anyone else

    @extend_schema(parameters=[SESSION_PK], responses={200: s.SummarySerializer})
    def get(self, request, session_pk=None):
        session = self.load_session()
        return Response(s.SummarySerializer(session_summary(request.user, self.membership, session)).data)


class PackView(OptionsInJSONMixin, APIView):
    """The session pack for the requesting user: JSON, or `?format=` md, html, pdf, epub.

    The ETag is the pack's `version`, computed from what this user may see; a
    matching If-None-Match is answered 304 without building the pack (one
    indexed read). JSON and Markdown are rendered once per version and kept in
    the cache (each person's latest only). PDF and EPUB are never
    rendered here: a worker renders each version once into the shared cache,
    and until it is there the answer is 202 with Retry-After.
    """

    renderer_classes = PACK_RENDERERS
    action_rules = {"get": SIGNED_IN}  # what you may see of it is the pack's own business (`pack_scope`)

    @extend_schema(
        responses={
            (200, "application/json"): s.PackSerializer,
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, "text/html"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "application/epub+zip"): OpenApiTypes.BINARY,
            (202, "application/json"): OpenApiResponse(
                s.PackPreparingSerializer,
                description="PDF or EPUB: a worker is preparing this version; ask again after Retry-After seconds.",
            ),
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is still current."),
            (503, "application/json"): OpenApiResponse(
                s.PackPreparingSerializer,
                description="PDF or EPUB: the last render failed; it is tried again after Retry-After seconds.",
            ),
        },
        parameters=[
            OpenApiParameter("format", str, enum=["json", "md", "html", "pdf", "epub"], description="Default json."),
        ],
    )
    def get(self, request, session_pk=None):
        scope = access_pack_scope(request.user, session_pk)
        session, version = scope.session, pack_version(scope)
        renderer = request.accepted_renderer
        headers = {"ETag": f'"{version}"', "Cache-Control": "private", "Vary": "Accept, Authorization, Cookie"}
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match and (version in _etags(if_none_match) or if_none_match.strip() == "*"):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        if renderer.rendered_by_worker:
            file = pack_file_request(scope=scope, version=version, fmt=renderer.format)
            if file.body is None:
                return self._not_ready(file, renderer, version)
            data = file.body
        elif renderer.cache_rendered:
            data = pack_render_cached(
                scope=scope,
                version=version,
                fmt=renderer.format,
                render=lambda: renderer.build(build_pack(scope, version=version)),
            )
        else:
            data = build_pack(scope, version=version)
        name = pack_filename(
            {
                "session": {
                    "title": session.title,
                    "starts_at": session.starts_at.isoformat(),
                    "timezone": session.timezone,
                }
            },
            renderer.extension,
        )
        headers["Content-Disposition"] = f'{renderer.disposition}; filename="{name}"'
        return Response(data, headers=headers)

    def _not_ready(self, file: PackFile, renderer, version: str) -> Response:
        label = renderer.format.upper()
        if file.state == FAILED:
            code, seconds = status.HTTP_503_SERVICE_UNAVAILABLE, settings.PACK_RENDER_RETRY_SECONDS
            detail = f"Your {label} could not be prepared; it will be tried again in {seconds} seconds."
        else:
            code, seconds = status.HTTP_202_ACCEPTED, settings.PACK_RETRY_AFTER_SECONDS
            detail = f"Your {label} is being prepared; ask again in {seconds} seconds."
        self.request.accepted_renderer = PackJSONRenderer()
        self.request.accepted_media_type = PackJSONRenderer.media_type
        body = {"detail": detail, "status": file.state, "format": renderer.format, "version": version}
        return Response(body, status=code, headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})

    def handle_exception(self, exc):
        # Errors are JSON whatever format was asked for: a PDF renderer cannot say "404".
        response = super().handle_exception(exc)
        self.request.accepted_renderer = PackJSONRenderer()
        self.request.accepted_media_type = PackJSONRenderer.media_type
        return response
