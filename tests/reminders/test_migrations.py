"""Data migrations of reminders, run forward (and back) on rows written under the schema before them."""

import pytest

from reminders.models import NotificationPreference
from tests.factories import UserFactory
from tests.migrating import migrate

BEFORE_MINUTES = ("reminders", "0007_brief_preference")


@pytest.mark.django_db(transaction=True)
def test_personal_reading_lead_in_days_becomes_minutes_and_back():
    five, blank = UserFactory(username="five"), UserFactory(username="blank")
    old = migrate(BEFORE_MINUTES).get_model("reminders", "NotificationPreference")
    try:
        old.objects.create(user_id=five.pk, reading_lead_days=5)
        old.objects.create(user_id=blank.pk, reading_lead_days=None)
    finally:
        migrate(None)

    leads = dict(NotificationPreference.objects.values_list("user__username", "reading_lead_minutes"))
    assert leads == {"five": 5 * 24 * 60, "blank": None}

    # Back: whole days again (a lead of 36 hours rounds to 2 days; the old bounds are 1 to 7).
    NotificationPreference.objects.filter(user=blank).update(reading_lead_minutes=36 * 60)
    try:
        old = migrate(BEFORE_MINUTES).get_model("reminders", "NotificationPreference")
        assert dict(old.objects.values_list("user__username", "reading_lead_days")) == {"five": 5, "blank": 2}
    finally:
        migrate(None)
