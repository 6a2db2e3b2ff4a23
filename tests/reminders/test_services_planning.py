"""Planning: the outbox follows sessions, RSVPs, memberships and preferences, inside their transactions."""

from datetime import timedelta

import pytest

from readings.models import DiscussionQuestion
from reminders.models import Reminder
from reminders.selectors import cancellation_recipients
from reminders.services.dispatch import reminders_dispatch_due
from reminders.services.planning import PlanResult, reminders_plan_for_session
from reminders.services.preferences import preference_update
from sessions_app.enums import SessionStatus
from sessions_app.models import Membership
from sessions_app.services.groups import group_update, membership_add, membership_end
from sessions_app.services.schedule import rsvp_set, session_cancel, session_create, session_update

from ..factories import GroupFactory, MembershipFactory, SessionFactory
from .conftest import NOW, READING_DUE, STARTING_DUE, STARTS, outbox

pytestmark = pytest.mark.django_db

PEOPLE = ("organizer", "facilitator", "member")


def planned(people=PEOPLE, *, reading=READING_DUE, starting=STARTING_DUE, state="pending") -> set[tuple]:
    return {(name, "reading", reading, state) for name in people} | {
        (name, "starting", starting, state) for name in people
    }


def test_session_create_plans_reading_and_starting_reminders_for_every_member(world, session):
    assert outbox() == planned()
    assert set(Reminder.objects.values_list("for_starts_at", "attempts", "next_attempt_at")) == {
        (STARTS, 0, READING_DUE),
        (STARTS, 0, STARTING_DUE),
        (STARTS, 0, STARTS - timedelta(hours=24)),  # the organizer's brief (the session lists no facilitator)
    }


def test_planning_again_changes_nothing(world, session):
    assert reminders_plan_for_session(session=session) == PlanResult()
    assert outbox() == planned()


def test_declined_member_gets_no_reminders_until_answering_again(world, session):
    rsvp_set(session=session, user=world.member, status="declined")
    declined = outbox(recipient=world.member)
    rsvp_set(session=session, user=world.member, status="maybe")

    assert declined == set()
    assert outbox(recipient=world.member) == planned(["member"])


def test_personal_reading_lead_beats_session_and_group_defaults(world, session):
    session_update(session=session, reading_lead_minutes=24 * 60, starting_lead_minutes=30)
    preference_update(user=world.member, reading_lead_minutes=5 * 24 * 60)

    assert outbox() == planned(
        ["organizer", "facilitator"], reading=STARTS - timedelta(days=1), starting=STARTS - timedelta(minutes=30)
    ) | {
        ("member", "reading", STARTS - timedelta(days=5), "pending"),
        ("member", "starting", STARTS - timedelta(minutes=30), "pending"),
    }


def test_group_reminder_defaults_replan_its_upcoming_sessions(world, session):
    group_update(group=world.group, reading_lead_minutes=2 * 24 * 60, starting_lead_minutes=60)

    assert outbox() == planned(reading=STARTS - timedelta(days=2), starting=STARTS - timedelta(hours=1))


def test_switching_a_kind_off_drops_its_pending_reminders(world, session):
    preference_update(user=world.member, email_starting=False)

    assert outbox(recipient=world.member) == {("member", "reading", READING_DUE, "pending")}


def test_leaving_drops_pending_reminders_and_joining_plans_them(world, session):
    membership_end(membership=Membership.objects.get(group=world.group, user=world.member), leaving=True)
    membership_add(group=world.group, user=world.outsider)

    assert outbox(recipient=world.member) == set()
    assert outbox(recipient=world.outsider) == planned(["outsider"])


def test_draft_session_has_no_reminders_until_scheduled(world, clock):
    draft = session_create(
        group=world.group, title="Draft", starts_at=STARTS, ends_at=STARTS + timedelta(hours=1), status="draft"
    )
    before = outbox(session=draft)
    session_update(session=draft, status=SessionStatus.SCHEDULED)

    assert before == set()
    assert outbox(session=draft) == planned()


def test_reschedule_moves_pending_reminders_to_the_new_time(world, session):
    later = STARTS + timedelta(days=1)
    ids = set(Reminder.objects.values_list("pk", flat=True))

    session_update(session=session, starts_at=later, ends_at=later + timedelta(minutes=90))

    assert outbox() == planned(reading=later - timedelta(days=3), starting=later - timedelta(hours=2))
    assert set(Reminder.objects.values_list("pk", flat=True)) == ids  # moved, not replaced
    assert set(Reminder.objects.values_list("for_starts_at", flat=True)) == {later}


