"""`make run`'s console email backend prints each email as its reader would see it."""

import io
import subprocess
import sys

from django.core.mail import EmailMultiAlternatives, send_mail
from django.test import override_settings

from config.mail import RULE, ReadableConsoleBackend

from .reminders.realparts import ROOT

TEXT = (
    "Hello Mira,\n\n"
    "Demo Study Circle meets for “Drop-in: first look at the essay” — today at 16:42.\n"
    "What to read: §2–§16, about 6 min. Ünïcödé survives, and so does a very long line that a mail "
    "transfer encoding would otherwise fold and escape with equals signs at the end of every row.\n"
)


def reminder_like_email() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject="Starting soon: “Drop-in: first look at the essay” (today, 16:42)",
        body=TEXT,
        from_email="Studycircle <noreply@studycircle.local>",
        to=["Mira Member <member1@example.org>"],
        headers={"Date": "Mon, 30 Nov 2026 14:40:00 +0000", "Message-ID": "<reminder-1.starting@studycircle.local>"},
    )
    message.attach_alternative("<p>Hello Mira,</p>", "text/html")
    message.attach("session.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    return message


def test_prints_decoded_headers_the_text_part_and_names_the_other_parts():
    stream = io.StringIO()

    sent = ReadableConsoleBackend(stream=stream).send_messages([reminder_like_email()])

    assert sent == 1
    assert stream.getvalue() == (
        f"{RULE}\n"
        "From: Studycircle <noreply@studycircle.local>\n"
        "To: Mira Member <member1@example.org>\n"
        "Subject: Starting soon: “Drop-in: first look at the essay” (today, 16:42)\n"
        "Date: Mon, 30 Nov 2026 14:40:00 +0000\n"
        "Also carries: an HTML version of this text, session.ics (text/calendar)\n"
        "\n"
        f"{TEXT.rstrip()}\n"
        f"{RULE}\n\n"
    )


def test_a_plain_message_has_no_extras_line():
    stream = io.StringIO()
    message = EmailMultiAlternatives("Ça va ?", "Just text.", "a@example.org", ["b@example.org"])

    ReadableConsoleBackend(stream=stream).send_messages([message])

    lines = stream.getvalue().splitlines()
    assert lines[1:4] == ["From: a@example.org", "To: b@example.org", "Subject: Ça va ?"]
    assert lines[-4:] == ["", "Just text.", RULE, ""]
    assert not any(line.startswith("Also carries") for line in lines)


def test_writes_to_the_real_stdout_by_default_not_a_redirected_one(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # what a Celery worker does to sys.stdout

    assert ReadableConsoleBackend().stream is sys.__stdout__


def test_local_settings_use_it_for_the_console(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"
    environment = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    environment |= {"STUDYCIRCLE_VAR_DIR": str(tmp_path), "EMAIL_URL": "consolemail://", "PYTHONPATH": str(ROOT)}

    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True)

    assert (result.returncode, result.stdout) == (0, "config.mail.ReadableConsoleBackend\n"), result.stderr[-2000:]


@override_settings(EMAIL_BACKEND="config.mail.ReadableConsoleBackend")
def test_djangos_send_mail_goes_through_it(capfd):
    send_mail("Hello", "Plain words.", "a@example.org", ["b@example.org"])

    out = capfd.readouterr().out
    assert out.startswith(f"{RULE}\nFrom: a@example.org\nTo: b@example.org\nSubject: Hello\nDate: ")
    assert out.endswith(f"\n\nPlain words.\n{RULE}\n\n")
