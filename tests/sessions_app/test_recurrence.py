from datetime import UTC, datetime

import pytest

from sessions_app.recurrence import MAX_OCCURRENCES, RecurrenceError, expand, local_to_utc

NEW_YORK = "America/New_York"


def local_times(starts: list[datetime], tz: str) -> list[str]:
    from zoneinfo import ZoneInfo

    return [start.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z") for start in starts]


def test_expand_weekly_keeps_local_time_across_november_dst_change():
    starts = expand("FREQ=WEEKLY;COUNT=4", datetime(2026, 10, 22, 19, 0), NEW_YORK)

    assert local_times(starts, NEW_YORK) == [
        "2026-10-22 19:00 EDT",
        "2026-10-29 19:00 EDT",
        "2026-11-05 19:00 EST",
        "2026-11-12 19:00 EST",
    ]
    assert [start.strftime("%H:%M") for start in starts] == ["23:00", "23:00", "00:00", "00:00"]


def test_local_to_utc_moves_a_nonexistent_time_forward_by_the_gap():
    # 2026-03-08 02:30 does not exist in New York: clocks jump from 02:00 to 03:00.
    moved = local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK)

    assert local_times([moved], NEW_YORK) == ["2026-03-08 03:30 EDT"]


def test_local_to_utc_takes_the_first_of_an_ambiguous_time():
    # 2026-11-01 01:30 happens twice in New York; the first is still EDT.
    first = local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK)

    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_expand_daily_through_spring_gap_shifts_only_that_day():
    starts = expand("FREQ=DAILY;COUNT=3", datetime(2026, 3, 7, 2, 30), NEW_YORK)

    assert local_times(starts, NEW_YORK) == [
        "2026-03-07 02:30 EST",
        "2026-03-08 03:30 EDT",
        "2026-03-09 02:30 EDT",
    ]


def test_expand_monthly_with_until_in_utc_is_inclusive_in_local_time():
    # 2027-01-14 18:00 in Berlin is 17:00 UTC: an UNTIL of exactly that instant includes it.
    starts = expand("FREQ=MONTHLY;UNTIL=20270114T170000Z", datetime(2026, 11, 14, 18, 0), "Europe/Berlin")
    one_second_earlier = expand("FREQ=MONTHLY;UNTIL=20270114T165959Z", datetime(2026, 11, 14, 18, 0), "Europe/Berlin")

    assert local_times(starts, "Europe/Berlin") == [
        "2026-11-14 18:00 CET",
        "2026-12-14 18:00 CET",
        "2027-01-14 18:00 CET",
    ]
    assert len(one_second_earlier) == 2


def test_expand_until_as_a_date_includes_that_day():
    starts = expand("FREQ=WEEKLY;UNTIL=20261105", datetime(2026, 10, 22, 19, 0), NEW_YORK)

    assert len(starts) == 3


def test_expand_accepts_rrule_prefix_and_byday():
    starts = expand("RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", datetime(2026, 11, 3, 18, 0), "UTC")

    assert [start.strftime("%a %d") for start in starts] == ["Tue 03", "Thu 05", "Tue 10", "Thu 12"]


def test_expand_empty_rule_is_one_occurrence():
    assert expand("", datetime(2026, 11, 3, 18, 0), "UTC") == [datetime(2026, 11, 3, 18, 0, tzinfo=UTC)]


def test_expand_allows_exactly_the_maximum():
    assert len(expand(f"FREQ=DAILY;COUNT={MAX_OCCURRENCES}", datetime(2026, 1, 1, 9, 0), "UTC")) == 200


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=DAILY;COUNT=201", "more than 200 sessions"),
        ("FREQ=DAILY;UNTIL=20300101", "more than 200 sessions"),
        ("FREQ=WEEKLY", "needs COUNT or UNTIL"),
        ("FREQ=HOURLY;COUNT=3", "FREQ=HOURLY is not supported"),
        ("FREQ=YEARLY;COUNT=3", "FREQ=YEARLY is not supported"),
        ("COUNT=3", "needs a FREQ"),
        ("FREQ=WEEKLY;COUNT=three", "COUNT must be a whole number"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20261231", "not both"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=2", "“XX” is not one"),
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=2", "INTERVAL must be a whole number from 1"),
        ("FREQ=WEEKLY;WKST=ZZ;COUNT=2", "could not be read"),
        ("every tuesday", "is not a KEY=VALUE part"),
        ("FREQ=WEEKLY;UNTIL=20200101", "produces no sessions"),
        ("FREQ=DAILY;COUNT=1;BYMONTH=2;BYMONTHDAY=30", "No month in the rule has that day"),
        ("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11;COUNT=2", "No month in the rule has that day"),
        ("FREQ=MONTHLY;BYDAY=6FR;COUNT=2", "numbered weekday"),
        ("FREQ=WEEKLY;BYDAY=2TU;COUNT=2", "numbered weekday"),
        ("FREQ=WEEKLY;BYSETPOS=2;COUNT=3", "BYSETPOS is not supported"),
        ("FREQ=DAILY;BYHOUR=9,18;COUNT=2", "BYHOUR is not supported"),
        ("FREQ=MONTHLY;BYMONTH=13;COUNT=2", "BYMONTH takes months 1 to 12"),
    ],
)
def test_expand_rejects_rules_outside_our_limits(rule, message):
    with pytest.raises(RecurrenceError) as error:
        expand(rule, datetime(2026, 10, 22, 19, 0), NEW_YORK)

    assert message in str(error.value)


def test_expand_monthly_by_numbered_weekday_and_last_day():
    second_tuesdays = expand("FREQ=MONTHLY;BYDAY=2TU;COUNT=3", datetime(2026, 11, 1, 19, 0), "UTC")
    last_days = expand("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", datetime(2026, 11, 1, 19, 0), "UTC")

    assert [start.strftime("%a %d %b") for start in second_tuesdays] == ["Tue 10 Nov", "Tue 08 Dec", "Tue 12 Jan"]
    assert [start.strftime("%d %b") for start in last_days] == ["30 Nov", "31 Dec", "31 Jan"]
