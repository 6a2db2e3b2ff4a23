"""Account pages: Django's auth views with our templates, signing up through an invitation, the calendar feed."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import permissions, selectors
from .calendar import calendar_bytes
from .enums import Role, SessionStatus
from .exceptions import InvitationUnavailable
from .forms import GroupForm, InvitationForm, RoleForm, SeriesForm, SessionForm, SignupForm, apply_errors
from .lockout import refused_response, retry_message
from .models import CalendarFeed
from .services.api_tokens import api_token_create, api_token_revoke
from .services.calendar_feeds import calendar_feed_rotate
from .services.groups import (
    group_create,
    invitation_accept,
    invitation_create,
    invitation_problem,
    invitation_revoke,
    invitation_signup,
    invitation_url,
    membership_change_role,
    membership_end,
)
from .services.schedule import rsvp_set, series_create, series_update, session_create, session_update
from .throttling import per_account, per_address, refused_for

# How far back a calendar feed reaches; older sessions fall out of subscribers' calendars.
FEED_HISTORY_DAYS = 90


def _in(seconds: int):
    return timezone.now() + timedelta(seconds=seconds)


def _too_many(form, what: str, seconds: int) -> None:
    """Put "too many tries, try again after …" on the form, in the site's words."""
    message, _ = retry_message(what, _in(seconds))
    form.add_error(None, message)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login, limited per client address; django-axes locks an account from an address.

    Outside the request transaction: the failures axes records must stay
    recorded whatever the response.
    """

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if wait := refused_for(request, [per_address("login", request)]):
            # An unbound form: a bound one would check the password while it is refused.
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            refused, _ = retry_message("Too many login attempts from your address.", _in(wait))
            return self.render_to_response(self.get_context_data(form=form, refused=refused), status=429)
        return super().post(request, *args, **kwargs)


@transaction.non_atomic_requests
def admin_login(request, extra_context=None):
    """The admin's login page, limited per client address like ours (axes locks it the same way)."""
    if request.method == "POST" and (wait := refused_for(request, [per_address("login", request)])):
        message, seconds = retry_message("Too many login attempts from your address.", _in(wait))
        return refused_response(request, message, seconds)
    return admin.site.login(request, extra_context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email, limited per address and per email address asked for.

    The link in the email is built on SITE_URL, not the request's host.
    """

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        limits = [
            per_address("password_reset", self.request),
            per_account("password_reset_account", form.cleaned_data["email"]),
        ]
        if wait := refused_for(self.request, limits):
            _too_many(form, "Too many password resets asked for from your address or for this email.", wait)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        self.extra_email_context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME}
        return super().form_valid(form)


def _form_errors(form: SignupForm, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


@require_http_methods(["GET", "POST"])
def invitation_page(request, token: str):
    """What an invitation link opens: join as the signed-in user, or create an account."""
    invitation = selectors.access_invitation(token)
    problem = invitation_problem(invitation)
    form = SignupForm()
    status = 410 if problem else 200
    if request.method == "POST" and not problem:
        try:
            if request.user.is_authenticated:
                membership = invitation_accept(invitation=invitation, user=request.user)
                messages.success(request, f"You are now in {membership.group.name}.")
                return redirect("home")
            form = SignupForm(request.POST)
            limits = [per_address("signup", request), per_account("signup_account", request.POST.get("email", ""))]
            if wait := refused_for(request, limits):
                _too_many(form, "Too many sign-ups from your address or with this email.", wait)
                status = 429
            else:
                if form.is_valid():
                    membership = invitation_signup(invitation=invitation, **form.cleaned_data)
                    login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                    messages.success(request, f"Welcome! You are now in {membership.group.name}.")
                    return redirect("home")
                status = 400
        except InvitationUnavailable as error:
            problem, status = error.message, 410
        except ValidationError as error:
            _form_errors(form, error)
            status = 400
    context = {"invitation": invitation, "problem": problem, "form": form}
    return render(request, "sessions_app/invitation.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request, secret: str):
    """A user's subscription feed: every session of their groups, cancelled ones as STATUS:CANCELLED.

    The secret in the address is the credential, so calendar apps can poll it
    without logging in; rotating it (POST /api/v1/me/calendar-feed/) revokes it.
    """
    feed = CalendarFeed.objects.select_related("user").filter(secret=secret).first()
    if feed is None:
        raise Http404("No such calendar feed.")
    since = timezone.now() - timedelta(days=FEED_HISTORY_DAYS)
    sessions = (
        selectors.sessions_for_user(feed.user)
        .exclude(status=SessionStatus.DRAFT)
        .filter(ends_at__gte=since)
        .select_related("group")
        .order_by("starts_at")
    )
    body = calendar_bytes(sessions, name=f"{settings.SITE_NAME}: {feed.user.name}", refresh_minutes=60)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="studycircle.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- Dashboard, groups and scheduling pages ----------------------------------------------------------


def _upcoming(queryset):
    return queryset.filter(ends_at__gte=timezone.now()).select_related("group").order_by("starts_at", "id")


@login_required
def home(request):
    """The dashboard: my groups, and my upcoming sessions with RSVP buttons, in my local time."""
    groups = selectors.groups_for_user(request.user)
    upcoming = _upcoming(selectors.sessions_for_api(request.user))[:12]
    return render(request, "sessions_app/home.html", {"groups": groups, "upcoming": upcoming})


@login_required
@require_http_methods(["GET", "POST"])
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
    return render(request, "sessions_app/group_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def group_detail(request, group_id: int):
    """A group's sessions (upcoming, then past); for organizers also its people and invitations."""
    group, membership = selectors.access_group(request.user, group_id)
    sessions = selectors.sessions_for_api(request.user).filter(group=group).select_related("group")
    now = timezone.now()
    context = {
        "group": group,
        "membership": membership,
        "upcoming": sessions.filter(ends_at__gte=now).order_by("starts_at", "id"),
        "past": sessions.filter(ends_at__lt=now).order_by("-starts_at", "-id")[:20],
        "can_manage": permissions.can_manage_group(membership),
        "can_schedule": permissions.can_create_session(membership),
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
    return render(request, "sessions_app/group_detail.html", context)


def _managed_group(request, group_id: int):
    group, membership = selectors.access_group(request.user, group_id)
    if not permissions.can_manage_group(membership):
        raise PermissionDenied("Only organizers can do that.")
    return group, membership


@login_required
@require_POST
def invitation_new(request, group_id: int):
    group, _membership = _managed_group(request, group_id)
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


@login_required
@require_POST
def invitation_revoke_page(request, group_id: int, invitation_id: int):
    group, _membership = _managed_group(request, group_id)
    invitation = get_object_or_404(selectors.invitations_of(group), pk=invitation_id)
    invitation_revoke(invitation=invitation)
    messages.success(request, "The invitation link no longer works.")
    return redirect(f"{reverse('group-detail', args=[group.pk])}#invitations")


@login_required
@require_POST
def member_change(request, group_id: int, user_id: int):
    """Change a member's role (`role` in the form) or remove them (`remove`)."""
    group, _membership = _managed_group(request, group_id)
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


@login_required
@require_POST
def group_leave(request, group_id: int):
    group, membership = selectors.access_group(request.user, group_id)
    try:
        membership_end(membership=membership, leaving=True)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("group-detail", group.pk)
    messages.success(request, f"You have left {group.name}.")
    return redirect("home")


@login_required
@require_POST
def rsvp(request, session_id: int):
    """RSVP from a button; htmx swaps in the updated buttons, a plain form post goes back."""
    session = selectors.access_session(request.user, session_id, selectors.sessions_for_api(request.user))
    answer = request.POST.get("status") or None
    problem = ""
    try:
        rsvp_set(session=session, user=request.user, status=answer)
    except ValidationError as error:
        problem = " ".join(error.messages)
    if request.headers.get("HX-Request"):
        session = selectors.access_session(request.user, session_id, selectors.sessions_for_api(request.user))
        return render(request, "sessions_app/includes/rsvp.html", {"session": session, "problem": problem})
    if problem:
        messages.error(request, problem)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    return redirect(target)


def _schedulable_group(request, group_id: int):
    group, membership = selectors.access_group(request.user, group_id)
    if not permissions.can_create_session(membership):
        raise PermissionDenied("Only organizers schedule sessions.")
    return group


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request, group_id: int):
    group = _schedulable_group(request, group_id)
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
    return render(request, "sessions_app/session_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request, session_id: int):
    session = selectors.access_session(request.user, session_id)
    membership = selectors.membership_for(request.user, session.group_id)
    if not permissions.can_edit_session(membership, session):
        raise PermissionDenied("Only organizers and this session's facilitators can edit it.")
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
    return render(request, "sessions_app/session_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def series_new(request, group_id: int):
    group = _schedulable_group(request, group_id)
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
    return render(request, "sessions_app/series_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def series_edit(request, series_id: int):
    series = selectors.access_series(request.user, series_id)
    group, membership = selectors.access_group(request.user, series.group_id)
    if not permissions.can_manage_group(membership):
        raise PermissionDenied("Only organizers edit a series.")
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
    return render(request, "sessions_app/series_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def calendar_feed_rotate_page(request):
    """A new secret address for the user's calendar feed, from the preferences page."""
    calendar_feed_rotate(user=request.user)
    messages.success(request, "Your calendar feed has a new address. Subscribe to it again in your calendar app.")
    return redirect(reverse("reminder-preferences") + "#calendar")


@login_required
@require_POST
def api_token_new_page(request):
    """Make a named API token from the preferences page and show its key, this once (it is not kept)."""
    try:
        token, key = api_token_create(user=request.user, name=request.POST.get("name", ""))
    except ValidationError as error:
        for problem in error.message_dict.get("name", error.messages):
            messages.error(request, problem)
        return redirect(reverse("reminder-preferences") + "#tokens")
    response = render(request, "sessions_app/api_token_created.html", {"token": token, "key": key})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke_page(request, token_id: int):
    """Revoke one of your API tokens from the preferences page; anyone else's is a 404."""
    token = get_object_or_404(selectors.api_tokens_of(request.user), pk=token_id)
    api_token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” is revoked: programs using it are signed out.")
    return redirect(reverse("reminder-preferences") + "#tokens")
