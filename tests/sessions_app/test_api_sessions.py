from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from sessions_app.models import RSVP, Attendance, Series, Session

from ..factories import MembershipFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

WEEKLY_SERIES = {
    "title": "Reading Capital",
    "timezone": "America/New_York",
    "first_starts_at": "2026-10-22T19:00:00",
    "duration_minutes": 90,
    "rrule": "FREQ=WEEKLY;COUNT=4",
    "location": "Library, room 2",
}


def local(iso: str, tz: str = "America/New_York") -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z")


@time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), tick=False)
def test_weekly_series_across_november_dst_change_stays_at_19_local(world, api):
    response = api(world.organizer).post("/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id}, format="json")

    assert response.status_code == 201
    sessions = response.json()["sessions"]
    assert [local(s["starts_at"]) for s in sessions] == [
        "Thu 2026-10-22 19:00 EDT",
        "Thu 2026-10-29 19:00 EDT",
        "Thu 2026-11-05 19:00 EST",
        "Thu 2026-11-12 19:00 EST",
    ]
    assert [local(s["ends_at"]) for s in sessions][2] == "Thu 2026-11-05 20:30 EST"
    listed = api(world.member).get(f"/api/v1/sessions/?series={response.json()['id']}").json()["results"]
    assert [(s["title"], s["location"], s["timezone"]) for s in listed] == [
        ("Reading Capital", "Library, room 2", "America/New_York")
    ] * 4


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"rrule": "FREQ=DAILY;COUNT=201"}, "rrule", "more than 200 sessions"),
        ({"rrule": "FREQ=DAILY;BYDAY=NOPE;COUNT=2"}, "rrule", "“NOPE” is not one"),
        ({"rrule": "FREQ=DAILY;WKST=XX;COUNT=2"}, "rrule", "could not be read"),
        ({"rrule": "FREQ=SECONDLY;COUNT=2"}, "rrule", "not supported"),
        ({"timezone": "Eastern"}, "timezone", "not a known IANA timezone"),
        ({"first_starts_at": "2026-10-22T19:00:00-04:00"}, "first_starts_at", "carries an offset"),
        ({"first_starts_at": "next thursday"}, "first_starts_at", "is not a date and time"),
        ({"duration_minutes": 0}, "duration_minutes", "greater than or equal to 1"),
    ],
)
def test_series_bad_input_is_a_400_naming_the_field_and_writes_nothing(world, api, change, field, message):
    response = api(world.organizer).post(
        "/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id, **change}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert message in response.json()["detail"]
    assert response.json()["detail"].startswith(f"{field}: ")
    assert not Series.objects.exists()
    assert Session.objects.count() == 1


@time_machine.travel(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), tick=False)
def test_series_edit_changes_future_sessions_only(world, api):
    created = (
        api(world.organizer).post("/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id}, format="json").json()
    )

    response = api(world.organizer).patch(
        f"/api/v1/series/{created['id']}/",
        {"first_starts_at": "2026-10-22T18:30:00", "location": "Online"},
        format="json",
    )

    sessions = response.json()["sessions"]
    assert [local(s["starts_at"]) for s in sessions] == [
        "Thu 2026-10-22 19:00 EDT",  # already happened: history stays
        "Thu 2026-10-29 18:30 EDT",
        "Thu 2026-11-05 18:30 EST",
        "Thu 2026-11-12 18:30 EST",
    ]
    assert list(Session.objects.filter(series_id=created["id"]).values_list("location", flat=True)) == [
        "Library, room 2",
        "Online",
        "Online",
        "Online",
    ]


@time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), tick=False)
def test_editing_one_occurrence_changes_it_alone_and_survives_series_edits(world, api):
    created = (
        api(world.organizer).post("/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id}, format="json").json()
    )
    second = created["sessions"][1]["id"]

    moved = api(world.organizer).patch(
        f"/api/v1/sessions/{second}/",
        {"starts_at": "2026-10-30T23:00:00Z", "ends_at": "2026-10-31T00:30:00Z"},
        format="json",
    )
    api(world.organizer).patch(f"/api/v1/series/{created['id']}/", {"location": "Online"}, format="json")
    cancelled = api(world.organizer).post(f"/api/v1/sessions/{created['sessions'][2]['id']}/cancel/")

    assert moved.status_code == 200
    assert moved.json()["detached"] is True
    rows = list(Session.objects.filter(series_id=created["id"]).order_by("occurrence_index"))
    assert [local(row.starts_at.isoformat()) for row in rows] == [
        "Thu 2026-10-22 19:00 EDT",
        "Fri 2026-10-30 19:00 EDT",
        "Thu 2026-11-05 19:00 EST",
        "Thu 2026-11-12 19:00 EST",
    ]
    assert [row.location for row in rows] == ["Online", "Library, room 2", "Online", "Online"]
    assert cancelled.json()["status"] == "cancelled"
    assert [row.status for row in rows] == ["scheduled", "scheduled", "cancelled", "scheduled"]


@time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), tick=False)
def test_shortening_a_series_cancels_the_occurrences_it_no_longer_has(world, api):
    created = (
        api(world.organizer).post("/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id}, format="json").json()
    )

    response = api(world.organizer).patch(
        f"/api/v1/series/{created['id']}/", {"rrule": "FREQ=WEEKLY;COUNT=2"}, format="json"
    )

    assert [s["status"] for s in response.json()["sessions"]] == ["scheduled", "scheduled", "cancelled", "cancelled"]


def test_session_create_reads_back_in_utc(world, api):
    response = api(world.organizer).post(
        "/api/v1/sessions/",
        {
            "group": world.group.id,
            "title": "Special session",
            "starts_at": "2026-12-03T19:00:00-05:00",
            "ends_at": "2026-12-03T21:00:00-05:00",
            "timezone": "America/New_York",
            "location": "Café",
            "online_url": "https://meet.example.org/abc",
            "description": "Bring the text.",
            "status": "scheduled",
            "facilitators": [world.facilitator.id],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["starts_at"], body["ends_at"]) == ("2026-12-04T00:00:00Z", "2026-12-04T02:00:00Z")
    assert body["facilitators"] == [{"id": world.facilitator.id, "name": "Facilitator"}]
    assert body["rsvp_counts"] == {"going": 0, "maybe": 0, "declined": 0}
    assert body["my_rsvp"] is None


def test_session_timezone_defaults_to_the_group(world, api):
    response = api(world.organizer).post(
        "/api/v1/sessions/",
        {
            "group": world.group.id,
            "title": "T",
            "starts_at": "2026-12-03T19:00:00Z",
            "ends_at": "2026-12-03T20:00:00Z",
        },
        format="json",
    )

    assert response.json()["timezone"] == "America/New_York"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"starts_at": "2026-12-03T19:00:00"}, "starts_at", "has no offset"),
        ({"ends_at": "2026-12-03T18:00:00-05:00"}, "ends_at", "must end after it starts"),
        ({"ends_at": "2026-12-03T19:00:00-05:00"}, "ends_at", "must end after it starts"),
        ({"timezone": "PST"}, "timezone", "not a known IANA timezone"),
        ({"status": "cancelled"}, "status", "is not one of: draft, scheduled"),
        ({"online_url": "not a url"}, "online_url", "Enter a valid URL"),
        ({"facilitators": [999999]}, "facilitators", "Not members of this group"),
        ({"group": 999999}, "group", "No such group"),
    ],
)
def test_session_bad_input_is_a_400_and_writes_nothing(world, api, change, field, message):
    payload = {
        "group": world.group.id,
        "title": "T",
        "starts_at": "2026-12-03T19:00:00-05:00",
        "ends_at": "2026-12-03T21:00:00-05:00",
        **change,
    }

    response = api(world.organizer).post("/api/v1/sessions/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert message in response.json()["detail"]
    assert Session.objects.count() == 1


def test_session_in_another_group_is_a_400_for_create(world, api):
    response = api(world.organizer).post(
        "/api/v1/sessions/",
        {
            "group": world.other_group.id,
            "title": "T",
            "starts_at": "2026-12-03T19:00:00Z",
            "ends_at": "2026-12-03T20:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "group: No such group among yours."


def test_malformed_json_is_a_400_with_a_message(world, api):
    response = api(world.organizer).generic("POST", "/api/v1/sessions/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The request body could not be read: JSON parse error")


def test_end_before_start_on_edit_is_a_400_and_leaves_the_session(world, api):
    before = (world.session.starts_at, world.session.ends_at)

    response = api(world.organizer).patch(
        f"/api/v1/sessions/{world.session.id}/",
        {"ends_at": (world.session.starts_at - timedelta(hours=1)).isoformat()},
        format="json",
    )

    world.session.refresh_from_db()
    assert response.status_code == 400
    assert response.json()["detail"] == "ends_at: The session must end after it starts."
    assert (world.session.starts_at, world.session.ends_at) == before


def test_database_refuses_end_before_start():
    from django.db import IntegrityError

    session = SessionFactory.build()
    session.group.save()
    session.group_id = session.group.id
    session.ends_at = session.starts_at
    with pytest.raises(IntegrityError):
        session.save()


def test_sequence_rises_on_each_calendar_change(world, api):
    client = api(world.organizer)
    client.patch(f"/api/v1/sessions/{world.session.id}/", {"location": "Room 5"}, format="json")
    client.patch(f"/api/v1/sessions/{world.session.id}/", {"location": "Room 5"}, format="json")
    response = client.patch(f"/api/v1/sessions/{world.session.id}/", {"title": "Renamed"}, format="json")

    assert response.json()["sequence"] == 2


def test_rsvp_by_two_members_is_counted(world, api):
    second = UserFactory(username="second")
    MembershipFactory(group=world.group, user=second)

    mine = api(world.member).put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "going"}, format="json")
    theirs = api(second).put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "maybe"}, format="json")
    seen = api(world.member).get(f"/api/v1/sessions/{world.session.id}/").json()

    assert mine.json() == {"status": "going", "rsvp_counts": {"going": 1, "maybe": 0, "declined": 0}}
    assert theirs.json() == {"status": "maybe", "rsvp_counts": {"going": 1, "maybe": 1, "declined": 0}}
    assert (seen["my_rsvp"], seen["rsvp_counts"]) == ("going", {"going": 1, "maybe": 1, "declined": 0})


