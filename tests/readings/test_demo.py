"""`manage.py demo`: what a newcomer sees after `make run`, and what a second run keeps."""

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from readings.management.commands.demo import DROP_IN_TITLE, demo_password
from readings.models import Note, Text
from reminders.models import Reminder
from sessions_app.models import RSVP, Membership, Session, StudyGroup, User

pytestmark = pytest.mark.django_db

# A Friday, 12:00:30 UTC; the drop-in starts two hours and a minute later, on the minute.
NOW = datetime(2030, 3, 1, 12, 0, 30, tzinfo=UTC)
DROP_IN_STARTS = datetime(2030, 3, 1, 14, 1, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def demo(capsys, *args) -> str:
    call_command("demo", *args)
    return capsys.readouterr().out


def account_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "password: " in line]


def notes_in_pack(pack: dict) -> dict[int, list[tuple]]:
    """Passage position → (author, body, [(reply author, reply body)]) for the notes the pack shows."""
    return {
        passage["position"]: [
            (note["author"]["name"], note["body"], [(r["author"]["name"], r["body"]) for r in note["replies"]])
            for note in passage["notes"]
        ]
        for reading in pack["readings"]
        for passage in reading["passages"]
        if passage["notes"]
    }


def test_the_next_session_has_a_reading_notes_a_reply_questions_and_an_rsvp(clock, capsys, api):
    output = demo(capsys)

    group = StudyGroup.objects.get(name="Demo Study Circle")
    assert dict(Membership.objects.filter(group=group).values_list("user__username", "role")) == {
        "organizer": "organizer",
        "member1": "member",
        "member2": "member",
    }
    upcoming = list(Session.objects.filter(group=group, starts_at__gt=NOW).order_by("starts_at"))
    drop_in, *weekly = upcoming
    assert (drop_in.title, drop_in.starts_at, drop_in.timezone) == (DROP_IN_TITLE, DROP_IN_STARTS, "Europe/London")
    london = [session.starts_at.astimezone(ZoneInfo("Europe/London")) for session in weekly]
    assert [(moment.strftime("%A %H:%M")) for moment in london] == ["Thursday 19:00"] * 3
    assert [(b - a).days for a, b in itertools.pairwise(london)] == [7, 7]
    assert dict(RSVP.objects.filter(session=drop_in).values_list("user__username", "status")) == {
        "member1": "going",
        "organizer": "going",
    }

    # What a member pulls for the session: the reading, the group's notes with a reply, the questions.
    pack = api(User.objects.get(username="member2")).get(f"/api/v1/sessions/{drop_in.id}/pack/").json()
    (reading,) = pack["readings"]
    assert (reading["text"]["title"], reading["instructions"]) == (
        "The October revolution and the bolsheviks",
        "Mark one claim you doubt.",
    )
    assert [passage["position"] for passage in reading["passages"]] == list(range(2, 17))
    assert notes_in_pack(pack) == {
        4: [
            (
                "Mira Member",
                "How tiny, in numbers? Worth checking.",
                [("Max Member", "About three million industrial workers in 1917, out of some 160 million people.")],
            )
        ],
        9: [("Olga Organizer", "The key move of this part: each circumstance feeds the next.", [])],
        12: [("Mira Member", "Land for the peasants, peace for the soldiers: two promises.", [])],
    }
    assert [(q["kind"], q["prompt"], q["minutes"]) for q in pack["questions"]] == [
        ("opening", "What did you expect the essay to argue, from its title?", 10),
        ("discussion", "Which of the three external circumstances mattered most, and why?", 20),
        ("closing", "What one question would you bring to next week's reading?", 5),
    ]
    # Mira's private note is in her pack only.
    own = api(User.objects.get(username="member1")).get(f"/api/v1/sessions/{drop_in.id}/pack/").json()
    assert notes_in_pack(own)[13] == [("Mira Member", "Look up who they were before Thursday.", [])]
    assert Note.objects.filter(visibility="private").count() == 1

    # Its "starting soon" reminders fall due within the minute: the worker's first pass sends them.
    starting = Reminder.objects.filter(session=drop_in, kind="starting", state="pending")
    assert sorted(starting.values_list("recipient__username", flat=True)) == ["member1", "member2", "organizer"]
    assert set(starting.values_list("due_at", flat=True)) == {NOW + timedelta(seconds=30)}
    assert (
        "\nNext session: “Drop-in: first look at the essay”, Friday 14:01 Europe/London: "
        f"http://127.0.0.1:8000/sessions/{drop_in.id}/\n"
        "Its “starting soon” reminders are due at 12:01; the worker prints them below within a minute of that.\n"
    ) in output


def test_printed_passwords_log_in_and_stay_the_same_on_every_run(clock, capsys, client):
    first = account_lines(demo(capsys))
    User.objects.get(username="member1").set_password("changed by hand")  # not saved: nothing persists
    member2 = User.objects.get(username="member2")
    member2.set_password("changed by hand")
    member2.save()
    clock.move_to(NOW + timedelta(days=3), tick=False)
    second = account_lines(demo(capsys))

    assert first == second
    assert [re.sub(r"password: \S+", "password: …", line) for line in first] == [
        "  organizer  organizer  password: …   (Olga Organizer)",
        "  member     member1    password: …   (Mira Member)",
        "  member     member2    password: …   (Max Member)",
    ]
    for line in second:
        username, password = re.search(r"(\S+)\s+password: (\S+)", line).groups()
        assert password == demo_password(username)
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert (response.status_code, response["Location"]) == (302, "/"), username
        client.logout()


def test_passwords_depend_on_the_secret_key(settings):
    before = demo_password("organizer")
    settings.SECRET_KEY = "another deployment's secret key, just as long as the first one is"

    assert demo_password("organizer") != before
    assert len(before) == 16


def test_running_again_within_the_minute_adds_nothing(clock, capsys):
    demo(capsys)
    counts = (User.objects.count(), Session.objects.count(), Text.objects.count(), Note.objects.count())
    clock.move_to(NOW + timedelta(seconds=80), tick=False)  # the reminder fell due 50 s ago, not yet sent
    output = demo(capsys)

    assert (User.objects.count(), Session.objects.count(), Text.objects.count(), Note.objects.count()) == counts
    assert "Created" not in output
    assert "Scheduled" not in output


def test_running_again_later_adds_a_drop_in_whose_reminder_is_due_within_the_minute(clock, capsys):
    demo(capsys)
    later = NOW + timedelta(hours=5)
    clock.move_to(later, tick=False)

    output = demo(capsys)

    drop_ins = list(Session.objects.filter(title=DROP_IN_TITLE).order_by("starts_at"))
    assert [s.starts_at for s in drop_ins] == [DROP_IN_STARTS, DROP_IN_STARTS + timedelta(hours=5)]
    due = Reminder.objects.filter(session=drop_ins[1], kind="starting").values_list("due_at", flat=True)
    assert set(due) == {later + timedelta(seconds=30)}
    assert Text.objects.count() == 1
    assert Note.objects.count() == 5  # the notes belong to the essay, shared by every session that reads it
    assert output.startswith("Scheduled “Drop-in: first look at the essay” with a reading, questions and an RSVP.\n")


def test_password_option_prints_one_password_and_changes_nothing(capsys):
    assert demo(capsys, "--password", "member1") == demo_password("member1") + "\n"
    assert User.objects.count() == 0
    with pytest.raises(CommandError, match=r"“stranger” is not a demo account\."):
        call_command("demo", "--password", "stranger")
