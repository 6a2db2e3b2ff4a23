"""Replies, mentions and answers reach people, through the API: notifications, `me/`, marking read, bad input."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.models import Note, NoteMention
from readings.services.assignments import assignment_create
from readings.services.notes import note_set_hidden
from readings.services.questions import question_create
from reminders.models import Notification, Reminder
from reminders.services.dispatch import reminders_dispatch_due
from sessions_app.services.accounts import profile_update

from ..factories import MembershipFactory, UserFactory
from ..readings.conftest import at
from ..reminders.conftest import NOW

pytestmark = pytest.mark.django_db
NOTES = "/api/v1/notes/"
LIST = "/api/v1/me/notifications/"
READ = "/api/v1/me/notifications/read/"


def write(api, user, passage, body, **fields):
    response = api(user).post(NOTES, {"passage": passage.pk, "body": body, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def notifications(api, user, query=""):
    response = api(user).get(LIST + query)
    assert response.status_code == 200
    return response.json()["results"]


def unread(api, user) -> int:
    return api(user).get("/api/v1/me/").json()["unread_notifications"]


def test_a_reply_that_mentions_someone_tells_the_author_and_the_mentioned_once_and_the_replier_nothing(
    api, world, passage
):
    note = write(api, world.member, passage, "Is this really about the **soviets**?", visibility="group")
    reply = write(api, world.facilitator, passage, "Yes, and @organizer knows the sources.", parent=note["id"])

    for_member, for_organizer = notifications(api, world.member), notifications(api, world.organizer)

    assert reply["mentions"] == [{"id": world.organizer.pk, "name": "Organizer", "notified": True}]
    assert [(one["kind"], one["actor"]["name"], one["note"]["body"]) for one in for_member] == [
        ("reply", "Facilitator", "Yes, and @organizer knows the sources.")
    ]
    assert [one["kind"] for one in for_organizer] == ["mention"]
    assert for_member[0]["url"].endswith(f"/texts/{passage.text_id}/#p-12")
    assert notifications(api, world.facilitator) == []
    assert (unread(api, world.member), unread(api, world.organizer), unread(api, world.facilitator)) == (1, 1, 0)


def test_each_gets_one_email_linking_to_the_note_in_the_reader_of_the_session_that_reads_it(api, world, essay, passage):
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    note = write(api, world.member, passage, "Is this really about the soviets?", visibility="group")
    reply = write(api, world.facilitator, passage, "Ask @organizer.", parent=note["id"])

    result = reminders_dispatch_due(now=NOW + timedelta(minutes=5))

    assert result.sent == 2
    by_address = {email.to[0]: email for email in mail.outbox}
    assert sorted(by_address) == ["Member <member@example.org>", "Organizer <organizer@example.org>"]
    link = f"http://127.0.0.1:8000/sessions/{world.session.pk}/read/#note-{reply['id']}"
    for email in mail.outbox:
        assert link in email.body
        assert "Ask @Organizer." in email.body  # the mention shows the member's name
        assert passage.body.split()[0] in email.body  # the passage's words are quoted
    assert by_address["Organizer <organizer@example.org>"].subject == f"Facilitator mentioned you on “{essay.title}”"


def test_an_email_shows_a_mention_by_the_name_the_member_has_when_it_is_sent(api, world, passage):
    note = write(api, world.member, passage, "Is this really about the soviets?", visibility="group")
    write(api, world.facilitator, passage, "Ask @organizer.", parent=note["id"])
    profile_update(user=world.organizer, display_name="Olga <b>O</b>")

    reminders_dispatch_due(now=NOW + timedelta(minutes=5))

    email = next(email for email in mail.outbox if email.to[0].startswith("Member"))
    assert "Ask @Olga <b>O</b>." in email.body
    assert "Ask @Olga &lt;b&gt;O&lt;/b&gt;." in email.alternatives[0][0]


def test_a_private_note_mentioning_someone_notifies_nobody_and_says_so(api, world, passage):
    note = write(api, world.member, passage, "Remember to ask @organizer and @facilitator.", visibility="private")

    assert [(m["name"], m["notified"]) for m in note["mentions"]] == [("Organizer", False), ("Facilitator", False)]
    assert Notification.objects.count() == 0
    assert Reminder.objects.count() == 0


def test_a_facilitators_note_mentioning_a_member_reaches_only_those_who_may_read_it(api, world, passage):
    note = write(api, world.organizer, passage, "@member and @facilitator: look here.", visibility="facilitators")

    assert {m["name"]: m["notified"] for m in note["mentions"]} == {"Member": False, "Facilitator": True}
    assert set(Notification.objects.values_list("recipient__username", "kind")) == {("facilitator", "mention")}


def test_email_addresses_are_not_mentions(api, world, passage):
    note = write(api, world.member, passage, "Write to organizer@example.org or x.@organizer", visibility="group")

    assert note["mentions"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello @nobody", "@nobody is not a member of this group: only members can be mentioned."),
        ("Hello @outsider", "@outsider is not a member of this group: only members can be mentioned."),
        (" ".join(f"@person{n}" for n in range(21)), "Mention at most 20 people in one note; this one mentions 21."),
    ],
)
def test_mentions_of_strangers_or_too_many_are_refused_naming_the_body_and_nothing_is_written(
    api, world, passage, body, message
):
    for n in range(21):
        MembershipFactory(group=world.group, user=UserFactory(username=f"person{n}"))

    response = api(world.member).post(
        NOTES, {"passage": passage.pk, "body": body, "visibility": "group"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"body": [message]}
    assert (Note.objects.count(), NoteMention.objects.count(), Notification.objects.count()) == (0, 0, 0)


def test_twenty_mentions_are_fine(api, world, passage):
    for n in range(20):
        MembershipFactory(group=world.group, user=UserFactory(username=f"person{n}"))

    note = write(api, world.member, passage, " ".join(f"@person{n}" for n in range(20)), visibility="group")

    assert len(note["mentions"]) == 20
    assert Notification.objects.filter(kind="mention").count() == 20


def test_editing_a_note_to_mention_someone_tells_them_once(api, world, passage):
    note = write(api, world.member, passage, "A first thought.", visibility="group")
    for body in ("A first thought, @organizer?", "A first thought, @organizer? (edited)"):
        assert api(world.member).patch(f"{NOTES}{note['id']}/", {"body": body}, format="json").status_code == 200

    assert [one["kind"] for one in notifications(api, world.organizer)] == ["mention"]


def test_a_facilitator_answering_a_proposed_question_tells_the_member_who_proposed_it(api, world, essay, passage):
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    question = question_create(session=world.session, author=world.member, prompt="Who led it?", propose=True)
    question.state = "accepted"
    question.save()

    write(api, world.facilitator, passage, "The Bolsheviks, mostly.", visibility="group", question=question.pk)

    assert [one["kind"] for one in notifications(api, world.member)] == ["answer"]


def test_the_notifications_page_names_the_answered_question_by_its_number(api, world, essay, passage, client):
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    question_create(session=world.session, author=world.organizer, prompt="Where do we start?")
    question = question_create(session=world.session, author=world.member, prompt="Who led it?", propose=True)
    question.state = "accepted"
    question.save()
    write(api, world.facilitator, passage, "The Bolsheviks, mostly.", visibility="group", question=question.pk)
    client.force_login(world.member)

    page = client.get("/notifications/").content.decode()

    assert f"Facilitator answered your question 2 on “{essay.title}”</a>" in page


def test_a_reply_under_post_before_you_peek_says_there_is_a_note_without_its_words(api, world, essay, passage):
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    world.session.post_before_peek = True
    world.session.save()
    note = write(api, world.facilitator, passage, "What do you make of this?", visibility="group")

    write(api, world.organizer, passage, "@member, your view?", parent=note["id"])
    (one,) = notifications(api, world.member)

    assert one["kind"] == "mention"
    assert one["note"]["withheld"] is True
    assert one["note"]["body"] is None
    reminders_dispatch_due(now=NOW + timedelta(minutes=5))
    email = next(email for email in mail.outbox if email.to[0].startswith("Member"))
    assert "your view?" not in email.body
    assert "Post your own note there to read it." in email.body


def test_a_notification_about_a_note_hidden_since_is_dropped_from_the_list_and_the_email(api, world, passage):
    note = write(api, world.member, passage, "A thought.", visibility="group")
    reply = write(api, world.facilitator, passage, "A reply.", parent=note["id"])
    note_set_hidden(note=Note.objects.get(pk=reply["id"]), hidden=True, by=world.organizer)

    result = reminders_dispatch_due(now=NOW + timedelta(minutes=5))

    assert notifications(api, world.member) == []
    assert unread(api, world.member) == 0
    assert (result.sent, result.skipped, mail.outbox) == (0, 1, [])


def test_mark_some_or_all_read_and_filter_unread(api, world, passage):
    note = write(api, world.member, passage, "A thought.", visibility="group")
    for n in range(3):
        write(api, world.facilitator if n % 2 else world.organizer, passage, f"Reply {n}.", parent=note["id"])
    newest, middle, oldest = notifications(api, world.member)
    assert (newest["kind"], len(notifications(api, world.member, "?unread=1"))) == ("reply", 3)

    marked = api(world.member).post(READ, {"ids": [oldest["id"]]}, format="json")
    # The organizer wrote in the thread, so they have one of their own (the facilitator's reply), unread.
    someone_elses = api(world.organizer).post(READ, {"ids": [middle["id"]]}, format="json")

    assert marked.json() == {"marked": 1, "unread_notifications": 2}
    assert someone_elses.json() == {"marked": 0, "unread_notifications": 1}
    assert [one["read"] for one in notifications(api, world.member)] == [False, False, True]
    assert [one["id"] for one in notifications(api, world.member, "?unread=1")] == [newest["id"], middle["id"]]
    assert api(world.member).post(READ, {"all": True}, format="json").json() == {
        "marked": 2,
        "unread_notifications": 0,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "ids"), ({"ids": []}, "ids"), ({"ids": ["x"]}, "ids"), ({"all": "maybe"}, "all"), ({"ids": [0]}, "ids")],
)
def test_marking_read_with_bad_input_is_a_400_naming_the_field(api, world, body, field):
    response = api(world.member).post(READ, body, format="json")

    assert response.status_code == 400
    assert [key.split(".")[0] for key in response.json()["errors"]] == [field]


def many_notifications(world, passage, n: int) -> None:
    """`n` replies to a note of the member's, each with its notification (written in bulk: fast)."""
    Notification.objects.all().delete()
    Note.objects.all().delete()
    note = Note.objects.create(author=world.member, passage=passage, body="x", visibility="group")
    replies = Note.objects.bulk_create(
        Note(author=world.facilitator, passage=passage, body=f"r{i}", parent=note, root=note, visibility="group")
        for i in range(n)
    )
    Notification.objects.bulk_create(
        Notification(recipient=world.member, kind="reply", actor=world.facilitator, group=world.group, note=reply)
        for reply in replies
    )