def test_rsvp_change_and_withdraw(world, api):
    client = api(world.member)
    client.put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "going"}, format="json")
    changed = client.put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "declined"}, format="json")
    withdrawn = client.delete(f"/api/v1/sessions/{world.session.id}/rsvp/")

    assert changed.json()["rsvp_counts"] == {"going": 0, "maybe": 0, "declined": 1}
    assert withdrawn.json() == {"status": None, "rsvp_counts": {"going": 0, "maybe": 0, "declined": 0}}
    assert not RSVP.objects.exists()


def test_rsvp_to_cancelled_session_is_a_400(world, api):
    api(world.organizer).post(f"/api/v1/sessions/{world.session.id}/cancel/")

    response = api(world.member).put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "going"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "status: This session is cancelled; RSVPs are closed."


def test_rsvp_with_unknown_status_is_a_400(world, api):
    response = api(world.member).put(f"/api/v1/sessions/{world.session.id}/rsvp/", {"status": "yes"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "status: “yes” is not one of: going, maybe, declined."


def test_attendance_marked_by_session_facilitator_after_start(world, api):
    world.session.starts_at = timezone.now() - timedelta(hours=2)
    world.session.ends_at = timezone.now() - timedelta(minutes=30)
    world.session.save()

    response = api(world.facilitator).put(
        f"/api/v1/sessions/{world.session.id}/attendance/", {"present": [world.member.id]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["present"] == [world.member.id]
    assert {m["user"]["name"]: m["present"] for m in response.json()["members"]} == {
        "Facilitator": False,
        "Member": True,
        "Organizer": False,
    }
    assert list(Attendance.objects.values_list("user__username", flat=True)) == ["member"]


def test_attendance_of_a_non_member_is_a_400(world, api):
    response = api(world.organizer).put(
        f"/api/v1/sessions/{world.session.id}/attendance/", {"present": [world.outsider.id]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == f"present: Not members of this group: [{world.outsider.id}]."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=cancelled", ["Cancelled one"]),
        ("starts_after=2026-12-10T00:00:00Z", ["Later one"]),
        ("starts_before=2026-12-10T00:00:00Z&status=scheduled", ["Early one"]),
    ],
)
def test_sessions_filters(world, api, query, expected):
    world.session.delete()
    SessionFactory(group=world.group, title="Early one", starts_at=datetime(2026, 12, 5, 19, tzinfo=UTC))
    SessionFactory(group=world.group, title="Later one", starts_at=datetime(2026, 12, 12, 19, tzinfo=UTC))
    SessionFactory(
        group=world.group, title="Cancelled one", status="cancelled", starts_at=datetime(2026, 11, 12, 19, tzinfo=UTC)
    )
    SessionFactory(group=world.other_group, title="Not mine", starts_at=datetime(2026, 12, 12, 19, tzinfo=UTC))

    response = api(world.member).get(f"/api/v1/sessions/?{query}")

    assert [s["title"] for s in response.json()["results"]] == expected


def test_sessions_filter_with_naive_time_is_a_400(world, api):
    response = api(world.member).get("/api/v1/sessions/?starts_after=2026-12-10T00:00:00")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["starts_after"]


def test_drafts_are_hidden_from_members(world, api):
    SessionFactory(group=world.group, title="Draft", status="draft")

    member_titles = [s["title"] for s in api(world.member).get("/api/v1/sessions/").json()["results"]]
    organizer_titles = [s["title"] for s in api(world.organizer).get("/api/v1/sessions/").json()["results"]]

    assert member_titles == ["October, week one"]
    assert sorted(organizer_titles) == ["Draft", "October, week one"]


# The page, its RSVPs, its facilitators (a GET opens no transaction: core/transactions.py).
SESSION_LIST_QUERIES = 3


def test_sessions_list_query_count_does_not_grow(world, api, django_assert_num_queries):
    client = api(world.member)
    with django_assert_num_queries(SESSION_LIST_QUERIES):
        client.get("/api/v1/sessions/")
    for _n in range(10):
        session = SessionFactory(group=world.group)
        session.facilitators.add(world.facilitator)
        RSVP.objects.create(session=session, user=world.member, status="going")
    with django_assert_num_queries(SESSION_LIST_QUERIES):
        assert client.get("/api/v1/sessions/").json()["count"] == 11


def test_session_list_reads_its_sessions_and_people_as_values_not_models(world, api):
    """A list of 40 sessions spent most of its time building model objects (and a facilitators' manager for
    each session): it reads columns now, and makes no Session, User or RSVP object at all."""
    from django.db.models.signals import post_init

    from sessions_app.models import User

    for n in range(5):
        session = SessionFactory(group=world.group, starts_at=world.session.starts_at + timedelta(days=7 * (n + 1)))
        session.facilitators.add(world.facilitator, world.organizer)
        RSVP.objects.create(session=session, user=world.member, status="maybe")
    client = api(world.member)
    made = []

    def count(sender, **kwargs):
        made.append(sender.__name__)

    for model in (Session, User, RSVP):
        post_init.connect(count, sender=model)
    try:
        body = client.get("/api/v1/sessions/").json()
    finally:
        for model in (Session, User, RSVP):
            post_init.disconnect(count, sender=model)

    assert made == []
    assert len(body["results"]) == 6
    assert body["results"][1]["facilitators"] == sorted(
        [
            {"id": world.facilitator.pk, "name": world.facilitator.name},
            {"id": world.organizer.pk, "name": world.organizer.name},
        ],
        key=lambda person: person["id"],
    )
    assert (body["results"][1]["my_rsvp"], body["results"][1]["rsvp_counts"]) == (
        "maybe",
        {"going": 0, "maybe": 1, "declined": 0},
    )


def test_series_does_not_show_draft_occurrences_to_members(world, api):
    from sessions_app.services.schedule import series_create, session_update

    series = series_create(
        group=world.group,
        title="Course",
        timezone="UTC",
        first_starts_at=datetime(2031, 1, 7, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    draft = series.sessions.order_by("occurrence_index")[2]
    session_update(session=draft, status="draft")

    member_ids = [s["id"] for s in api(world.member).get(f"/api/v1/series/{series.pk}/").json()["sessions"]]
    organizer_ids = [s["id"] for s in api(world.organizer).get(f"/api/v1/series/{series.pk}/").json()["sessions"]]

    assert draft.pk not in member_ids
    assert len(member_ids) == 2
    assert draft.pk in organizer_ids


@time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), tick=False)
def test_shortening_then_lengthening_a_series_brings_its_sessions_back(world, api):
    created = (
        api(world.organizer).post("/api/v1/series/", {**WEEKLY_SERIES, "group": world.group.id}, format="json").json()
    )
    url = f"/api/v1/series/{created['id']}/"

    api(world.organizer).patch(url, {"rrule": "FREQ=WEEKLY;COUNT=2"}, format="json")
    again = api(world.organizer).patch(url, {"rrule": "FREQ=WEEKLY;COUNT=4"}, format="json")

    assert [s["status"] for s in again.json()["sessions"]] == ["scheduled"] * 4
    assert [s["detached"] for s in again.json()["sessions"]] == [False] * 4


def test_session_list_answers_what_its_declared_fields_answer(world, api):
    """The list writes each session directly (sessions_app.api.serializers): the same JSON as DRF's fields give."""
    from rest_framework import serializers as drf

    from sessions_app.api.serializers import SessionSerializer
    from sessions_app.selectors import sessions_for_api
    from sessions_app.services.schedule import series_create

    series = series_create(
        group=world.group,
        title="Course",
        timezone="UTC",
        first_starts_at=datetime(2031, 1, 7, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=2",
        location="Library, room 2",
    )
    detailed = series.sessions.first()
    Session.objects.filter(pk=detailed.pk).update(
        description="Bring **questions**.", online_url="https://meet.example.org/x", reading_lead_minutes=90
    )
    detailed.facilitators.add(world.facilitator, world.organizer)
    RSVP.objects.create(session=detailed, user=world.member, status="going")
    RSVP.objects.create(session=detailed, user=world.organizer, status="declined")

    answered = api(world.member).get("/api/v1/sessions/").json()["results"]

    sessions = list(sessions_for_api(world.member))
    declared = [drf.ModelSerializer.to_representation(SessionSerializer(), session) for session in sessions]
    assert answered == declared
    assert len(answered) == 3
    assert sorted(person["id"] for person in answered[1]["facilitators"]) == sorted(
        [world.organizer.id, world.facilitator.id]
    )
    assert answered[1]["my_rsvp"] == "going"
    assert answered[1]["rsvp_counts"] == {"going": 1, "maybe": 0, "declined": 1}
    assert answered[1]["pack_urls"]["pdf"] == f"{settings.SITE_URL}/api/v1/sessions/{detailed.pk}/pack/?format=pdf"
    assert answered[1]["pack_urls"]["ics"] == f"{settings.SITE_URL}/api/v1/sessions/{detailed.pk}/calendar.ics"


def test_session_list_without_a_filter_answers_as_a_filtered_list_of_the_same_sessions(world, api):
    """A list with no filter reads its first page with SQL compiled once per process; a filtered one (and any
    other page) through the ORM: the same sessions, drafts and answers either way."""
    for n in range(1, 5):
        session = SessionFactory(
            group=world.group,
            title=f"Week {n}",
            starts_at=world.session.starts_at + timedelta(days=7 * n),
            status="draft" if n == 2 else "scheduled",
        )
        session.facilitators.add(*[world.facilitator, world.organizer][: n % 3])
        RSVP.objects.create(session=session, user=world.member, status=("going", "maybe", "declined")[n % 3])
        RSVP.objects.create(session=session, user=world.organizer, status="going")
    SessionFactory(group=world.other_group, title="Not theirs")
    everything = "starts_after=2000-01-01T00:00:00Z"

    for person, expected in ((world.member, 4), (world.organizer, 5)):
        client = api(person)
        compiled = client.get("/api/v1/sessions/").json()
        assert compiled == client.get(f"/api/v1/sessions/?{everything}").json()
        assert len(compiled["results"]) == compiled["count"] == expected
        first = client.get("/api/v1/sessions/?page_size=2").json()
        second = client.get(first["next"]).json()
        assert first["results"] + second["results"] == compiled["results"][:4]
        assert client.get(f"/api/v1/sessions/?page_size=2&{everything}").json()["results"] == first["results"]


def test_session_list_compiles_no_sql_once_its_queries_are_compiled(world, api):
    """The page, its RSVPs and its facilitators run SQL compiled once per process (`core.compiled`): the ORM
    compiled three querysets on every list (about a third of its CPU)."""
    from django.db.models.sql.compiler import SQLCompiler

    SessionFactory(group=world.group, starts_at=world.session.starts_at + timedelta(days=7))
    RSVP.objects.create(session=world.session, user=world.member, status="going")
    client = api(world.member)
    assert client.get("/api/v1/sessions/").status_code == 200
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model.__name__)
        return as_sql(self, *args, **kwargs)

    SQLCompiler.as_sql = counting
    try:
        body = client.get("/api/v1/sessions/").json()
    finally:
        SQLCompiler.as_sql = as_sql

    assert compiled == []
    assert [session["my_rsvp"] for session in body["results"]] == ["going", None]
    assert body["results"][0]["facilitators"] == [{"id": world.facilitator.pk, "name": world.facilitator.name}]


def test_rsvp_costs_the_same_queries_for_a_larger_session(world, api, django_assert_num_queries):
    from sessions_app.services.schedule import rsvp_set

    client = api(world.member)
    assert client.put(f"/api/v1/sessions/{world.session.pk}/rsvp/", {"status": "maybe"}).status_code == 200
    with django_assert_num_queries(RSVP_QUERIES):
        assert client.put(f"/api/v1/sessions/{world.session.pk}/rsvp/", {"status": "going"}).status_code == 200

    for n in range(12):
        person = UserFactory(username=f"reader{n}")
        MembershipFactory(group=world.group, user=person)
        world.session.facilitators.add(person)
        rsvp_set(session=world.session, user=person, status="going")
    with django_assert_num_queries(RSVP_QUERIES):
        response = client.put(f"/api/v1/sessions/{world.session.pk}/rsvp/", {"status": "maybe"})

    assert response.json() == {"status": "maybe", "rsvp_counts": {"going": 12, "maybe": 1, "declined": 0}}


# The session, the membership check, the RSVP read and write, re-planning this member's reminders (4: with the
# session's facilitators, for the brief), the counts, and 8 SAVEPOINT/RELEASE of the request's and the services'
# transactions (nested in the test's).
RSVP_QUERIES = 17


def test_session_list_counts_its_sessions_without_reading_every_rsvp(world, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        person = UserFactory(username=f"reader{n}")
        MembershipFactory(group=world.group, user=person)
        RSVP.objects.create(session=world.session, user=person, status=("going", "maybe", "going")[n])

    SessionFactory(group=world.group, starts_at=world.session.starts_at + timedelta(days=7))

    # Two sessions, one a page: the list is counted (a first page that holds them all is not, below).
    with CaptureQueriesContext(connection) as queries:
        body = api(world.member).get("/api/v1/sessions/?page_size=1").json()

    [count] = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert "sessions_app_rsvp" not in count
    assert body["count"] == 2
    assert body["results"][0]["rsvp_counts"] == {"going": 2, "maybe": 1, "declined": 0}


def test_a_list_that_fits_on_its_first_page_is_counted_without_a_count_query(world, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(1, 4):
        SessionFactory(group=world.group, title=f"Week {n}", starts_at=world.session.starts_at + timedelta(days=7 * n))
    client = api(world.member)

    with CaptureQueriesContext(connection) as queries:
        whole = client.get("/api/v1/sessions/").json()
    assert not [query for query in queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert (whole["count"], whole["next"], whole["previous"], len(whole["results"])) == (4, None, None, 4)

    exact = client.get("/api/v1/sessions/?page_size=4").json()
    assert (exact["count"], exact["next"], exact["results"]) == (4, None, whole["results"])

    first = client.get("/api/v1/sessions/?page_size=3").json()
    assert (first["count"], first["results"]) == (4, whole["results"][:3])
    assert first["next"].endswith("/api/v1/sessions/?page=2&page_size=3")
    second = client.get(first["next"]).json()
    assert (second["count"], second["next"], second["results"]) == (4, None, whole["results"][3:])
    assert client.get("/api/v1/sessions/?page=3&page_size=3").status_code == 404

    nothing = client.get("/api/v1/sessions/?status=cancelled").json()
    assert (nothing["count"], nothing["next"], nothing["results"]) == (0, None, [])


@pytest.fixture
def started(world):
    """The world's session began two hours ago, so attendance can be marked."""
    world.session.starts_at = timezone.now() - timedelta(hours=2)
    world.session.ends_at = timezone.now() - timedelta(minutes=30)
    world.session.save()


@pytest.mark.parametrize("bad", [" 5", "+5", "5.0", "1_0", "٥", 5.0, 5.5, True, -5, 0, "", [5]])
def test_attendance_refuses_an_id_not_written_as_one_and_marks_nobody(world, api, started, bad):
    url = f"/api/v1/sessions/{world.session.id}/attendance/"

    response = api(world.organizer).put(url, {"present": [world.member.id, bad]}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == f"present.1: “{bad}” is not an id: give each one as a whole number, such as 5."
    assert list(Attendance.objects.filter(session=world.session)) == []


def test_attendance_takes_an_id_as_a_string_of_digits(world, api, started):
    response = api(world.organizer).put(
        f"/api/v1/sessions/{world.session.id}/attendance/", {"present": [str(world.member.id)]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["present"] == [world.member.id]
