"""Account pages: Django's auth views with our templates, signing up through an invitation, the calendar feed."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from rest_framework.throttling import ScopedRateThrottle

from . import selectors
from .calendar import calendar_bytes
from .enums import SessionStatus
from .exceptions import InvitationUnavailable
from .forms import SignupForm
from .models import CalendarFeed
from .services.groups import invitation_accept, invitation_problem, invitation_signup

# How far back a calendar feed reaches; older sessions fall out of subscribers' calendars.
FEED_HISTORY_DAYS = 90


class _PageThrottle:
    """DRF's scoped throttle, reused for HTML forms so there is one rate limiter."""

    def __init__(self, scope: str) -> None:
        self.throttle_scope = scope

    def allows(self, request) -> bool:
        return ScopedRateThrottle().allow_request(request, self)


class LoginView(auth_views.LoginView):
    """Django's login, throttled per client address against password guessing."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not _PageThrottle("login").allows(request):
            form = self.get_form()
            form.add_error(None, "Too many attempts from your address. Wait a minute, then try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email; the link in the email is built on SITE_URL, not the request's host."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
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
            if not _PageThrottle("signup").allows(request):
                form = SignupForm(request.POST)
                form.add_error(None, "Too many sign-ups from your address. Try again later.")
                status = 429
            else:
                form = SignupForm(request.POST)
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


def home(request):
    """The signed-in user's groups and upcoming sessions (the full dashboard comes with the web UI)."""
    if not request.user.is_authenticated:
        return redirect("login")
    upcoming = (
        selectors.sessions_for_user(request.user)
        .filter(ends_at__gte=timezone.now())
        .select_related("group")
        .order_by("starts_at")[:20]
    )
    context = {"groups": selectors.groups_for_user(request.user), "upcoming": upcoming}
    return render(request, "sessions_app/home.html", context)


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
