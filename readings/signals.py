"""Events that higher apps (reminders) act on; sent by the note services inside their transaction.

Like sessions_app's signals: they keep the dependency one way, and their
receivers only call services.
"""

from django.dispatch import Signal

# note, created (bool), mentioned (list of user ids whose mention of them is new and reaches them)
note_written = Signal()
