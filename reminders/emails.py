"""What a reminder email says and carries: templates, headers, the .ics, the unsubscribe link.

Building an email reads nothing from the database by itself: the
dispatcher hands it a row (session, group, recipient and preference
loaded) and a `SessionContent` that holds what is shared by every email
about one session (readings, questions, the .ics), loaded once per batch.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formataddr
from functools import cached_property
from uuid import uuid4
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.utils.html import escape

from core.links import absolute, absolute_url, site_host
from core.validators import single_line
from readings.mentions import mention_names, note_text, text_with_mention_names
from readings.models import DiscussionQuestion, ReadingAssignment
from readings.pack.brief_document import brief_view
from readings.progress import percent_of
from readings.selectors import mentions_prefetch, question_numbers
from readings.services.assignments import reading_minutes_for
from sessions_app.calendar import calendar_bytes, session_url
from sessions_app.links import pack_download_url
from sessions_app.models import Session, User

from .enums import UNSUBSCRIBE_KINDS, NotificationKind, ReminderKind
from .models import Notification, NotificationPreference, OutboxEvent, Reminder
from .selectors import note_links, notification_views

UNSUBSCRIBE_SALT = "reminders.unsubscribe"


class BadUnsubscribeToken(Exception):
    """The token was altered, belongs to another site, or names an unknown kind."""


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A signed, stable token naming one person and one kind of email (no expiry: old emails keep working)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    try:
        user_id, kind = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadUnsubscribeToken(token) from None
    if not isinstance(user_id, int) or kind not in UNSUBSCRIBE_KINDS:
        raise BadUnsubscribeToken(token)
    return user_id, kind


def unsubscribe_url(user_id: int, kind: str) -> str:
    return absolute_url("reminder-unsubscribe", unsubscribe_token(user_id, kind))


def preferences_url() -> str:
    return absolute_url("reminder-preferences")


def pack_url(session: Session) -> str:
    """The page that prepares the PDF and downloads it (the file itself is rendered by a worker)."""
    return pack_download_url(session.pk, "pdf")


def message_id(reminder: Reminder) -> str:
    """Stable for the row: a resend after a crash carries the same Message-ID, so clients can fold duplicates."""
    if reminder.session_id is None:
        return f"<reminder-{reminder.pk}.{reminder.kind}@{site_host('studycircle.local')}>"
    return f"<reminder-{reminder.pk}.{reminder.kind}.session-{reminder.session_id}@{site_host('studycircle.local')}>"


def local_time(moment: datetime, tzname: str) -> str:
    """'Thursday 5 November 2026, 19:00 GMT' in `tzname` (day and month names of the C locale Django runs in)."""
    local = moment.astimezone(ZoneInfo(tzname))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


def short_time(moment: datetime, tzname: str) -> str:
    """'Thu 5 Nov, 19:00' in `tzname`, for subject lines."""
    local = moment.astimezone(ZoneInfo(tzname))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


@dataclass(frozen=True)
class Rendered:
    """An email's subject and bodies with the recipient's name and unsubscribe link still to fill in."""

    subject: str
    text: str
    html: str


@dataclass
class SessionContent:
    """What every email about one session shares; built once per session per batch.

    Bodies are rendered once per kind, time zone and start time, and the
    recipient's name and unsubscribe link are filled in per email: the
    emails of one session differ only there.
    """

    session: Session
    readings: list[ReadingAssignment] = field(default_factory=list)
    questions: list[DiscussionQuestion] = field(default_factory=list)
    rendered: dict[tuple, Rendered] = field(default_factory=dict)
    # For nudges: the words of the required reading, what each recipient has read, who answered "maybe".
    required_words: int = 0
    words_read: dict[int, int] = field(default_factory=dict)
    maybe: set[int] = field(default_factory=set)

    @cached_property
    def ics(self) -> bytes:
        return calendar_bytes([self.session], name=self.session.title)

    @cached_property
    def calendar_part(self) -> SafeMIMEText:
        """The .ics as `text/calendar; method=PUBLISH`, an attachment calendar apps offer to add.

        One part object serves every email of the session: writing a message never changes its parts.
        """
        part = SafeMIMEText(self.ics.decode("utf-8"), "calendar", "utf-8")
        part.set_param("method", "PUBLISH")
        part.add_header("Content-Disposition", "attachment", filename="session.ics")
        return part

    @property
    def reading_minutes(self) -> int:
        return sum(assignment.reading_minutes for assignment in self.readings)


# Stand-ins the templates print where the recipient's own name and link go; plain ASCII, so
# escaping leaves them as they are. Templates print `recipient_name` and `unsubscribe_url` as they are.
_RECIPIENT_NAME = "STUDYCIRCLE-RECIPIENT-NAME-6b1e"
_UNSUBSCRIBE_URL = "STUDYCIRCLE-UNSUBSCRIBE-URL-6b1e"


def _preference(user: User) -> NotificationPreference | None:
    return getattr(user, "notification_preference", None)


def recipient_timezone(user: User, session: Session) -> str:
    """The recipient's own timezone if they set one, else the session's."""
    preference = _preference(user)
    return (preference.timezone if preference else "") or session.timezone


def _context(reminder: Reminder, content: SessionContent, tzname: str) -> dict:
    session = content.session
    duration = session.ends_at - session.starts_at
    context = {
        "kind": reminder.kind,
        "site_name": settings.SITE_NAME,
        "recipient_name": _RECIPIENT_NAME,
        "session": session,
        "group_name": session.group.name,
        "session_url": session_url(session),
        "pack_url": pack_url(session),
        "preferences_url": preferences_url(),
        "unsubscribe_url": _UNSUBSCRIBE_URL,
        "kind_label": ReminderKind(reminder.kind).label,
        "timezone": tzname,
        "when": local_time(reminder.for_starts_at, tzname),
        "when_short": short_time(reminder.for_starts_at, tzname),
        # The session's own time too, when the reader lives elsewhere.
        "when_session": (local_time(reminder.for_starts_at, session.timezone) if tzname != session.timezone else ""),
        "session_timezone": session.timezone,
        "ends": f"{(reminder.for_starts_at + duration).astimezone(ZoneInfo(tzname)):%H:%M}",
        "location": session.location,
        "online_url": session.online_url,
    }
    if reminder.kind == ReminderKind.READING:
        context["readings"] = [
            {
                "title": assignment.text.title,
                "author": assignment.text.author,
                "start": assignment.start_passage.position,
                "end": assignment.end_passage.position,
                "minutes": assignment.reading_minutes,
                "required": assignment.required,
                "instructions": assignment.instructions,
            }
            for assignment in content.readings
        ]
        context["reading_minutes"] = content.reading_minutes
        context["questions"] = [
            {"prompt": question.prompt, "kind": question.get_kind_display(), "minutes": question.minutes}
            for question in content.questions
        ]
    if reminder.kind == ReminderKind.NUDGE:
        read_words = content.words_read.get(reminder.recipient_id, 0)
        words_left = max(0, content.required_words - read_words)
        context["percent"] = percent_of(read_words, content.required_words) or 0
        context["words_left"] = words_left
        context["minutes_left"] = reading_minutes_for(words_left)
        # The reader opens at the passage they reached last ("continue where I left off").
        context["read_url"] = absolute_url("session-read", session.pk)
    if reminder.kind == ReminderKind.CHANGED:
        previous = reminder.previous_starts_at
        context["back_on"] = previous is not None and previous == reminder.for_starts_at
        context["was"] = local_time(previous, tzname) if previous else ""
    return context


class ReminderEmail(EmailMultiAlternatives):
    """Django's email with MIME boundaries of its own.

    Left to itself, the standard library invents each multipart boundary and
    compiles a regular expression to check the body does not contain it:
    a third of a millisecond per email, at thousands of emails a batch. A
    random 128-bit token cannot occur in the body, so the check is moot.
    """

    def message(self, **kwargs):
        message = super().message(**kwargs)
        for part in message.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"=_studycircle_{uuid4().hex}")
        return message


def _group_list_id(session: Session) -> str:
    # Group names go into headers; a line break there would end the header (or the message).
    return f"{single_line(session.group.name)} <group-{session.group_id}.reminders.{site_host('studycircle.local')}>"


def _outbox_email(
    reminder: Reminder, *, name: str, unsubscribe: str, list_id: str, subject: str, text: str, html: str
) -> ReminderEmail:
    """One outbox row's email with the headers every kind carries: its stable Message-ID, the list it belongs
    to, and the one-click unsubscribe of its kind (RFC 2369 and RFC 8058: mail clients show a button that
    POSTs to it)."""
    headers = {
        "Message-ID": message_id(reminder),
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id,
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    email = ReminderEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, reminder.recipient.email))],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email


def _rendered(reminder: Reminder, content: SessionContent, tzname: str) -> Rendered:
    key = (reminder.kind, tzname, reminder.for_starts_at, reminder.previous_starts_at)
    if reminder.kind == ReminderKind.NUDGE:  # each says how far its reader has got
        key += (content.words_read.get(reminder.recipient_id, 0),)
    if key not in content.rendered:
        context = _context(reminder, content, tzname)
        base = f"reminders/email/{reminder.kind}"
        content.rendered[key] = Rendered(
            subject=" ".join(render_to_string(f"{base}_subject.txt", context).split()),
            text=render_to_string(f"{base}.txt", context),
            html=render_to_string(f"{base}.html", context),
        )
    return content.rendered[key]


def build_reminder_email(reminder: Reminder, content: SessionContent) -> ReminderEmail:
    """The complete email for one outbox row: text and HTML bodies, list headers, the .ics where it helps."""
    user = reminder.recipient
    # The name goes into a header; a line break there would end the header (or the message).
    name = single_line(user.name)
    rendered = _rendered(reminder, content, recipient_timezone(user, content.session))
    unsubscribe = unsubscribe_url(user.pk, reminder.kind)
    email = _outbox_email(
        reminder,
        name=name,
        unsubscribe=unsubscribe,
        list_id=_group_list_id(content.session),
        subject=rendered.subject,
        text=rendered.text.replace(_RECIPIENT_NAME, name).replace(_UNSUBSCRIBE_URL, unsubscribe),
        html=rendered.html.replace(_RECIPIENT_NAME, escape(name)).replace(_UNSUBSCRIBE_URL, escape(unsubscribe)),
    )
    if reminder.kind in (ReminderKind.STARTING, ReminderKind.CHANGED):
        email.attach(content.calendar_part)
    return email


# --- Emails of notifications (replies, mentions, answers; the daily digest) ----------------------

QUOTE_CHARS = 300


@dataclass(frozen=True)
class NoticeItem:
    """One notification as its email tells it, read with the recipient's rights at sending time."""

    kind: str
    actor_name: str
    group_name: str
    text_title: str
    url: str
    # False under post-before-you-peek: the email says there is a note, not what it says.
    shows_note: bool
    quote: str = ""
    body: str = ""
    created_at: datetime | None = None
    # An answer: the question's number among the session's accepted ones ("question 2"), and its prompt.
    question_number: int | None = None
    question_prompt: str = ""


