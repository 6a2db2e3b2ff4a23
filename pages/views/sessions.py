"""The session page and everything done from it: RSVP, editing, cancelling, the questions editor, pack downloads."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from core.forms import apply_errors, id_from_request, is_id
from core.rules import SIGNED_IN, Target, allowed, require
from core.validators import validate_multiline_text
from pages.forms import SessionForm
from pages.rules import rule_required, session_target
from readings import rules as readings_rules
from readings import selectors
from readings.brief import facilitator_brief
from readings.enums import QuestionKind
from readings.models import Passage
from readings.progress import members_progress, progress_totals
from readings.services.questions import (
    question_create,
    question_decide,
    question_delete,
    question_move,
    question_update,
)
from readings.summary import session_summary
from reminders.selectors import cancellation_recipients
from sessions_app import rules as session_rules
from sessions_app import selectors as session_selectors
from sessions_app.enums import SUMMARY_STATUSES
from sessions_app.links import PACK_FILE_FORMATS, pack_download_url, pack_urls
from sessions_app.models import Session
from sessions_app.rules import facilitates
from sessions_app.services.schedule import (
    attendance_set,
    rsvp_set,
    session_cancel,
    session_update,
)


def _prompt_field(label: str) -> forms.CharField:
    """A discussion question's wording, as a member proposes it or a facilitator writes it."""
    return forms.CharField(
        label=label, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_multiline_text]
    )


class ProposeForm(forms.Form):
    prompt = _prompt_field("Your question")


class QuestionForm(forms.Form):
    prompt = _prompt_field("Question")
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
        "can_edit": allowed(session_rules.CHANGE_SESSION, request.user, Target(membership, session)),
        "can_manage": allowed(session_rules.CHANGE_GROUP, request.user, Target(membership, session.group)),
        "facilitator_rights": facilitates(membership),
    }


def _session_passages(session: Session) -> list[Passage]:
    readings = list(selectors.readings_of(session))
    if not readings:
        return []
    return list(
        Passage.objects.filter(selectors.session_passages_q(readings), retired=False).order_by("text_id", "position")
    )


@rule_required(SIGNED_IN)
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
                **pack_urls(session.pk, absolute_urls=False),
                **{fmt: pack_download_url(session.pk, fmt, absolute_urls=False) for fmt in PACK_FILE_FORMATS},
            },
            "differs": bool(request.viewer_timezone) and request.viewer_timezone != session.timezone,
        }
    )
    if context["can_manage"] or context["can_edit"]:
        context["sheet"] = session_selectors.attendance_sheet(session)
    context["has_summary"] = session.ends_at <= timezone.now() and session.status in SUMMARY_STATUSES
    target = Target(context["membership"], session)
    if session.starts_at <= timezone.now() and allowed(session_rules.MARK_ATTENDANCE, user, target):
        context["attendance"] = context.get("sheet") or session_selectors.attendance_sheet(session)
    if context["facilitator_rights"]:
        context["answers"] = selectors.answers_by_question(user, session)
        context["busiest"] = selectors.busiest_passages(user, session)
        membership = context["membership"]
        context["stuck"] = selectors.stuck_passages(user, membership, session)
        rows = members_progress(user, membership, session)
        context["group_progress"] = {
            "totals": progress_totals(rows),
            "members": rows if session.group.member_progress_visible else None,
        }
    return render(request, "pages/session_detail.html", context)


@rule_required(readings_rules.SEE_DISCUSSION, target=session_target)
def session_brief(request, session_id: int, target: Target):
    """The facilitator's brief: questions and answers, where members got stuck, who has read, what waits."""
    session, context = _session_context(request, session_id)
    context["brief"] = facilitator_brief(request.user, context["membership"], session)
    return render(request, "pages/session_brief.html", context)


@rule_required(SIGNED_IN)
def session_pack_download(request, session_id: int, fmt: str):
    """The page behind "PDF" and "EPUB": it asks for the file until a worker has made it, then saves it.

    The file itself comes from the pack API (202 until ready); the page's
    script (static/js/pack-download.js) polls it and starts the download.
    """
    if fmt not in PACK_FILE_FORMATS:
        raise Http404("No such format.")
    session, context = _session_context(request, session_id)
    context.update({"label": fmt.upper(), "file_url": pack_urls(session.pk, absolute_urls=False)[fmt]})
    return render(request, "pages/pack_download.html", context)


