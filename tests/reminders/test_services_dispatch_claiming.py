"""Which outbox rows a worker takes (`claim_due_reminders`), on rows made by `ReminderFactory`."""

from datetime import timedelta

from django.utils import timezone

from reminders.enums import ReminderState
from reminders.models import Reminder
from reminders.services.dispatch import claim_due_reminders
from tests.factories import ReminderFactory


def test_a_worker_takes_due_rows_once_and_leaves_the_rest(db):
    now = timezone.now()
    due = ReminderFactory(next_attempt_at=now - timedelta(minutes=1))
    later = ReminderFactory(next_attempt_at=now + timedelta(hours=1))
    stuck = ReminderFactory(state=ReminderState.SENDING, lease_until=now - timedelta(seconds=1))

    taken = claim_due_reminders(now=now, lease_seconds=60)

    assert sorted(taken) == sorted([due.pk, stuck.pk])
    assert claim_due_reminders(now=now, lease_seconds=60) == []  # leased: nobody else takes them
    assert Reminder.objects.get(pk=later.pk).state == ReminderState.PENDING
    assert Reminder.objects.get(pk=due.pk).attempts == 1
