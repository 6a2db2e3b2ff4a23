"""What each reminder email says and carries, read as the recipient gets it."""

import email
import email.policy
import re
from datetime import timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from reminders.emails import message_id, unsubscribe_url
from reminders.models import Reminder
from reminders.services.dispatch import DispatchResult, reminders_dispatch_due
from reminders.services.preferences import preference_update
from sessions_app.models import Session, StudyGroup, User
from sessions_app.services.schedule import session_cancel, session_update

from .conftest import NOW, READING_DUE, STARTING_DUE, STARTS

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"
MEMBER = "Member <member@example.org>"


def sent_to(address: str, kind: str) -> mail.EmailMultiAlternatives:
    (message,) = [m for m in mail.outbox if m.to == [address] and m.extra_headers["Message-ID"].split(".")[1] == kind]
    return message


def parsed(message: mail.EmailMessage) -> email.message.EmailMessage:
    """The message as it goes over the wire, parsed back like a mail client would."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def footer(user_id: int, kind_label: str, kind: str) -> str:
    return (
        "-- \n"
        "You get this because you are a member of Tuesday Readers on Studycircle.\n"
        f"Stop “{kind_label}” emails: {unsubscribe_url(user_id, kind)}\n"
        f"All email preferences: {SITE}/reminders/preferences/\n\n"
    )


def test_reading_email_lists_what_to_read_the_accepted_questions_and_the_links(
    world, session, readings_and_questions, clock
):
    clock.move_to(READING_DUE, tick=False)
    reminders_dispatch_due(now=READING_DUE)

    message = sent_to(MEMBER, "reading")

    assert message.subject == "To read for “Reading Capital, week one” (Thu 7 Mar, 19:00): about 4 min"
    assert message.body == (
        "Hello Member,\n\n"
        "Tuesday Readers meets for “Reading Capital, week one”:\n\n"
        "When:   Thursday 7 March 2030, 19:00 EST until 20:30\n"
        "Where:  Library, room 2\n"
        "Online: https://meet.example.org/capital\n\n"
        "What to read (about 4 minutes in all):\n\n"
        "- The October revolution and the bolsheviks: §10–§25, about 4 min\n"
        "  Mark one claim you doubt.\n\n"
        "Questions for the discussion:\n\n"
        "1. What did you expect the text to argue?\n"
        "2. What does the essay mean by “proletarian dictatorship”? (15 min)\n\n"
        f"Session page: {SITE}/sessions/{session.pk}/\n"
        f"Session pack (PDF, to print or read offline): {SITE}/sessions/{session.pk}/pack/pdf/\n\n"
        + footer(world.member.pk, "What to read", "reading")
    )
    html = message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"
    assert f'href="{SITE}/sessions/{session.pk}/pack/pdf/"' in html
    assert f'href="{SITE}/sessions/{session.pk}/"' in html
    assert "Is this a proposal?" not in html + message.body  # proposals are not the group's questions yet
    assert "Steer towards" not in html + message.body  # facilitator notes never go out


def test_starting_email_gives_the_time_in_the_recipients_zone_and_the_sessions_with_an_ics(world, session, clock):
    preference_update(user=world.member, timezone="Europe/Paris")
    clock.move_to(STARTING_DUE, tick=False)
    reminders_dispatch_due(now=STARTING_DUE)

    message = sent_to(MEMBER, "starting")
    wire = parsed(message)
    (ics,) = [part for part in wire.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(ics.get_content())

    assert message.subject == "Starting soon: “Reading Capital, week one”, Fri 8 Mar, 01:00"
    assert message.body == (
        "Hello Member,\n\n"
        "“Reading Capital, week one” with Tuesday Readers starts soon.\n\n"
        "When:   Friday 8 March 2030, 01:00 CET until 02:30\n"
        "        (Thursday 7 March 2030, 19:00 EST in America/New_York, the session’s own time zone)\n"
        "Where:  Library, room 2\n"
        "Online: https://meet.example.org/capital\n\n"
        "The attached session.ics adds it to your calendar.\n"
        f"Session page: {SITE}/sessions/{session.pk}/\n\n" + footer(world.member.pk, "Starting soon", "starting")
    )
    assert (ics.get_param("method"), ics.get_filename()) == ("PUBLISH", "session.ics")
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert (str(event["UID"]), event["DTSTART"].dt) == (f"session-{session.pk}@127.0.0.1", STARTS)


def test_starting_email_in_the_sessions_own_zone_shows_one_time(world, session, clock):
    clock.move_to(STARTING_DUE, tick=False)
    reminders_dispatch_due(now=STARTING_DUE)

    body = sent_to(MEMBER, "starting").body

    assert "When:   Thursday 7 March 2030, 19:00 EST until 20:30\nWhere:  Library, room 2\n" in body
    assert "own time zone" not in body


@pytest.mark.parametrize("kind", ["reading", "starting", "changed", "cancelled"])
def test_every_email_has_text_html_list_unsubscribe_headers_and_a_stable_message_id(world, session, clock, kind):
    reminders_dispatch_due(now=STARTING_DUE)  # reminded, so a move sends `changed`
    if kind == "changed":
        session_update(
            session=session, starts_at=STARTS + timedelta(days=1), ends_at=STARTS + timedelta(days=1, hours=1)
        )
    if kind == "cancelled":
        session_cancel(session=session)
    if kind in ("changed", "cancelled"):
        mail.outbox.clear()
        reminders_dispatch_due(now=NOW)
    reminder = Reminder.objects.get(recipient=world.member, kind=kind, state="sent")

    wire = parsed(sent_to(MEMBER, kind))

    assert (
        wire["Message-ID"] == message_id(reminder) == f"<reminder-{reminder.pk}.{kind}.session-{session.pk}@127.0.0.1>"
    )
    # The long header is folded after its colon; the folding white space is not part of the value.
    assert wire["List-Unsubscribe"].strip() == f"<{unsubscribe_url(world.member.pk, kind)}>"
    assert wire["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert wire["Auto-Submitted"] == "auto-generated"
    assert [part.get_content_type() for part in wire.walk() if not part.is_multipart()][:2] == [
        "text/plain",
        "text/html",
    ]
    html = wire.get_body(("html",)).get_content()
    assert "<img" not in html
    assert "<link" not in html
    assert f'href="{unsubscribe_url(world.member.pk, kind)}"' in html


def test_changed_email_gives_the_old_and_the_new_time(world, session, clock):
    reminders_dispatch_due(now=READING_DUE)
    later = STARTS + timedelta(days=1, minutes=30)
    session_update(session=session, starts_at=later, ends_at=later + timedelta(minutes=90))
    mail.outbox.clear()
    reminders_dispatch_due(now=NOW)

    message = sent_to(MEMBER, "changed")

    assert message.subject == "New time: “Reading Capital, week one” is now Fri 8 Mar, 19:30"
    assert message.body.split("\n\n")[1:3] == [
        "“Reading Capital, week one” with Tuesday Readers has moved. "
        "It was Thursday 7 March 2030, 19:00 EST; the new time is below.",
        "When:   Friday 8 March 2030, 19:30 EST until 21:00\nWhere:  Library, room 2\n"
        "Online: https://meet.example.org/capital",
    ]
    assert [part.get_content_type() for part in parsed(message).iter_attachments()] == ["text/calendar"]


def test_cancelled_email_says_which_session_is_off(world, session, clock):
    session_cancel(session=session)
    reminders_dispatch_due(now=NOW)

    message = sent_to(MEMBER, "cancelled")

    assert message.subject == "Cancelled: “Reading Capital, week one”, Thu 7 Mar, 19:00"
    assert message.body.split("\n\n")[1] == (
        "“Reading Capital, week one” with Tuesday Readers, planned for Thursday 7 March 2030, 19:00 EST "
        "at Library, room 2, is cancelled."
    )


def test_what_people_typed_is_escaped_in_html_and_kept_as_typed_in_text(world, session, clock):
    session_update(session=session, title="Marx & <Engels> “Manifesto”", location="Café <b>Rouge</b>")
    reminders_dispatch_due(now=STARTING_DUE)

    message = sent_to(MEMBER, "starting")
    html = message.alternatives[0].content

    assert message.subject == "Starting soon: “Marx & <Engels> “Manifesto””, Thu 7 Mar, 19:00"
    assert "“Marx & <Engels> “Manifesto”” with Tuesday Readers starts soon." in message.body
    assert "<strong>Marx &amp; &lt;Engels&gt; “Manifesto”</strong>" in html
    assert "Café &lt;b&gt;Rouge&lt;/b&gt;" in html
    assert "<b>Rouge" not in html


def test_a_name_stored_with_a_line_break_stays_inside_its_header(world, session, clock, smtp):
    """A display name written before names were checked must not add headers (or recipients) to the email."""
    User.objects.filter(pk=world.member.pk).update(display_name="Member\r\nBcc: intruder@example.org")
    StudyGroup.objects.filter(pk=world.group.pk).update(name="Tuesday\nReaders")

    result = reminders_dispatch_due(now=STARTING_DUE)

    assert result == DispatchResult(claimed=7, sent=7)  # each one's reading and starting reminder, the brief
    [received] = [r for r in smtp.received if r.to == ("member@example.org",) and "Starting soon" in r.subject]
    assert received.message["To"] == '"Member Bcc: intruder@example.org" <member@example.org>'
    assert received.message["Bcc"] is None
    assert received.message["List-Id"].startswith("Tuesday Readers <group-")
    assert received.message.get_body(("plain",)).get_content().startswith("Hello Member Bcc: intruder@example.org,")
    assert sorted(address for r in smtp.received for address in r.to) == sorted(
        ["facilitator@example.org", "member@example.org", "organizer@example.org"] * 2 + ["organizer@example.org"]
    )


def test_a_session_title_stored_with_a_line_break_still_sends_its_starting_reminders(
    world, session, clock, smtp, client
):
    """The issue's own case: a title written before titles were checked (every input refuses it now), as an old
    database holds it. Its "starting" reminders go out in a real batch, the title on one line in the subject and
    the .ics, and the session's page still opens."""
    Session.objects.filter(pk=session.pk).update(title="Reading Capital,\r\nweek one\x0b")

    result = reminders_dispatch_due(now=STARTING_DUE)

    assert result == DispatchResult(claimed=7, sent=7)  # each one's reading and starting reminder, the brief
    assert set(Reminder.objects.values_list("state", "last_error")) == {("sent", "")}
    starting = [r for r in smtp.received if "Starting soon" in r.subject]
    assert sorted(r.to for r in starting) == [("facilitator@example.org",), ("member@example.org",),
                                              ("organizer@example.org",)]  # fmt: skip
    for received in starting:
        assert received.subject.strip() == "Starting soon: “Reading Capital, week one ”, Thu 7 Mar, 19:00"
        # In the plain text body the stored line break stays (it breaks nothing there).
        assert re.search(
            r"“Reading Capital,\s+week one\s*” with Tuesday Readers starts soon\.",
            received.message.get_body(("plain",)).get_content(),
        )
        [attachment] = received.message.iter_attachments()
        ics = attachment.get_content()
        [event] = Calendar.from_ical(ics).walk("VEVENT")
        assert event["SUMMARY"] == "Reading Capital, week one · Tuesday Readers"
        assert "SUMMARY:Reading Capital\\, week one · Tuesday Readers\n" in ics.replace("\r\n", "\n")
    client.force_login(world.member)
    assert client.get(f"/sessions/{session.pk}/").status_code == 200