@rule_required(SIGNED_IN, methods=["POST"])
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


@rule_required(readings_rules.MANAGE_QUESTIONS, methods=["GET", "POST"])
def questions_manage(request, session_id: int):
    """Write, edit, reorder, accept and reject the session's questions."""
    session, context = _session_context(request, session_id)  # the session page's own query, with its counts
    require(readings_rules.MANAGE_QUESTIONS, request.user, Target(context["membership"], session))
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
    return render(request, "pages/questions_manage.html", context, status=status)


@rule_required(SIGNED_IN, methods=["POST"])
def rsvp(request, session_id: int):
    """RSVP from a button; htmx swaps in the updated buttons, a plain form post goes back."""
    session = session_selectors.access_session(
        request.user, session_id, session_selectors.sessions_for_api(request.user)
    )
    answer = request.POST.get("status") or None
    problem = ""
    try:
        rsvp_set(session=session, user=request.user, status=answer)
    except ValidationError as error:
        problem = " ".join(error.messages)
    if request.headers.get("HX-Request"):
        session = session_selectors.access_session(
            request.user, session_id, session_selectors.sessions_for_api(request.user)
        )
        return render(request, "pages/includes/rsvp.html", {"session": session, "problem": problem})
    if problem:
        messages.error(request, problem)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    return redirect(target)


@rule_required(session_rules.CHANGE_SESSION, target=session_target, methods=["GET", "POST"])
def session_edit(request, session_id: int, *, target: Target):
    session = target.obj
    form = SessionForm(
        request.POST or None, group=session.group, session=session, initial=SessionForm.initial_for(session)
    )
    if request.method == "POST" and form.is_valid():
        try:
            session_update(session=session, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error, aliases={"ends_at": "duration_minutes"})
        else:
            messages.success(request, "Session saved.")
            return redirect("session-detail", session.pk)
    context = {"form": form, "group": session.group, "session": session, "heading": f"Edit “{session.title}”"}
    return render(request, "pages/session_form.html", context, status=400 if form.errors else 200)


@rule_required(session_rules.CANCEL_SESSION, target=session_target, methods=["GET", "POST"])
def session_cancel_page(request, session_id: int, *, target: Target):
    """Confirm cancelling a session, saying who will be emailed; POST cancels it (and plans the notices)."""
    session = target.obj
    if request.method == "POST":
        session_cancel(session=session)
        messages.success(request, f"“{session.title}” is cancelled. The members are being told by email.")
        return redirect("session-detail", session.pk)
    recipients = list(cancellation_recipients(session).order_by("username"))
    context = {"session": session, "group": session.group, "recipients": recipients}
    return render(request, "pages/session_cancel.html", context)


@rule_required(session_rules.MARK_ATTENDANCE, target=session_target, methods=["POST"])
def attendance_mark(request, session_id: int, *, target: Target):
    """Facilitators mark who came (the ticked members); the group's summary email is planned with it."""
    session = target.obj
    values = request.POST.getlist("present")
    if not all(is_id(value) for value in values):
        return HttpResponseBadRequest("present: give the ids of members who came.", content_type="text/plain")
    present = [int(value) for value in values]
    try:
        attendance_set(session=session, marked_by=request.user, present=present)
    except ValidationError as error:  # not members, or a session that has not started: nothing is written
        return HttpResponseBadRequest("present: " + " ".join(error.messages), content_type="text/plain")
    messages.success(
        request, f"Attendance saved: {len(present)} present. The summary goes to the group's members by email."
    )
    return redirect("session-summary", session.pk)


@rule_required(SIGNED_IN)
def session_summary_page(request, session_id: int):
    """After the session, for its group's members: who came, the questions and their most helpful answers,
    the follow-ups and what is next — what the summary email says, as this person may see it now."""
    session, context = _session_context(request, session_id)
    context["summary"] = session_summary(request.user, context["membership"], session)
    upcoming = context["summary"]["next_session"]
    context["next"] = Session.objects.get(pk=upcoming["id"]) if upcoming else None
    return render(request, "pages/session_summary.html", context)
