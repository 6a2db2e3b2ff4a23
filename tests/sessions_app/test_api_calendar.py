from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from rest_framework.test import APIClient

from sessions_app.models import Session, StudyGroup, User

from ..factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def evening(world):
    """19:00 in New York on a November evening (after the DST change)."""
    world.session.starts_at = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    world.session.ends_at = world.session.starts_at + timedelta(minutes=90)
    world.session.location = "Library, room 2"
    world.session.save()
    return world.session


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def test_session_ics_is_a_publishable_event_at_local_time_with_timezone_and_alarm(world, api, evening):
    response = api(world.member).get(f"/api/v1/sessions/{evening.id}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="october-week-one-2026-12-02.ics"'
    calendar = parse(response.content)
    [event] = calendar.walk("VEVENT")
    [zone] = calendar.walk("VTIMEZONE")
    [alarm] = event.walk("VALARM")
    assert calendar["METHOD"] == "PUBLISH"
    assert str(event["UID"]) == f"session-{evening.id}@127.0.0.1"
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M %Z") == "2026-12-02 19:00 EST"
    assert str(zone["TZID"]) == "America/New_York"
    assert str(event["LOCATION"]) == "Library, room 2"
    assert event["STATUS"] == "CONFIRMED"
    assert alarm.decoded("TRIGGER") == timedelta(hours=-2)


def test_session_ics_alarm_follows_the_session_override(world, api, evening):
    api(world.organizer).patch(f"/api/v1/sessions/{evening.id}/", {"starting_lead_minutes": 30}, format="json")

    calendar = parse(api(world.member).get(f"/api/v1/sessions/{evening.id}/calendar.ics").content)

    [alarm] = calendar.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)


def test_session_ics_sequence_rises_and_uid_stays_on_change(world, api, evening):
    first = parse(api(world.member).get(f"/api/v1/sessions/{evening.id}/calendar.ics").content).walk("VEVENT")[0]
    api(world.organizer).patch(
        f"/api/v1/sessions/{evening.id}/",
        {"starts_at": "2026-12-03T23:30:00Z", "ends_at": "2026-12-04T01:00:00Z"},
        format="json",
    )
    second = parse(api(world.member).get(f"/api/v1/sessions/{evening.id}/calendar.ics").content).walk("VEVENT")[0]

    assert first["UID"] == second["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert second.decoded("DTSTART").strftime("%H:%M") == "18:30"


def test_session_ics_is_a_404_outside_the_group(world, api, evening):
    assert api(world.outsider).get(f"/api/v1/sessions/{evening.id}/calendar.ics").status_code == 404
    assert api(None).get(f"/api/v1/sessions/{evening.id}/calendar.ics").status_code == 401


def test_session_ics_errors_are_json_like_every_api_error(world, api, evening):
    missing = api(world.outsider).get(f"/api/v1/sessions/{evening.id}/calendar.ics")
    anonymous = api(None).get(f"/api/v1/sessions/{evening.id}/calendar.ics")

    assert (missing["Content-Type"], missing.json()) == ("application/json", {"detail": "No such session."})
    assert (anonymous["Content-Type"], anonymous.json()) == (
        "application/json",
        {"detail": "Authentication credentials were not provided."},
    )


def test_calendar_feed_lists_my_groups_sessions_without_login(world, api, evening):
    SessionFactory(group=world.group, title="Cancelled one", status="cancelled")
    SessionFactory(group=world.group, title="Draft one", status="draft")
    SessionFactory(group=world.other_group, title="Not mine")

    feed = api(world.member).get("/api/v1/me/calendar-feed/").json()
    response = APIClient().get(feed["url"].removeprefix("http://127.0.0.1:8000"))

    assert feed["webcal_url"].startswith("webcal://127.0.0.1:8000/calendar/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.content)
    events = {str(e["SUMMARY"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}
    assert events == {
        "October, week one · Tuesday Readers": "CONFIRMED",
        "Cancelled one · Tuesday Readers": "CANCELLED",
    }
    assert str(calendar["X-WR-CALNAME"]) == "Studycircle: Member"
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT1H"


def test_calendar_feed_rotation_revokes_the_old_address(world, api):
    old = api(world.member).get("/api/v1/me/calendar-feed/").json()["url"]
    new = api(world.member).post("/api/v1/me/calendar-feed/").json()["url"]

    assert old != new
    assert APIClient().get(old.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert APIClient().get(new.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_calendar_feed_of_a_deactivated_account_is_a_404(world, api):
    """An account an administrator switched off keeps no way in: its feed address shows its groups no more."""
    path = api(world.member).get("/api/v1/me/calendar-feed/").json()["url"].removeprefix("http://127.0.0.1:8000")
    world.member.is_active = False
    world.member.save(update_fields=["is_active"])

    response = APIClient().get(path)

    assert response.status_code == 404
    assert b"VCALENDAR" not in response.content
    world.member.is_active = True
    world.member.save(update_fields=["is_active"])
    assert APIClient().get(path).status_code == 200  # switched on again, the same address works


def test_calendar_feed_query_count_does_not_grow(world, api, client, django_assert_num_queries):
    path = api(world.member).get("/api/v1/me/calendar-feed/").json()["url"].removeprefix("http://127.0.0.1:8000")
    # A GET opens no transaction (core/transactions.py): no SAVEPOINT and RELEASE.
    with django_assert_num_queries(2):
        client.get(path)
    for _ in range(10):
        SessionFactory(group=world.group)
    with django_assert_num_queries(2):
        assert len(parse(client.get(path).content).walk("VEVENT")) == 11


def test_session_ics_of_a_row_stored_with_line_breaks_is_still_one_line_per_property(world, api):
    """Rows written before single-line fields refused control characters must not break the file (a 500 once)."""
    Session.objects.filter(pk=world.session.pk).update(title="October,\r\nweek one", location="Library\n\troom 2")
    StudyGroup.objects.filter(pk=world.group.pk).update(name="Tuesday\u2028Readers")

    response = api(world.member).get(f"/api/v1/sessions/{world.session.pk}/calendar.ics")

    assert response.status_code == 200
    calendar = parse(response.content)
    [event] = calendar.walk("VEVENT")
    [alarm] = event.walk("VALARM")
    assert str(calendar["X-WR-CALNAME"]) == "October, week one · Tuesday Readers"
    assert str(event["SUMMARY"]) == "October, week one · Tuesday Readers"
    assert str(event["LOCATION"]) == "Library room 2"
    assert str(alarm["DESCRIPTION"]) == "October, week one starts soon"


def test_calendar_feed_of_a_person_whose_name_has_a_line_break_still_opens(world, api):
    User.objects.filter(pk=world.member.pk).update(display_name="Member\nof Tuesday")

    feed = api(world.member).get("/api/v1/me/calendar-feed/").json()
    response = APIClient().get(feed["url"].removeprefix("http://127.0.0.1:8000"))

    assert response.status_code == 200
    assert str(parse(response.content)["X-WR-CALNAME"]) == "Studycircle: Member of Tuesday"
