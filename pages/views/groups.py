"""The dashboard and a group's pages: its people, invitations and schedule (new sessions and series)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from core.forms import apply_errors
from core.rules import SIGNED_IN, Target, allowed
from pages.forms import GroupForm, GroupNoteSettingsForm, InvitationForm, RoleForm, SeriesForm, SessionForm
from pages.rules import group_target, rule_required, series_target
from readings.selectors import texts_for_user
from sessions_app import rules, selectors
from sessions_app.enums import Role
from sessions_app.services.groups import (
    group_create,
    group_update,
    invitation_create,
    invitation_problem,
    invitation_revoke,
    invitation_url,
    membership_change_role,
    membership_end,
)
from sessions_app.services.schedule import series_create, series_update, session_create


def _upcoming(queryset):
    return queryset.filter(ends_at__gte=timezone.now()).select_related("group").order_by("starts_at", "id")


@rule_required(SIGNED_IN)
def home(request):
    """The dashboard: my groups, and my upcoming sessions with RSVP buttons, in my local time."""
    groups = selectors.groups_for_user(request.user)
    upcoming = _upcoming(selectors.sessions_for_api(request.user))[:12]
    return render(request, "pages/home.html", {"groups": groups, "upcoming": upcoming})


@rule_required(SIGNED_IN, methods=["GET", "POST"])
def group_new(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_create(creator=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"“{group.name}” is ready. Invite people with a link below.")
            return redirect("group-detail", group.pk)
    return render(request, "pages/group_form.html", {"form": form}, status=400 if form.errors else 200)


@rule_required(SIGNED_IN)
def group_detail(request, group_id: int):
    """A group's sessions (upcoming, then past) and texts; for organizers also its people and invitations."""
    group, membership = selectors.access_group(request.user, group_id)
    sessions = selectors.sessions_for_api(request.user).filter(group=group).select_related("group")
    now = timezone.now()
    context = {
        "group": group,
        "membership": membership,
        "upcoming": sessions.filter(ends_at__gte=now).order_by("starts_at", "id"),
        "past": sessions.filter(ends_at__lt=now).order_by("-starts_at", "-id")[:20],
        "texts": texts_for_user(request.user).filter(group=group).order_by("title", "id"),
        "can_manage": allowed(rules.CHANGE_GROUP, request.user, Target(membership, group)),
        "can_schedule": allowed(rules.CREATE_SESSION, request.user, Target(membership, group)),
    }
    if context["can_manage"]:
        context["members"] = selectors.members_of(group)
        context["invitations"] = [
            invitation for invitation in selectors.invitations_of(group) if invitation_problem(invitation) is None
        ]
        for invitation in context["invitations"]:
            invitation.url = invitation_url(invitation)
        context["invitation_form"] = InvitationForm()
        context["role_choices"] = Role.choices
        context["note_settings_form"] = GroupNoteSettingsForm(
            initial={
                "default_note_visibility": group.default_note_visibility,
                "highlights_unlock_peek": group.highlights_unlock_peek,
                "summary_attendance": group.summary_attendance,
            }
        )
    return render(request, "pages/group_detail.html", context)


@rule_required(rules.MANAGE_INVITATIONS, target=group_target, methods=["POST"])
def invitation_new(request, group_id: int, *, target: Target):
    group = target.obj
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(
                group=group,
                created_by=request.user,
                role=form.cleaned_data["role"],
                max_uses=form.cleaned_data["max_uses"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"New invitation link for a {invitation.role}: copy it below and share it.")
    else:
        messages.error(request, "Check the invitation: " + "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect(f"{reverse('group-detail', args=[group.pk])}#invitations")


@rule_required(rules.CHANGE_GROUP, target=group_target, methods=["POST"])
def group_note_settings(request, group_id: int, *, target: Target):
    """Organizers set what new notes default to and whether highlights unlock "post before you peek"."""
    group = target.obj
    form = GroupNoteSettingsForm(request.POST)
    if form.is_valid():
        try:
            group_update(group=group, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Saved the note settings.")
    else:
        messages.error(
            request, "Check the note settings: " + "; ".join(e for errs in form.errors.values() for e in errs)
        )
    return redirect(f"{reverse('group-detail', args=[group.pk])}#note-settings")


@rule_required(rules.REVOKE_INVITATION, target=group_target, methods=["POST"])
def invitation_revoke_page(request, group_id: int, invitation_id: int, *, target: Target):
    group = target.obj
    invitation = get_object_or_404(selectors.invitations_of(group), pk=invitation_id)
    invitation_revoke(invitation=invitation)
    messages.success(request, "The invitation link no longer works.")
    return redirect(f"{reverse('group-detail', args=[group.pk])}#invitations")


@rule_required(rules.CHANGE_MEMBER, target=group_target, methods=["POST"])
def member_change(request, group_id: int, user_id: int, *, target: Target):
    """Change a member's role (`role` in the form) or remove them (`remove`)."""
    group = target.obj
    target = get_object_or_404(selectors.members_of(group), user_id=user_id)
    try:
        if "remove" in request.POST:
            membership_end(membership=target, leaving=False)
            messages.success(request, f"{target.user.name} is no longer in the group.")
        else:
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"role": "Choose organizer, facilitator or member."})
            membership_change_role(membership=target, role=form.cleaned_data["role"])
            messages.success(request, f"{target.user.name} is now {target.get_role_display().lower()}.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{reverse('group-detail', args=[group.pk])}#members")


@rule_required(SIGNED_IN, methods=["POST"])
def group_leave(request, group_id: int):
    group, membership = selectors.access_group(request.user, group_id)
    try:
        membership_end(membership=membership, leaving=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("group-detail", group.pk)
    messages.success(request, f"You have left {group.name}.")
    return redirect("home")


@rule_required(rules.CREATE_SESSION, target=group_target, methods=["GET", "POST"])
def session_new(request, group_id: int, *, target: Target):
    group = target.obj
    form = SessionForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            session = session_create(group=group, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error, aliases={"ends_at": "duration_minutes"})
        else:
            messages.success(request, "Session scheduled. Now choose what to read.")
            return redirect("session-detail", session.pk)
    context = {"form": form, "group": group, "heading": "Schedule a session"}
    return render(request, "pages/session_form.html", context, status=400 if form.errors else 200)


@rule_required(rules.CREATE_SERIES, target=group_target, methods=["GET", "POST"])
def series_new(request, group_id: int, *, target: Target):
    group = target.obj
    form = SeriesForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            series = series_create(group=group, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error, aliases={"rrule": "frequency"})
        else:
            messages.success(request, f"Scheduled {series.sessions.count()} sessions of “{series.title}”.")
            return redirect("group-detail", group.pk)
    context = {"form": form, "group": group, "heading": "Schedule a series"}
    return render(request, "pages/series_form.html", context, status=400 if form.errors else 200)


@rule_required(rules.CHANGE_SERIES, target=series_target, methods=["GET", "POST"])
def series_edit(request, series_id: int, *, target: Target):
    series, group = target.obj, target.membership.group
    form = SeriesForm(request.POST or None, group=group, initial=SeriesForm.initial_for(series))
    if request.method == "POST" and form.is_valid():
        try:
            series_update(series=series, **form.service_fields())
        except ValidationError as error:
            apply_errors(form, error, aliases={"rrule": "frequency"})
        else:
            messages.success(request, "Series saved: its upcoming sessions follow the change.")
            return redirect("group-detail", group.pk)
    context = {"form": form, "group": group, "series": series, "heading": f"Edit the series “{series.title}”"}
    return render(request, "pages/series_form.html", context, status=400 if form.errors else 200)
