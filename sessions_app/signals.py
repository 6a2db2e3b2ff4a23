"""Events that higher apps (reminders) act on.

Services send these inside their transaction, so a receiver's writes commit
or roll back with the change. They keep the dependency one way: this app
never imports the apps built on it. Receivers call services; they hold no
rules of their own.
"""

from django.dispatch import Signal

# session, created (bool), previous_starts_at (datetime | None, set when the time moved)
session_saved = Signal()
# session, previous_status (str: a draft was never announced, so nobody is told it is cancelled)
session_cancelled = Signal()
# session, user, status (str | None)
rsvp_changed = Signal()
# group, user, started (bool)
membership_changed = Signal()
# group: its reminder defaults changed
group_reminders_changed = Signal()
# user, changed (set of field names, e.g. {"email"})
profile_changed = Signal()
# session, marked_by (User): attendance was marked (or changed) by a facilitator
attendance_marked = Signal()
