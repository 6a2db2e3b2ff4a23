"""Texts: importing one by upload, reading its passages, and building a session's assignment from them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from sessions_app import selectors as session_selectors
from sessions_app.forms import apply_errors
from sessions_app.permissions import can_edit_session

from .. import selectors
from ..enums import TextFormat
from ..models import Text
from ..permissions import can_import_texts
from ..services.assignments import assignment_create, assignment_delete
from ..services.importing import text_import


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A plain-text (.txt), Markdown (.md) or HTML (.html) file, up to 5 MB.")
    title = forms.CharField(max_length=300, required=False, help_text="Leave empty to use the text's own title.")
    author = forms.CharField(max_length=200, required=False)
    source = forms.CharField(max_length=500, required=False, help_text="Where it comes from: a citation or a link.")
    format = forms.ChoiceField(
        choices=[("", "Detect from the file"), *TextFormat.choices], required=False, label="Format"
    )


class AssignmentForm(forms.Form):
    """The range itself comes from the radio buttons of the passage list (start_passage, end_passage)."""

    required = forms.BooleanField(required=False, initial=True, label="Required reading")
    instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="What to look out for while reading."
    )


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


@login_required
@require_http_methods(["GET", "POST"])
def text_import_page(request, group_id: int):
    """Upload an essay; it is split into passages by the same import service as the API."""
    group, membership = session_selectors.access_group(request.user, group_id)
    if not can_import_texts(membership):
        raise PermissionDenied("Only organizers and facilitators import texts.")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = text_import(
                group=group,
                created_by=request.user,
                title=form.cleaned_data["title"],
                author=form.cleaned_data["author"],
                source=form.cleaned_data["source"],
                data=upload.read(),
                filename=upload.name,
                content_type=upload.content_type or "",
                fmt=form.cleaned_data["format"] or None,
            )
        except ValidationError as error:
            apply_errors(form, error, aliases={"content": "file"})
        else:
            messages.success(request, f"Imported “{text.title}”: {text.passages.count()} passages.")
            target = _safe_next(request)
            if target:
                return redirect(f"{target}{'&' if '?' in target else '?'}text={text.pk}")
            return redirect("text-detail", text.pk)
    context = {"form": form, "group": group, "next": _safe_next(request) or ""}
    return render(request, "readings/text_import.html", context, status=400 if form.errors else 200)


@login_required
def text_detail(request, text_id: int):
    text, membership = selectors.access_text(request.user, text_id)
    context = {
        "text": text,
        "group": text.group,
        "passages": selectors.passages_of(text),
        "cited_works": selectors.cited_works_of(text),
        "revisions": text.revisions.order_by("-number"),
        "can_import": can_import_texts(membership),
    }
    return render(request, "readings/text_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_new(request, session_id: int):
    """Pick a text, then its first and last passage: the range becomes the session's reading."""
    session = session_selectors.access_session(request.user, session_id)
    membership = session_selectors.membership_for(request.user, session.group_id)
    if not can_edit_session(membership, session):
        raise PermissionDenied("Only organizers and this session's facilitators assign readings.")
    texts = Text.objects.filter(group=session.group).order_by("title")
    text = None
    if text_id := request.POST.get("text") or request.GET.get("text"):
        text = get_object_or_404(texts, pk=text_id)
    form = AssignmentForm(request.POST or None)
    status = 200
    if request.method == "POST" and text is not None and form.is_valid():
        passages = {str(p.pk): p for p in selectors.passages_of(text)}
        start = passages.get(request.POST.get("start_passage", ""))
        end = passages.get(request.POST.get("end_passage", ""))
        if start is None:
            form.add_error(None, "Choose the first passage to read (the “From” column).")
        if end is None:
            form.add_error(None, "Choose the last passage to read (the “To” column).")
        if start is not None and end is not None:
            try:
                assignment_create(
                    session=session,
                    text=text,
                    start_passage=start,
                    end_passage=end,
                    required=form.cleaned_data["required"],
                    instructions=form.cleaned_data["instructions"],
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"Assigned §{start.position}–§{end.position} of “{text.title}”.")
                return redirect(reverse("session-detail", args=[session.pk]) + "#readings")
        status = 400
    context = {
        "session": session,
        "group": session.group,
        "texts": texts,
        "text": text,
        "form": form,
        "passages": selectors.passages_of(text) if text is not None else [],
        "chosen_start": request.POST.get("start_passage", ""),
        "chosen_end": request.POST.get("end_passage", ""),
        "can_import": can_import_texts(membership),
    }
    return render(request, "readings/assignment_new.html", context, status=status)


@login_required
@require_POST
def assignment_remove(request, session_id: int, assignment_id: int):
    session = session_selectors.access_session(request.user, session_id)
    membership = session_selectors.membership_for(request.user, session.group_id)
    if not can_edit_session(membership, session):
        raise PermissionDenied("Only organizers and this session's facilitators change readings.")
    assignment = get_object_or_404(selectors.readings_of(session), pk=assignment_id)
    assignment_delete(assignment=assignment)
    messages.success(request, "Reading removed.")
    return redirect(reverse("session-detail", args=[session.pk]) + "#readings")
