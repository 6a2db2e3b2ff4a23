"""The embedded default of `make run`: a SQLite file, kombu's filesystem broker, beat inside the one worker.

No Redis, no PostgreSQL, no SMTP server: the worker writes the email with
Django's file backend while this process keeps writing to the same SQLite
file, as the web process would. Proves the pieces `bin/run` starts work
together without "database is locked".
"""

import email
import email.policy
import os
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import environ
import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils import timezone

from reminders.emails import local_time, message_id
from reminders.models import NotificationPreference, Reminder
from reminders.services.planning import session_email
from sessions_app.models import RSVP, Membership, Session, StudyGroup, User

from .realparts import ROOT, Worker, wait_for

pytestmark = pytest.mark.worker

ALIAS = "embedded"
# kombu's filesystem transport options that base.py points at var/ (bin/run creates those folders).
BROKER_FOLDERS = {
    "data_folder_in": "broker",
    "data_folder_out": "broker",
    "processed_folder": "broker-processed",
    "control_folder": "broker-control",
}
# What base.py gives a SQLite DATABASE_URL: WAL, IMMEDIATE transactions, a 20 s busy timeout.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


@contextmanager
def sqlite_file_database(path, django_db_blocker):
    """A second database alias on a SQLite file, set up like the embedded default's, migrated."""
    config = environ.Env.db_url_config(f"sqlite:///{path}")
    config["OPTIONS"] = dict(SQLITE_OPTIONS)
    filled = connections.configure_settings({DEFAULT_DB_ALIAS: {"ENGINE": "django.db.backends.dummy"}, ALIAS: config})
    connections.settings[ALIAS] = filled[ALIAS]
    with django_db_blocker.unblock():
        try:
            call_command("migrate", database=ALIAS, verbosity=0)
            yield
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]


def emails_in(folder) -> list[email.message.EmailMessage]:
    """Every message the file backend wrote (one file per connection, messages separated by a dashed line)."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(), policy=email.policy.default))
    return messages


def test_make_run_worker_with_embedded_beat_sends_a_due_reminder_to_the_file_backend(tmp_path, django_db_blocker):
    database, mail_folder = tmp_path / "studycircle.sqlite3", tmp_path / "mail"
    # `make run`'s settings, with the broker's folders moved out of var/: a `make run` going on
    # beside the tests must not take this worker's ticks (nor this test its).
    (tmp_path / "embedded_settings.py").write_text(
        "from config.settings.local import *  # noqa: F403\n"
        "CELERY_BROKER_TRANSPORT_OPTIONS = {\n"
        + "".join(f"    {key!r}: {str(tmp_path / folder)!r},\n" for key, folder in BROKER_FOLDERS.items())
        + "    'store_processed': False,\n}\n"
    )
    for folder in BROKER_FOLDERS.values():
        (tmp_path / folder).mkdir(exist_ok=True)
    with sqlite_file_database(database, django_db_blocker):
        reader = User.objects.db_manager(ALIAS).create_user(
            "reader", "reader@example.org", "unused password", display_name="Reading Rosa"
        )
        NotificationPreference.objects.using(ALIAS).create(user=reader, timezone="Europe/Paris")
        group = StudyGroup.objects.using(ALIAS).create(
            name="Embedded circle", slug="embedded", timezone="Europe/London"
        )
        Membership.objects.using(ALIAS).create(user=reader, group=group)
        starts = timezone.now().replace(microsecond=0) + timedelta(minutes=30)
        session = Session.objects.using(ALIAS).create(
            group=group,
            title="Embedded default",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            timezone="Europe/London",
        )
        reminder = session_email(
            session_id=session.pk, recipient_id=reader.pk, kind="starting", starts_at=starts, due_at=timezone.now()
        )
        reminder.save(using=ALIAS)
        worker = Worker(
            "embedded",
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "embedded_settings",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")])),
                "DATABASE_URL": f"sqlite:///{database}",
                "REDIS_URL": "",
                "CELERY_BROKER_URL": "",
                "EMAIL_URL": f"filemail:///{mail_folder}",
                "REMINDER_DISPATCH_INTERVAL_SECONDS": "1",
                "PYTHONUNBUFFERED": "1",
            },
            log=tmp_path / "worker.log",
            beat=True,
        )
        writes, failures = 0, []

        def keep_writing() -> None:
            """What the web process does meanwhile: short IMMEDIATE transactions on the same file."""
            nonlocal writes
            try:
                with transaction.atomic(using=ALIAS):
                    Session.objects.using(ALIAS).filter(pk=session.pk).update(description=f"edit {writes}")
                    RSVP.objects.using(ALIAS).update_or_create(
                        session=session, user=reader, defaults={"status": ("going", "maybe")[writes % 2]}
                    )
                    NotificationPreference.objects.using(ALIAS).filter(user=reader).update(email_changed=True)
                writes += 1
            except OperationalError as error:
                failures.append(str(error))

        try:
            worker.start()
            worker.wait_ready()
            sent = wait_for(
                lambda: (
                    keep_writing() or [m for m in emails_in(mail_folder) if m["Message-ID"] == message_id(reminder)]
                ),
                timeout=60,
                every=0.02,
                what="the starting reminder in the file backend's folder",
            )
            # Keep writing across a few more of beat's ticks: each pass opens its claim transaction.
            wait_for(
                lambda: keep_writing() or worker.output().count("succeeded in") >= 3,
                timeout=30,
                every=0.02,
                what="three dispatch passes",
            )
            state = Reminder.objects.using(ALIAS).get(pk=reminder.pk).state
        finally:
            worker.stop()
    log = worker.output()

    (message,) = sent
    text = message.get_body(("plain",)).get_content()
    assert state == "sent"
    assert message["To"] == "Reading Rosa <reader@example.org>"
    assert [part.get_content_type() for part in message.iter_attachments()] == ["text/calendar"]
    paris_end = (starts + timedelta(hours=1)).astimezone(ZoneInfo("Europe/Paris"))
    assert f"When:   {local_time(starts, 'Europe/Paris')} until {paris_end:%H:%M}\n" in text
    assert f"({local_time(starts, 'Europe/London')} in Europe/London, the session’s own time zone)" in text
    assert failures == []
    assert writes > 10
    assert "database is locked" not in log
    assert "Scheduler: Sending due task dispatch-due-reminders" in log
