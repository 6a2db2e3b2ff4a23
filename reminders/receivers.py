"""Wiring from sessions_app's signals to the planning services. No rules live here."""

from django.utils import timezone

from readings.signals import note_written
from sessions_app.enums import SessionStatus
from sessions_app.signals import (
    attendance_marked,
    group_reminders_changed,
    membership_changed,
    profile_changed,
    rsvp_changed,
    session_cancelled,
    session_saved,
)

from .services.notifications import notifications_plan_for_note
from .services.planning import (
    reminders_plan_for_cancellation,
    reminders_plan_for_group,
    reminders_plan_for_session,
    reminders_plan_for_user,
)
from .services.summaries import summaries_plan_for_session


def on_session_saved(sender, *, session, previous_starts_at=None, **kwargs) -> None:
    reminders_plan_for_session(session=session, previous_starts_at=previous_starts_at)


def on_session_cancelled(sender, *, session, previous_status=None, **kwargs) -> None:
    reminders_plan_for_cancellation(session=session, notify=previous_status != SessionStatus.DRAFT)


def on_profile_changed(sender, *, user, changed, **kwargs) -> None:
    if "email" in changed:  # reminders go only to people with an address
        reminders_plan_for_user(user=user)


def on_rsvp_changed(sender, *, session, user, **kwargs) -> None:
    reminders_plan_for_user(user=user, sessions=[session])


def on_membership_changed(sender, *, group, user, **kwargs) -> None:
    reminders_plan_for_user(user=user, group=group)


def on_group_reminders_changed(sender, *, group, **kwargs) -> None:
    reminders_plan_for_group(group=group)


def on_attendance_marked(sender, *, session, **kwargs) -> None:
    summaries_plan_for_session(session=session, now=timezone.now())


def on_note_written(sender, *, note, created, mentioned=(), **kwargs) -> None:
    notifications_plan_for_note(note=note, created=created, mentioned=mentioned)


def connect() -> None:
    session_saved.connect(on_session_saved, dispatch_uid="reminders.session_saved")
    session_cancelled.connect(on_session_cancelled, dispatch_uid="reminders.session_cancelled")
    rsvp_changed.connect(on_rsvp_changed, dispatch_uid="reminders.rsvp_changed")
    membership_changed.connect(on_membership_changed, dispatch_uid="reminders.membership_changed")
    group_reminders_changed.connect(on_group_reminders_changed, dispatch_uid="reminders.group_reminders_changed")
    profile_changed.connect(on_profile_changed, dispatch_uid="reminders.profile_changed")
    attendance_marked.connect(on_attendance_marked, dispatch_uid="reminders.attendance_marked")
    note_written.connect(on_note_written, dispatch_uid="reminders.note_written")