def test_reschedule_tells_those_already_reminded_with_a_changed_notice(world, session, clock):
    clock.move_to(READING_DUE, tick=False)
    reminders_dispatch_due(now=READING_DUE)
    rsvp_set(session=session, user=world.facilitator, status="declined")
    later = STARTS + timedelta(days=1)

    session_update(session=session, starts_at=later, ends_at=later + timedelta(minutes=90))

    assert outbox(for_starts_at=later) == {
        ("organizer", "changed", READING_DUE, "pending"),
        ("member", "changed", READING_DUE, "pending"),
        ("organizer", "reading", later - timedelta(days=3), "pending"),
        ("member", "reading", later - timedelta(days=3), "pending"),
        ("organizer", "starting", later - timedelta(hours=2), "pending"),
        ("member", "starting", later - timedelta(hours=2), "pending"),
    }
    assert set(Reminder.objects.filter(kind="changed").values_list("previous_starts_at", flat=True)) == {STARTS}
    assert outbox(for_starts_at=STARTS) == {(name, "reading", READING_DUE, "sent") for name in PEOPLE}


def test_reschedule_does_not_repeat_a_reminder_that_would_be_due_at_once(world, session, clock):
    clock.move_to(STARTING_DUE, tick=False)
    reminders_dispatch_due(now=STARTING_DUE)  # the reading reminder (late) and the starting one go out
    later = STARTS + timedelta(minutes=30)

    session_update(session=session, starts_at=later, ends_at=later + timedelta(minutes=90))

    # The new reading reminder would be due at once: the changed notice says it instead.
    assert outbox(for_starts_at=later) == {(name, "changed", STARTING_DUE, "pending") for name in PEOPLE} | {
        (name, "starting", later - timedelta(hours=2), "pending") for name in PEOPLE
    }


def test_moving_back_and_forth_keeps_one_row_per_person_kind_and_start(world, session):
    later = STARTS + timedelta(days=1)
    session_update(session=session, starts_at=later, ends_at=later + timedelta(minutes=90))
    session_update(session=session, starts_at=STARTS, ends_at=STARTS + timedelta(minutes=90))

    assert outbox() == planned()
    assert Reminder.objects.count() == 7  # and the organizer's brief


def test_cancel_drops_pending_reminders_and_tells_members_who_have_not_declined(world, session):
    rsvp_set(session=session, user=world.member, status="declined")
    preference_update(user=world.facilitator, email_cancelled=False)
    recipients = list(cancellation_recipients(session))

    session_cancel(session=session)

    assert recipients == [world.organizer]
    assert outbox() == {("organizer", "cancelled", NOW, "pending")}
    assert list(Reminder.objects.values_list("for_starts_at", flat=True)) == [STARTS]


def test_cancellation_recipients_of_a_draft_or_started_session_are_nobody(world, session, clock):
    draft = SessionFactory(group=world.group, status=SessionStatus.DRAFT, starts_at=STARTS)
    clock.move_to(STARTS, tick=False)

    assert list(cancellation_recipients(draft)) == []
    assert list(cancellation_recipients(session)) == []


def test_reinstating_a_cancelled_session_plans_again_and_drops_unsent_notices(world, session):
    session_cancel(session=session)
    session_update(session=session, status=SessionStatus.SCHEDULED)

    assert outbox() == planned()


def test_reinstating_after_the_cancellation_went_out_sends_a_back_on_notice(world, session):
    session_cancel(session=session)
    reminders_dispatch_due(now=NOW)
    session_update(session=session, status=SessionStatus.SCHEDULED)

    assert outbox(kind="changed") == {(name, "changed", NOW, "pending") for name in PEOPLE}
    assert outbox(kind__in=["reading", "starting"]) == planned()


@pytest.mark.parametrize("members", [5, 30])
def test_planning_a_session_takes_the_same_queries_for_any_group_size(members, clock, django_assert_num_queries):
    group = GroupFactory()
    MembershipFactory.create_batch(members, group=group)
    session = SessionFactory(group=group, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))

    with django_assert_num_queries(7):  # one of them reads the session's facilitators (the brief)
        result = reminders_plan_for_session(session=session)

    assert result == PlanResult(created=2 * members)


@pytest.mark.parametrize("members", [5, 30])
def test_rescheduling_a_session_takes_the_same_queries_for_any_group_size(members, clock, django_assert_num_queries):
    group = GroupFactory()
    MembershipFactory.create_batch(members, group=group)
    session = SessionFactory(group=group, starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    DiscussionQuestion.objects.create(session=session, prompt="Why?")
    reminders_plan_for_session(session=session)
    reminders_dispatch_due(now=READING_DUE)
    previous, session.starts_at = session.starts_at, STARTS + timedelta(days=1)
    session.ends_at = session.starts_at + timedelta(hours=1)
    session.save()

    with django_assert_num_queries(11):  # one of them reads the session's facilitators (the brief)
        result = reminders_plan_for_session(session=session, previous_starts_at=previous)

    assert result == PlanResult(created=members, moved=members, notices=members)
