"""The session page, and the questions editor for those who lead a session."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sessions_app import selectors as session_selectors
from sessions_app.forms import apply_errors, id_from_request
from sessions_app.links import PACK_FILE_FORMATS, pack_download_url, pack_urls
from sessions_app.models import Session
from sessions_app.permissions import can_edit_session, can_manage_group, has_facilitator_rights
from sessions_app.validators import validate_multiline_text

from .. import selectors
from ..enums import QuestionKind
from ..models import Passage
from ..services.questions import question_create, question_decide, question_delete, question_move, question_update


class ProposeForm(forms.Form):
    prompt = forms.CharField(
        label="Your question",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_multiline_text],
    )


class QuestionForm(forms.Form):
    prompt = forms.CharField(
        label="Question",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_multiline_text],
    )
    kind = forms.ChoiceField(choices=QuestionKind.choices, initial=QuestionKind.DISCUSSION)
    minutes = forms.IntegerField(label="Suggested minutes", min_value=1, max_value=240, required=False)
    passages = forms.MultipleChoiceField(
        label="About passages", required=False, help_text="Hold Ctrl (⌘ on a Mac) to pick several."
    )
    facilitator_notes = forms.CharField(
        label="Notes for facilitators", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Members never see these.", max_length=settings.DESCRIPTION_MAX_CHARS,
        validators=[validate_multiline_text],
    )  # fmt: skip

    def __init__(self, *args, passages: list[Passage], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["passages"].choices = [(str(p.pk), f"§{p.position} {p.body[:70]}") for p in passages]


def _session_context(request, session_id: int) -> tuple[Session, dict]:
    queryset = session_selectors.sessions_for_api(request.user)
    session = session_selectors.access_session(request.user, session_id, queryset)
    membership = session_selectors.membership_for(request.user, session.group_id)
    return session, {
        "session": session,
        "group": session.group,
        "membership": membership,
        "can_edit": can_edit_session(membership, session),
        "can_manage": can_manage_group(membership),
        "facilitator_rights": has_facilitator_rights(membership),
    }


def _session_passages(session: Session) -> list[Passage]:
    readings = list(selectors.readings_of(session))
    if not readings:
        return []
    return list(
        Passage.objects.filter(selectors.session_passages_q(readings), retired=False).order_by("text_id", "position")
    )


@login_required
def session_detail(request, session_id: int):
    """Everything about one session: when and where, RSVP, what to read, the questions, the pack."""
    session, context = _session_context(request, session_id)
    user = request.user
    questions = selectors.number_questions(selectors.questions_for(user, session, sees_all=context["can_edit"]))
    context.update(
        {
            "readings": selectors.readings_of(session),
            "questions": questions,
            "propose_form": ProposeForm(),
            "downloads": {
                **pack_urls(session.pk, base=""),
                **{fmt: pack_download_url(session.pk, fmt, base="") for fmt in PACK_FILE_FORMATS},
            },
            "differs": bool(request.viewer_timezone) and request.viewer_timezone != session.timezone,
        }
    )
    if context["can_manage"] or context["can_edit"]:
        context["sheet"] = session_selectors.attendance_sheet(session)
    if context["facilitator_rights"]:
        context["answers"] = selectors.answers_by_question(user, session)
        context["busiest"] = selectors.busiest_passages(user, session)
    return render(request, "readings/session_detail.html", context)


@login_required
def session_pack_download(request, session_id: int, fmt: str):
    """The page behind "PDF" and "EPUB": it asks for the file until a worker has made it, then saves it.

    The file itself comes from the pack API (202 until ready); the page's
    script (static/js/pack-download.js) polls it and starts the download.
    """
    if fmt not in PACK_FILE_FORMATS:
        raise Http404("No such format.")
    session, context = _session_context(request, session_id)
    context.update({"label": fmt.upper(), "file_url": pack_urls(session.pk, base="")[fmt]})
    return render(request, "readings/pack_download.html", context)


@login_required
@require_POST
def question_propose(request, session_id: int):
    """A member proposes a question; those who lead the session add it directly."""
    session, context = _session_context(request, session_id)
    form = ProposeForm(request.POST)
    if form.is_valid():
        try:
            question_create(
                session=session,
                author=request.user,
                prompt=form.cleaned_data["prompt"],
                propose=not context["can_edit"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if context["can_edit"]:
                messages.success(request, "Question added.")
            else:
                messages.success(request, "Thank you: your question waits for a facilitator to accept it.")
    else:
        messages.error(request, "Write the question before sending it.")
    return redirect(reverse("session-detail", args=[session.pk]) + "#questions")


@login_required
@require_http_methods(["GET", "POST"])
def questions_manage(request, session_id: int):
    """Write, edit, reorder, accept and reject the session's questions."""
    session, context = _session_context(request, session_id)
    if not context["can_edit"]:
        raise PermissionDenied("Only organizers and this session's facilitators manage its questions.")
    passages = _session_passages(session)
    questions = list(selectors.questions_for(request.user, session, sees_all=True))
    editing = None
    edit_id = id_from_request(request.POST.get("question"), "question") or id_from_request(
        request.GET.get("edit"), "edit"
    )
    if edit_id is not None:
        editing = get_object_or_404(selectors.questions_for(request.user, session, sees_all=True), pk=edit_id)
    initial = {}
    if editing is not None:
        initial = {
            "prompt": editing.prompt,
            "kind": editing.kind,
            "minutes": editing.minutes,
            "passages": [str(p.pk) for p in editing.passages.all()],
            "facilitator_notes": editing.facilitator_notes,
        }
    form = QuestionForm(None, passages=passages, initial=initial)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        by_id = {question.pk: question for question in questions}
        try:
            if action in ("up", "down"):
                question_move(question=by_id[int(request.POST["target"])], up=action == "up")
                return redirect(reverse("questions-manage", args=[session.pk]) + "#questions")
            if action in ("accept", "reject", "delete"):
                target = by_id[int(request.POST["target"])]
                if action == "delete":
                    question_delete(question=target)
                    messages.success(request, "Question removed.")
                else:
                    question_decide(question=target, accept=action == "accept")
                    messages.success(request, "Question accepted." if action == "accept" else "Question rejected.")
                return redirect(reverse("questions-manage", args=[session.pk]) + "#questions")
        except (KeyError, ValueError):
            messages.error(request, "That question is no longer there.")
            return redirect("questions-manage", session.pk)
        form = QuestionForm(request.POST, passages=passages)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            chosen = {int(pk) for pk in fields.pop("passages")}
            fields["passages"] = [p for p in passages if p.pk in chosen]
            try:
                if editing is not None:
                    question_update(question=editing, **fields)
                    messages.success(request, "Question saved.")
                else:
                    question_create(session=session, author=request.user, **fields)
                    messages.success(request, "Question added.")
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return redirect(reverse("questions-manage", args=[session.pk]) + "#questions")
        status = 400
    positions = {p.pk: p.position for p in passages}
    selectors.number_questions(questions)
    for question in questions:
        question.positions = [positions[p.pk] for p in question.passages.all() if p.pk in positions]
    context.update({"questions": questions, "form": form, "editing": editing})
    return render(request, "readings/questions_manage.html", context, status=status)
