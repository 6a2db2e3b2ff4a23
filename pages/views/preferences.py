"""Your preferences (timezone, reminders, calendar feed, API tokens), notifications, and the one-click unsubscribe."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from core.links import absolute_url
from core.rules import ANYONE, SIGNED_IN
from pages.forms import PreferencesForm
from pages.rules import rule_required
from readings.selectors import mentions_prefetch, question_numbers
from reminders.emails import BadUnsubscribeToken, read_unsubscribe_token
from reminders.enums import ReminderKind
from reminders.selectors import note_links, notifications_shown
from reminders.services.notifications import notifications_mark_read
from reminders.services.preferences import (
    PREFERENCE_FIELDS,
    email_switched_on,
    preference_for,
    preference_unsubscribe,
    preference_update,
)
from sessions_app.models import User
from sessions_app.selectors import api_tokens_of
from sessions_app.services.calendar_feeds import calendar_feed_for

NOTIFICATIONS_PER_PAGE = 25


@rule_required(SIGNED_IN, methods=["GET", "POST"])
def preferences(request):
    """Timezone, reading lead and the four email switches of the signed-in user; their calendar feed and API tokens."""
    preference = preference_for(request.user)
    initial = {field: getattr(preference, field) for field in PREFERENCE_FIELDS}
    form = PreferencesForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                preference_update(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, "Your email preferences are saved.")
                return redirect("reminder-preferences")
        status = 400
    feed = calendar_feed_for(user=request.user)
    feed_url = absolute_url("calendar-feed", feed.secret)
    context = {
        "form": form,
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        "tokens": list(api_tokens_of(request.user)),
        "token_days": settings.API_TOKEN_DAYS,
        "now": timezone.now(),
    }
    return render(request, "pages/preferences.html", context, status=status)


@csrf_exempt  # RFC 8058: mail clients POST here without a session or a CSRF token; the signed token is the credential.
@rule_required(ANYONE, methods=["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET shows what the link would switch off, with a button, and changes nothing (link scanners
    follow GETs); POST (the button, or a mail client's `List-Unsubscribe=One-Click`) switches it off."""
    try:
        user_id, kind = read_unsubscribe_token(token)
        user = User.objects.get(pk=user_id)
    except (BadUnsubscribeToken, User.DoesNotExist):
        return render(request, "pages/unsubscribe.html", {"problem": True}, status=404)
    context = {"kind_label": ReminderKind(kind).label, "account": user, "done": False}
    if request.method == "POST":
        preference_unsubscribe(user=user, kind=kind)
        context["done"] = True
    else:
        context["already_off"] = not email_switched_on(preference_for(user), kind)
    return render(request, "pages/unsubscribe.html", context)


@rule_required(SIGNED_IN, methods=["GET", "POST"])
def notifications_page(request):
    """The signed-in user's notifications, newest first, each linking to its note; mark one or all read (POST)."""
    if request.method == "POST":
        if request.POST.get("all"):
            notifications_mark_read(user=request.user, everything=True)
        else:
            ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
            if ids:
                notifications_mark_read(user=request.user, ids=ids)
        return redirect(request.get_full_path())
    shown = (
        notifications_shown(request.user)
        .select_related("actor", "group", "note__passage__text")
        .prefetch_related(mentions_prefetch("note__mentions"))
    )
    if unread_only := request.GET.get("unread") == "1":
        shown = shown.filter(read_at__isnull=True)
    page = Paginator(shown, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    links = note_links([one.note for one in items if one.note_id])
    answered = {one.note.question_id for one in items if one.note_id and one.note.question_id}
    numbers = question_numbers(answered) if answered else {}
    for one in items:
        one.link = links.get(one.note_id, "")
        one.question_number = numbers.get(one.note.question_id) if one.note_id else None
    context = {"page": page, "items": items, "unread_only": unread_only}
    return render(request, "pages/notifications.html", context)
