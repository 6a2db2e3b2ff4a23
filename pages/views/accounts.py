"""Account pages: Django's auth views with our templates, signing up by invitation, the calendar feed, tokens."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator

from core.rules import ANYONE, SIGNED_IN
from core.throttling import per_account, per_address, refused_for
from pages.forms import SignupForm
from pages.lockout import refused_response, retry_message
from pages.rules import rule_required
from sessions_app import selectors
from sessions_app.calendar import calendar_bytes
from sessions_app.enums import SessionStatus
from sessions_app.exceptions import InvitationUnavailable
from sessions_app.models import CalendarFeed
from sessions_app.passwords import OwnPasswordChangeForm
from sessions_app.services.api_tokens import api_token_create, api_token_revoke
from sessions_app.services.calendar_feeds import calendar_feed_rotate
from sessions_app.services.groups import (
    invitation_accept,
    invitation_problem,
    invitation_signup,
    signup_problems,
)

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


def _admin_password_change(request, extra_context=None):
    """The admin's page where a staff member changes their own password: Django's
    (`AdminSite.password_change`), with a form that sets it through the service, which revokes their API tokens."""
    request.current_app = admin.site.name
    return auth_views.PasswordChangeView.as_view(
        form_class=OwnPasswordChangeForm,
        success_url=reverse("admin:password_change_done", current_app=admin.site.name),
        extra_context={**admin.site.each_context(request), **(extra_context or {})},
    )(request)


# Signed-in staff only, as the admin's own URL is (admin_view sends anyone else to the admin's login).
admin_password_change = admin.site.admin_view(_admin_password_change, cacheable=True)
admin_password_change.rule = SIGNED_IN


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


def _every_problem(form: SignupForm, data) -> None:
    """Add what the sign-up service finds to the fields the form found fine, so every error shows at once."""
    fields = ("username", "email", "password", "display_name")
    found = signup_problems(**{name: str(data.get(name, "")) for name in fields})
    for field, problems in found.items():
        if field in form.fields and field not in form.errors:
            for message in problems:
                form.add_error(field, message)


@rule_required(ANYONE, methods=["GET", "POST"])
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
                _every_problem(form, request.POST)
                status = 400
        except InvitationUnavailable as error:
            problem, status = error.message, 410
        except ValidationError as error:
            _form_errors(form, error)
            status = 400
    context = {"invitation": invitation, "problem": problem, "form": form}
    return render(request, "pages/invitation.html", context, status=status)


@rule_required(ANYONE, methods=["GET", "HEAD"])
def calendar_feed(request, secret: str):
    """A user's subscription feed: every session of their groups, cancelled ones as STATUS:CANCELLED.

    The secret in the address is the credential, so calendar apps can poll it
    without logging in; rotating it (POST /api/v1/me/calendar-feed/) revokes it.
    """
    # A switched-off account keeps no way in, this one included (tokens and sessions refuse it too).
    feed = CalendarFeed.objects.select_related("user").filter(secret=secret, user__is_active=True).first()
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


@rule_required(SIGNED_IN, methods=["POST"])
def calendar_feed_rotate_page(request):
    """A new secret address for the user's calendar feed, from the preferences page."""
    calendar_feed_rotate(user=request.user)
    messages.success(request, "Your calendar feed has a new address. Subscribe to it again in your calendar app.")
    return redirect(reverse("reminder-preferences") + "#calendar")


@rule_required(SIGNED_IN, methods=["POST"])
def api_token_new_page(request):
    """Make a named API token from the preferences page and show its key, this once (it is not kept)."""
    try:
        token, key = api_token_create(user=request.user, name=request.POST.get("name", ""))
    except ValidationError as error:
        for problem in error.message_dict.get("name", error.messages):
            messages.error(request, problem)
        return redirect(reverse("reminder-preferences") + "#tokens")
    response = render(request, "pages/api_token_created.html", {"token": token, "key": key})
    response["Cache-Control"] = "no-store"
    return response


@rule_required(SIGNED_IN, methods=["POST"])
def api_token_revoke_page(request, token_id: int):
    """Revoke one of your API tokens from the preferences page; anyone else's is a 404."""
    token = get_object_or_404(selectors.api_tokens_of(request.user), pk=token_id)
    api_token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” is revoked: programs using it are signed out.")
    return redirect(reverse("reminder-preferences") + "#tokens")
