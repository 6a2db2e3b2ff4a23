"""Dispatch in this process: claiming, leases, late rows, SMTP failures. The dispatcher is given its `now`."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from readings.models import DiscussionQuestion
from reminders.emails import message_id
from reminders.models import NotificationPreference, Reminder
from reminders.services.dispatch import (
    DispatchResult,
    claim_due_reminders,
    reminders_dispatch_due,
    retry_delay,
    send_reminder_batch,
)
from reminders.services.planning import reminders_plan_for_session
from reminders.services.preferences import preference_update
from reminders.tasks import dispatch_due_reminders
from sessions_app.models import User
from sessions_app.services.schedule import rsvp_set

from ..factories import GroupFactory, MembershipFactory, SessionFactory
from .conftest import READING_DUE, STARTING_DUE, STARTS, outbox
from .realparts import free_port

pytestmark = pytest.mark.django_db

PEOPLE = ("organizer", "facilitator", "member")
ADDRESSES = [
    "Facilitator <facilitator@example.org>",
    "Member <member@example.org>",
    "Organizer <organizer@example.org>",
]
LATE = "Late: the session had already started when this reminder could be sent."


def test_dispatch_sends_due_reminders_once_and_marks_each_sent(world, session, clock):
    clock.move_to(READING_DUE, tick=False)

    first = reminders_dispatch_due(now=READING_DUE)
    second = reminders_dispatch_due(now=READING_DUE)

    assert first == DispatchResult(claimed=3, sent=3)
    assert second == DispatchResult()
    assert sorted(message.to[0] for message in mail.outbox) == ADDRESSES
    assert outbox(kind="reading") == {(name, "reading", READING_DUE, "sent") for name in PEOPLE}
    assert set(Reminder.objects.filter(kind="reading").values_list("sent_at", "attempts", "lease_until")) == {
        (READING_DUE, 1, None)
    }


def test_dispatch_leaves_reminders_that_are_not_due(world, session):
    assert reminders_dispatch_due(now=READING_DUE - timedelta(seconds=1)) == DispatchResult()
    assert mail.outbox == []


def test_late_reminder_is_sent_while_its_session_has_not_started(world, session):
    result = reminders_dispatch_due(now=STARTS - timedelta(minutes=1))

    # Each one's reading and starting reminder, and the organizer's brief (the session lists no facilitator).
    assert result == DispatchResult(claimed=7, sent=7)
    assert len(mail.outbox) == 7


def test_late_reminder_is_skipped_once_its_session_has_started(world, session):
    result = reminders_dispatch_due(now=STARTS)

    assert result == DispatchResult(claimed=7, skipped=7)  # with the organizer's brief
    assert set(Reminder.objects.values_list("state", "last_error", "sent_at")) == {("skipped", LATE, None)}
    assert mail.outbox == []


def test_claim_takes_due_rows_under_a_lease_and_reclaims_them_only_when_it_expires(world, session):
    first = claim_due_reminders(now=READING_DUE, lease_seconds=60)
    while_leased = claim_due_reminders(now=READING_DUE + timedelta(seconds=59), lease_seconds=60)
    after_lease = claim_due_reminders(now=READING_DUE + timedelta(seconds=61), lease_seconds=60)

    assert len(first) == 3
    assert while_leased == []
    assert sorted(after_lease) == sorted(first)
    assert set(Reminder.objects.filter(pk__in=first).values_list("state", "attempts", "lease_until")) == {
        ("sending", 2, READING_DUE + timedelta(seconds=121))
    }


def test_claim_respects_the_batch_size(world, session):
    assert len(claim_due_reminders(now=STARTS - timedelta(minutes=1), limit=4)) == 4
    assert len(claim_due_reminders(now=STARTS - timedelta(minutes=1), limit=4)) == 3  # 7 rows with the brief


def test_batch_skips_reminders_that_no_longer_apply(world, session, clock):
    ids = claim_due_reminders(now=READING_DUE)
    # After the claim the planner leaves the rows alone; the dispatcher checks again before sending.
    rsvp_set(session=session, user=world.member, status="declined")
    preference_update(user=world.facilitator, email_reading=False)

    result = send_reminder_batch(reminder_ids=ids, now=READING_DUE)

    assert result == DispatchResult(claimed=3, sent=1, skipped=2)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("recipient__username", "state", "last_error")) == {
        ("organizer", "sent", ""),
        ("member", "skipped", "The recipient declined the session."),
        ("facilitator", "skipped", "The recipient switched off “What to read” emails."),
    }


def test_batch_stops_starting_messages_at_half_its_lease_and_hands_the_rest_back(world, session, settings):
    settings.REMINDER_LEASE_SECONDS = 0
    ids = claim_due_reminders(now=READING_DUE)

    result = send_reminder_batch(reminder_ids=ids, now=READING_DUE)

    assert result == DispatchResult(claimed=3, released=3)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("state", "attempts", "lease_until")) == {
        ("pending", 0, None)
    }
    assert mail.outbox == []


def test_retry_delay_doubles_from_the_base_and_is_capped(settings):
    settings.REMINDER_RETRY_BASE_SECONDS, settings.REMINDER_RETRY_MAX_SECONDS = 60, 3600

    assert [retry_delay(attempt).total_seconds() for attempt in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_smtp_permanent_refusal_is_recorded_and_the_batch_goes_on(world, session, smtp, clock):
    smtp.refuse["facilitator@example.org"] = "550 5.1.1 No such mailbox"
    smtp.refuse["organizer@example.org"] = "451 4.3.0 Mailbox busy, try later"

    result = reminders_dispatch_due(now=READING_DUE)

    assert result == DispatchResult(claimed=3, sent=1, failed=1, retrying=1)
    assert [received.to for received in smtp.received] == [("member@example.org",)]
    assert set(
        Reminder.objects.filter(kind="reading").values_list(
            "recipient__username", "state", "last_error", "next_attempt_at"
        )
    ) == {
        ("member", "sent", "", READING_DUE),
        ("facilitator", "failed", "SMTP 550 refused the recipient: 5.1.1 No such mailbox", READING_DUE),
        (
            "organizer",
            "pending",
            "SMTP 451 refused the recipient: 4.3.0 Mailbox busy, try later",
            READING_DUE + timedelta(seconds=60),
        ),
    }


def test_smtp_connection_refused_hands_the_batch_back_and_it_goes_out_once_the_server_is_back(
    world, session, smtp, settings, clock
):
    smtp.stop()
    settings.EMAIL_PORT = free_port()

    down = reminders_dispatch_due(now=READING_DUE)
    rows_down = sorted(Reminder.objects.filter(kind="reading").values_list("state", "attempts", "next_attempt_at"))
    too_early = reminders_dispatch_due(now=READING_DUE + timedelta(seconds=59))
    smtp.start(settings.EMAIL_PORT)
    back = reminders_dispatch_due(now=READING_DUE + timedelta(seconds=60))

    assert down == DispatchResult(claimed=3, retrying=1, released=2)
    assert rows_down == [("pending", 0, READING_DUE + timedelta(seconds=60))] * 2 + [
        ("pending", 1, READING_DUE + timedelta(seconds=60))
    ]
    assert too_early == DispatchResult()
    assert back == DispatchResult(claimed=3, sent=3)
    assert sorted(received.to[0] for received in smtp.received) == [f"{name}@example.org" for name in sorted(PEOPLE)]


def test_a_reminder_sent_again_after_a_lost_commit_carries_the_same_message_id(world, session, smtp):
    ids = claim_due_reminders(now=READING_DUE, lease_seconds=60)
    send_reminder_batch(reminder_ids=ids, now=READING_DUE)
    # The worker died between the server's "250" and the commit of `sent`: the row is still leased.
    Reminder.objects.filter(pk=ids[0]).update(state="sending", lease_until=READING_DUE + timedelta(seconds=60))

    again = reminders_dispatch_due(now=READING_DUE + timedelta(seconds=61))

    reminder = Reminder.objects.get(pk=ids[0])
    assert again == DispatchResult(claimed=1, sent=1)
    assert [received.message_id for received in smtp.received if received.to == (reminder.recipient.email,)] == [
        message_id(reminder),
        message_id(reminder),
    ]


# Each pass also looks for sessions whose nudges are due, and for sessions that ended without a summary (one
# query each; none here).
@pytest.mark.parametrize(("members", "queries"), [(3, 21), (9, 33)])
def test_dispatch_adds_one_query_per_reminder(members, queries, django_assert_num_queries):
    group = GroupFactory()
    MembershipFactory.create_batch(members, group=group)
    session = SessionFactory(group=group, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    DiscussionQuestion.objects.create(session=session, prompt="Why?")
    reminders_plan_for_session(session=session, now=STARTS - timedelta(days=7))

    with django_assert_num_queries(queries):
        result = reminders_dispatch_due(now=STARTING_DUE)

    assert result == DispatchResult(claimed=2 * members, sent=2 * members)


def test_reading_reminder_with_nothing_to_read_and_no_questions_is_skipped(world, clock):
    bare = SessionFactory(group=world.group, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    reminders_plan_for_session(session=bare)

    result = reminders_dispatch_due(now=READING_DUE)

    assert result == DispatchResult(claimed=3, skipped=3)
    assert set(Reminder.objects.values_list("kind", "state", "last_error")) == {
        ("reading", "skipped", "Nothing to read and no questions had been set when the reminder was due."),
        ("starting", "pending", ""),
        ("brief", "pending", ""),  # the organizer's, due a day before
    }


def test_dispatch_command_runs_one_pass(world, session, clock, capsys):
    clock.move_to(READING_DUE, tick=False)
    call_command("dispatch_reminders")

    assert capsys.readouterr().out == "Claimed 3: sent 3, failed 0, skipped 0, retrying later 0.\n"


def test_dispatch_task_runs_a_pass_and_reports_counts(world, session, clock):
    clock.move_to(READING_DUE, tick=False)

    assert dispatch_due_reminders.run() == {
        "claimed": 3,
        "sent": 3,
        "failed": 0,
        "skipped": 0,
        "retrying": 0,
        "released": 0,
    }


# A zone name the tz database no longer has (as after an upgrade that dropped one), stored before the upgrade.
GONE_ZONE = "US/Pacific-New"
GONE_ZONE_ERROR = "Could not build the email: ZoneInfoNotFoundError: 'No time zone found with key US/Pacific-New'"


def test_a_reminder_that_cannot_be_built_is_failed_with_its_error_and_the_batch_goes_on(world, session, smtp, clock):
    NotificationPreference.objects.create(user=world.facilitator, timezone=GONE_ZONE)

    result = reminders_dispatch_due(now=READING_DUE)

    assert result == DispatchResult(claimed=3, sent=2, failed=1)
    assert sorted(received.to[0] for received in smtp.received) == ["member@example.org", "organizer@example.org"]
    assert set(Reminder.objects.filter(kind="reading").values_list("recipient__username", "state", "last_error")) == {
        ("organizer", "sent", ""),
        ("member", "sent", ""),
        ("facilitator", "failed", GONE_ZONE_ERROR),
    }
    # Failed is final: the next passes leave it alone instead of failing again every minute.
    assert reminders_dispatch_due(now=READING_DUE + timedelta(hours=2)) == DispatchResult()


def test_an_address_the_mail_backend_refuses_to_write_is_failed_and_the_connection_serves_the_rest(
    world, session, smtp, clock
):
    User.objects.filter(pk=world.member.pk).update(email="member@example.org\nBcc: intruder@example.org")

    result = reminders_dispatch_due(now=READING_DUE)

    assert result == DispatchResult(claimed=3, sent=2, failed=1)
    assert sorted(address for received in smtp.received for address in received.to) == [
        "facilitator@example.org",
        "organizer@example.org",
    ]
    assert Reminder.objects.get(kind="reading", recipient=world.member).last_error.startswith(
        "Could not build the email: ValueError: Invalid address; only Member <member@example.org\nBcc> could be parsed"
    )


def test_failed_reminders_show_in_the_admin_with_their_error_and_can_be_sent_again(world, session, smtp, client, clock):
    NotificationPreference.objects.create(user=world.facilitator, timezone=GONE_ZONE)
    reminders_dispatch_due(now=READING_DUE)
    failed = Reminder.objects.get(state="failed")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    listing = client.get("/admin/reminders/reminder/?state__exact=failed")
    NotificationPreference.objects.filter(user=world.facilitator).update(timezone="Europe/Berlin")  # the fix
    action = client.post(
        "/admin/reminders/reminder/", {"action": "send_again", "_selected_action": [failed.pk]}, follow=True
    )
    again = reminders_dispatch_due(now=READING_DUE + timedelta(minutes=5))

    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [failed.pk]
    assert listing.context["cl"].model_admin.error(failed) == (
        "Could not build the email: ZoneInfoNotFoundError: 'No time zone found with key …"
    )
    assert "Could not build the email: ZoneInfoNotFoundError: &#x27;No time zone found with key …" in listing.text
    assert [str(message) for message in action.context["messages"]] == ["1 failed reminder(s) queued again."]
    assert again == DispatchResult(claimed=1, sent=1)
    assert [received.to for received in smtp.received][-1] == ("facilitator@example.org",)