def _quote(note) -> str:
    """The passage words the note is about: its quoted span, else the start of the passage."""
    words = note.selector.get("exact", "") if note.selector else note.passage.body
    words = " ".join(words.split())
    return words if len(words) <= QUOTE_CHARS else words[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _prompt(question: DiscussionQuestion) -> str:
    prompt = " ".join(question.prompt.split())
    return prompt if len(prompt) <= 80 else prompt[:79].rsplit(" ", 1)[0] + "…"


def notice_items(rows: Sequence[Reminder], *, now: datetime) -> dict[int, list[NoticeItem]]:
    """For each email of notifications, what it may tell its recipient now (oldest first).

    Notifications about a note the recipient may no longer see (deleted,
    hidden, made private, or they left the group) are left out; under
    post-before-you-peek the item says there is a note without its words.
    A few queries per recipient, none per notification.
    """
    if not rows:
        return {}
    events = list(
        OutboxEvent.objects.filter(email_id__in=[row.pk for row in rows])
        .select_related(
            "notification__actor",
            "notification__group",
            "notification__note__passage__text",
            "notification__note__question",
        )
        .prefetch_related(mentions_prefetch("notification__note__mentions"))
        .order_by("notification__created_at", "notification_id")
    )
    by_row: dict[int, list[Notification]] = {row.pk: [] for row in rows}
    for event in events:
        by_row[event.email_id].append(event.notification)
    recipients = {row.pk: row.recipient for row in rows}
    links = note_links([one.note for one in (e.notification for e in events) if one.note_id], now=now)
    answered = {one.note.question_id for one in (e.notification for e in events) if one.note_id}
    numbers = question_numbers(answered - {None}) if answered - {None} else {}
    views: dict[int, bool] = {}
    by_user: dict[int, list[Notification]] = {}
    for row in rows:
        by_user.setdefault(row.recipient_id, []).extend(by_row[row.pk])
    for user_id, notifications in by_user.items():
        user = next(recipients[row.pk] for row in rows if row.recipient_id == user_id)
        views.update(notification_views(user, notifications))
    items: dict[int, list[NoticeItem]] = {}
    for row in rows:
        told = []
        for one in by_row[row.pk]:
            if one.pk not in views:
                continue
            note, shows = one.note, views[one.pk]
            told.append(
                NoticeItem(
                    kind=one.kind,
                    actor_name=one.actor.name if one.actor else "Someone",
                    group_name=one.group.name,
                    text_title=note.passage.text.title if note else "",
                    url=absolute(links[note.pk]) if note else settings.SITE_URL,
                    shows_note=shows,
                    quote=_quote(note) if note and shows else "",
                    body=text_with_mention_names(note.body, mention_names(note)) if note and shows else "",
                    created_at=one.created_at,
                    question_number=numbers.get(note.question_id) if note else None,
                    question_prompt=_prompt(note.question) if note and note.question_id else "",
                )
            )
        items[row.pk] = told
    return items


_SUBJECTS = {
    NotificationKind.REPLY: ("{actor} replied to you on “{title}”", "{n} new replies to you"),
    NotificationKind.MENTION: ("{actor} mentioned you on “{title}”", "You were mentioned {n} times"),
    NotificationKind.ANSWER: ("{actor} answered your question{question} on “{title}”", "{n} answers to your questions"),
}


def _subject(kind: str, items: Sequence[NoticeItem]) -> str:
    if kind == ReminderKind.DIGEST:
        return f"Your daily digest: {len(items)} new" + (" notification" if len(items) == 1 else " notifications")
    one, many = _SUBJECTS[kind]
    first = items[0]
    question = f" {first.question_number}" if first.question_number else ""
    return (one if len(items) == 1 else many).format(
        actor=first.actor_name, title=first.text_title, n=len(items), question=question
    )


def build_notifications_email(reminder: Reminder, items: Sequence[NoticeItem]) -> ReminderEmail:
    """The email telling of `items` (a batch of one kind, or the daily digest): each quotes the passage words
    and the note and links to it; one unsubscribe link for the kind (or the digest)."""
    user = reminder.recipient
    name = single_line(user.name)
    unsubscribe = unsubscribe_url(user.pk, reminder.kind)
    group_names = sorted({item.group_name for item in items})
    context = {
        "kind": reminder.kind,
        "site_name": settings.SITE_NAME,
        "recipient_name": name,
        "group_name": " and ".join(group_names),
        "items": items,
        "preferences_url": preferences_url(),
        "unsubscribe_url": unsubscribe,
        "kind_label": ReminderKind(reminder.kind).label,
        "notifications_url": absolute_url("notifications"),
    }
    return _outbox_email(
        reminder,
        name=name,
        unsubscribe=unsubscribe,
        list_id=f"{single_line(settings.SITE_NAME)} notifications <notifications.{site_host('studycircle.local')}>",
        subject=single_line(_subject(reminder.kind, items)),
        text=render_to_string("reminders/email/notifications.txt", context),
        html=render_to_string("reminders/email/notifications.html", context),
    )


# --- The after-session summary -----------------------------------------------------------------


def _summary_context(reminder: Reminder, summary: dict, tzname: str) -> dict:
    """The templates' view of one recipient's summary: times in their timezone, links on SITE_URL."""
    session = reminder.session
    upcoming = summary["next_session"]
    context = {
        "kind": reminder.kind,
        "site_name": settings.SITE_NAME,
        "group_name": session.group.name,
        "session": session,
        "when": local_time(session.starts_at, tzname),
        "attendance": summary["attendance"],
        # Each note's words as plain text with mentions by display name (`text`); the HTML shows `body_html`.
        "questions": [
            {**question, "answers": [{**answer, "text": note_text(answer)} for answer in question["answers"]]}
            for question in summary["questions"]
        ],
        "follow_ups": [{**note, "text": note_text(note)} for note in summary["follow_ups"]],
        "next_session": upcoming,
        "summary_url": absolute_url("session-summary", session.pk),
        "preferences_url": preferences_url(),
        "kind_label": ReminderKind(reminder.kind).label,
    }
    if upcoming is not None:
        starts = datetime.fromisoformat(upcoming["starts_at"])
        context["next_when"] = local_time(starts, tzname)
        context["next_url"] = absolute_url("session-detail", upcoming["id"])
        context["next_read_url"] = absolute_url("session-read", upcoming["id"])
    return context


def _session_outbox_email(
    reminder: Reminder, *, name: str, unsubscribe: str, context: dict, template: str
) -> ReminderEmail:
    """A session's email rendered for its one recipient from `reminders/email/<template>{_subject.txt,.txt,.html}`."""
    base = f"reminders/email/{template}"
    return _outbox_email(
        reminder,
        name=name,
        unsubscribe=unsubscribe,
        list_id=_group_list_id(reminder.session),
        subject=" ".join(render_to_string(f"{base}_subject.txt", context).split()),
        text=render_to_string(f"{base}.txt", context),
        html=render_to_string(f"{base}.html", context),
    )


def build_summary_email(reminder: Reminder, summary: dict) -> ReminderEmail:
    """The summary email of one outbox row, from `summary` (`readings.summary.session_summary`, built with the
    recipient's rights at sending time): who came, the questions with their most helpful answers, the follow-ups
    and the next session; stable Message-ID and one-click unsubscribe as every reminder."""
    user, session = reminder.recipient, reminder.session
    name = single_line(user.name)
    unsubscribe = unsubscribe_url(user.pk, reminder.kind)
    context = {
        **_summary_context(reminder, summary, recipient_timezone(user, session)),
        "recipient_name": name,
        "unsubscribe_url": unsubscribe,
    }
    return _session_outbox_email(reminder, name=name, unsubscribe=unsubscribe, context=context, template="summary")


# --- The facilitator's brief -----------------------------------------------------------------------


def build_brief_email(reminder: Reminder, brief: dict) -> ReminderEmail:
    """The facilitator's brief for one outbox row, from `brief` (`readings.brief.facilitator_brief`, built with
    the recipient's rights at sending time): the same lines as the printed brief, with small bars; stable
    Message-ID and one-click unsubscribe (kind `brief`) as every reminder."""
    user, session = reminder.recipient, reminder.session
    name = single_line(user.name)
    tzname = recipient_timezone(user, session)
    unsubscribe = unsubscribe_url(user.pk, reminder.kind)
    context = {
        "kind": reminder.kind,
        "site_name": settings.SITE_NAME,
        "recipient_name": name,
        "group_name": session.group.name,
        "session": session,
        "when": local_time(reminder.for_starts_at, tzname),
        "when_short": short_time(reminder.for_starts_at, tzname),
        "brief": brief_view(brief),
        "brief_url": absolute_url("session-brief", session.pk),
        "preferences_url": preferences_url(),
        "unsubscribe_url": unsubscribe,
        "kind_label": ReminderKind(reminder.kind).label,
    }
    return _session_outbox_email(reminder, name=name, unsubscribe=unsubscribe, context=context, template="brief")
