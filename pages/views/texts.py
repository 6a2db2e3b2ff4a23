"""Texts: importing one by upload, reading its passages, and building a session's assignment from them."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from core.forms import apply_errors, id_from_request
from core.rules import SIGNED_IN, Target, allowed
from core.validators import validate_multiline_text, validate_single_line
from pages.rules import group_target, rule_required, session_target
from readings import rules, selectors
from readings.enums import ImportState, TextFormat
from readings.models import Text
from readings.parsing import detect_binary_format
from readings.services.assignments import assignment_create, assignment_delete
from readings.services.importing import (
    TitleTaken,
    text_import,
    text_inspect,
    text_revise,
    text_with_title,
    upload_discard,
    upload_stash,
    upload_unstash,
)
from readings.services.text_imports import import_runs_in_worker, text_import_enqueue


class ImportForm(forms.Form):
    """Step one: the file and its fields. An EPUB with chapters comes back for step two (`upload` + `chapters`)."""

    file = forms.FileField(
        required=False,
        help_text="A plain-text (.txt), Markdown (.md), HTML (.html), EPUB (.epub) or PDF (.pdf) file. "
        "Texts up to 5 MB, EPUBs and PDFs up to 50 MB; an EPUB's chapters are offered next.",
    )
    title = forms.CharField(
        max_length=300,
        required=False,
        help_text="Leave empty to use the text's own title.",
        validators=[validate_single_line],
    )
    author = forms.CharField(max_length=200, required=False, validators=[validate_single_line])
    source = forms.CharField(
        max_length=500,
        required=False,
        help_text="Where it comes from: a citation or a link.",
        validators=[validate_single_line],
    )
    format = forms.ChoiceField(
        choices=[("", "Detect from the file"), *TextFormat.choices], required=False, label="Format"
    )
    upload = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    step = forms.CharField(required=False, widget=forms.HiddenInput, max_length=16)
    # The answer to "a text called X exists": its new revision, or a separate text (the same-title step).
    same_title = forms.ChoiceField(
        choices=[("", ""), ("revision", "As a new revision"), ("separate", "As a separate text")],
        required=False,
        widget=forms.HiddenInput,
    )
    existing = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("upload"):
            self.add_error("file", "Choose a file to import.")
        return cleaned


class AssignmentForm(forms.Form):
    """The range itself comes from the radio buttons of the passage list (start_passage, end_passage)."""

    required = forms.BooleanField(required=False, initial=True, label="Required reading")
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What to look out for while reading.",
        max_length=settings.DESCRIPTION_MAX_CHARS,
        validators=[validate_multiline_text],
    )


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


def _too_large(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.UPLOAD_MAX_BYTES
    except ValueError:
        return False


@rule_required(rules.IMPORT_TEXTS, target=group_target, methods=["GET", "POST"])
def text_import_page(request, group_id: int, *, target: Target):
    """Upload a text; it is split into passages by the same import service as the API.

    An EPUB with more than one chapter takes two steps: the upload shows the
    book's metadata and chapters (the file waits in the shared cache), then
    the chosen chapters are imported. An upload whose title a text of the
    group already has asks first whether it is that text's new revision or a
    separate text (the file waits the same way), and does what was chosen.
    """
    group = target.obj
    context = {"group": group, "next": _safe_next(request) or ""}
    if request.method == "POST" and _too_large(request):
        form = ImportForm()
        form.add_error("file", f"The file is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
        return render(request, "pages/text_import.html", {**context, "form": form}, status=400)
    form = ImportForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method != "POST" or not form.is_valid():
        return render(request, "pages/text_import.html", context, status=400 if form.errors else 200)
    fields = form.cleaned_data
    token = fields["upload"]
    if token:
        stashed = upload_unstash(user=request.user, group=group, token=token)
        if stashed is None:
            form.add_error("file", "The uploaded file has expired; upload it again.")
            return render(request, "pages/text_import.html", context, status=400)
    else:
        upload = fields["file"]
        stashed = {"data": upload.read(), "filename": upload.name, "content_type": upload.content_type or ""}
    # Step two sends the chapters; an empty choice is a choice (and an error), so it is not "all".
    chapters = request.POST.getlist("chapters") if fields["step"] == "chapters" else None
    fmt = fields["format"] or None
    job = None
    try:
        is_epub = (fmt or detect_binary_format(**stashed)) == "epub"
        if chapters is None and is_epub:
            inspection = text_inspect(**stashed, fmt=fmt)
            if len(inspection["chapters"]) > 1:
                token = token or upload_stash(user=request.user, group=group, **stashed)
                context |= {
                    "inspection": inspection,
                    "token": token,
                    "chosen": [c["id"] for c in inspection["chapters"]],
                }
                return render(request, "pages/text_import.html", context)
        described = {"title": fields["title"], "author": fields["author"], "source": fields["source"]}
        decision = fields["same_title"]
        revise = _text_to_revise(request, group, fields) if decision == "revision" else None
        in_worker = import_runs_in_worker(fmt=fmt, **stashed)
        if not decision and in_worker and (existing := text_with_title(group=group, title=fields["title"])):
            # A worker reads the file, so only a title typed here can be checked before it is queued.
            raise TitleTaken(existing=existing, title=existing.title)
        if in_worker:
            # Too large to read in the request: a worker imports it, and the progress page follows it.
            job = text_import_enqueue(
                group=group,
                created_by=request.user,
                fmt=fmt,
                chapters=chapters,
                revision_of=revise,
                **(described if revise is None else {}),
                **stashed,
            )
        elif revise is not None:
            previous = revise.revision
            revision = text_revise(text=revise, created_by=request.user, fmt=fmt, chapters=chapters, **stashed)
            text = revision.text
        else:
            text = text_import(
                group=group,
                created_by=request.user,
                fmt=fmt,
                chapters=chapters,
                if_title_exists="import" if decision == "separate" else "ask",
                **described,
                **stashed,
            )
    except TitleTaken as taken:
        token = token or upload_stash(user=request.user, group=group, **stashed)
        context |= {"same_title": taken, "token": token, "chosen": chapters}
        return render(request, "pages/text_import.html", context)
    except ValidationError as error:
        apply_errors(form, error, aliases={"content": "file"})
        if chapters is not None:
            context |= {"inspection": text_inspect(**stashed, fmt=fmt), "token": token, "chosen": chapters}
        return render(request, "pages/text_import.html", context, status=400)
    if token:
        upload_discard(user=request.user, group=group, token=token)
    if job is not None:
        return redirect(_progress_url(request, job))
    if revise is not None:
        if revision.number == previous:  # the same content as the current revision: nothing was made
            messages.info(request, " ".join(revision.notices))
        else:
            messages.success(request, _revision_message(revision))
        return redirect("text-detail", text.pk)
    messages.success(request, f"Imported “{text.title}”: {text.passages.count()} passages.")
    target = _safe_next(request)
    if target:
        return redirect(f"{target}{'&' if '?' in target else '?'}text={text.pk}")
    return redirect("text-detail", text.pk)


def _text_to_revise(request, group, fields) -> Text:
    """The text the same-title step offered as the one to revise: of this group, or a 400 naming the file."""
    text = Text.objects.filter(group=group, pk=fields["existing"]).first() if fields["existing"] else None
    if text is None:
        raise ValidationError({"file": "The text to revise is no longer in this group; import the file again."})
    return text


def _revision_message(revision) -> str:
    changes = revision.changes
    return (
        f"Imported revision {revision.number} of “{revision.text.title}”: {changes['kept']} passages kept, "
        f"{changes['edited']} edited, {changes['added']} added, {changes['retired']} retired."
    )


def _progress_url(request, job) -> str:
    """The page that follows an import in a worker, keeping where the person came from."""
    target = reverse("text-import-progress", args=[job.pk])
    if next_url := _safe_next(request):
        target += "?" + urlencode({"next": next_url})
    return target


@rule_required(SIGNED_IN, methods=["GET"])
def text_import_progress(request, import_id: int):
    """Where a worker's import stands; once done, on to the text (or back where the person came from)."""
    job = selectors.access_text_import(request.user, import_id)
    if job.state == ImportState.DONE and job.text_id is not None:
        messages.success(
            request, f"Imported “{job.text.title}”: {job.text.passages.filter(retired=False).count()} passages."
        )
        if target := _safe_next(request):
            return redirect(f"{target}{'&' if '?' in target else '?'}text={job.text_id}")
        return redirect("text-detail", job.text_id)
    context = {
        "job": job,
        "group": job.group,
        "status_url": reverse("text-import-detail", args=[job.pk]),
        "retry_url": reverse("text-import", args=[job.group_id]),
    }
    return render(request, "pages/text_import_progress.html", context)