def test_the_notification_list_costs_the_same_queries_for_10_and_200(api, world, passage):
    def count(n: int) -> int:
        many_notifications(world, passage, n)
        with CaptureQueriesContext(connection) as queries:
            response = api(world.member).get(LIST + "?page_size=500")
        assert len(response.json()["results"]) == n
        return len(queries)

    assert count(10) == count(200)


def test_me_stays_cheap_with_many_notifications(api, world, passage):
    def count(n: int) -> int:
        many_notifications(world, passage, n)
        with CaptureQueriesContext(connection) as queries:
            assert api(world.member).get("/api/v1/me/").json()["unread_notifications"] == n
        return len(queries)

    assert count(10) == count(200)


def test_three_replies_over_a_day_arrive_as_one_digest_at_the_chosen_local_hour(api, world, passage, clock):
    # 07:00 in New York is 12:00 UTC (EST); NOW is 12:00 UTC on Friday 1 March 2030.
    response = api(world.member).patch(
        "/api/v1/me/",
        {"timezone": "America/New_York", "digest_hour": 7, "notifications": {"reply": "digest"}},
        format="json",
    )
    assert response.status_code == 200
    note = write(api, world.member, passage, "A thought.", visibility="group")
    for hours in (1, 8, 20):
        clock.move_to(NOW + timedelta(hours=hours), tick=False)
        write(api, world.facilitator, passage, f"Reply after {hours} hours.", parent=note["id"])

    clock.move_to(NOW + timedelta(hours=24), tick=False)
    early = reminders_dispatch_due(now=NOW + timedelta(hours=24) - timedelta(seconds=1))
    due = reminders_dispatch_due(now=NOW + timedelta(hours=24))

    assert (early.sent, due.sent) == (0, 1)
    (email,) = mail.outbox
    assert email.subject == "Your daily digest: 3 new notifications"
    assert [f"Reply after {hours} hours." in email.body for hours in (1, 8, 20)] == [True] * 3
    assert "unsubscribe" in email.extra_headers["List-Unsubscribe"]