@rule_required(SIGNED_IN)
def text_detail(request, text_id: int):
    text, membership = selectors.access_text(request.user, text_id)
    context = {
        "text": text,
        "group": text.group,
        "passages": selectors.passages_of(text),
        "cited_works": selectors.cited_works_of(text),
        "revisions": text.revisions.order_by("-number"),
        "can_import": allowed(rules.REVISE_TEXT, request.user, Target(membership, text)),
    }
    return render(request, "pages/text_detail.html", context)


@rule_required(rules.ASSIGN_READINGS, target=session_target, methods=["GET", "POST"])
def assignment_new(request, session_id: int, *, target: Target):
    """Pick a text, then its first and last passage: the range becomes the session's reading."""
    session = target.obj
    texts = Text.objects.filter(group=session.group).order_by("title")
    text = None
    text_id = id_from_request(request.POST.get("text"), "text") or id_from_request(request.GET.get("text"), "text")
    if text_id is not None:
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
        "can_import": allowed(rules.IMPORT_TEXTS, request.user, target),
    }
    return render(request, "pages/assignment_new.html", context, status=status)


@rule_required(rules.REMOVE_READING, target=session_target, methods=["POST"])
def assignment_remove(request, session_id: int, assignment_id: int, *, target: Target):
    session = target.obj
    assignment = get_object_or_404(selectors.readings_of(session), pk=assignment_id)
    assignment_delete(assignment=assignment)
    messages.success(request, "Reading removed.")
    return redirect(reverse("session-detail", args=[session.pk]) + "#readings")
