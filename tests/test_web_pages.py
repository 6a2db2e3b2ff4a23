"""The HTML pages as people meet them: what each role sees, forms that keep input, 404 outside the group."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from readings.models import DiscussionQuestion, ReadingAssignment, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.questions import question_create
from reminders.services.preferences import preference_update
from sessions_app.enums import Role
from sessions_app.models import Attendance, Invitation, Series, Session

from .factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parent.parent / "sample-texts" / "october-revolution-study-notes.txt"


def page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def reach(client, user, spec: str, **ids):
    """`spec` is a page's path, or "POST path" for a form's target (posting someone who is a member as present)."""
    method, _, url = spec.rpartition(" ")
    url = url.format(**ids)
    if method == "POST":
        client.force_login(user)
        return client.post(url, {"present": [ids["member"]]})
    return page(client, user, url)


def text_of(response) -> str:
    """The page's visible words, roughly: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def essay(world):
    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


@pytest.fixture
def prepared(world, essay):
    start, end = essay.passages.get(position=10), essay.passages.get(position=25)
    assignment_create(session=world.session, text=essay, start_passage=start, end_passage=end)
    question_create(
        session=world.session,
        author=world.organizer,
        prompt="Why did October succeed?",
        facilitator_notes="Start with the peasants.",
    )
    return essay


def test_dashboard_lists_groups_and_upcoming_sessions_with_rsvp_buttons(world, client):
    response = page(client, world.member, "/")

    words = text_of(response)
    assert response.status_code == 200
    assert "Tuesday Readers" in words
    assert "October, week one" in words
    assert 'value="going" aria-pressed="false"' in response.content.decode()


def test_dashboard_shows_times_in_my_timezone(world, client):
    world.session.starts_at = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    world.session.ends_at = world.session.starts_at + timedelta(hours=1)
    world.session.save()

    default = text_of(page(client, world.member, "/"))
    preference_update(user=world.member, timezone="Europe/Paris")
    mine = text_of(page(client, world.member, "/"))

    assert "Wednesday 2 December, 19:00 EST" in default
    assert "Thursday 3 December, 01:00 CET" in mine


def test_rsvp_button_with_htmx_returns_the_updated_buttons(world, client):
    world.session.starts_at = timezone.now() + timedelta(days=2)
    world.session.ends_at = world.session.starts_at + timedelta(hours=1)
    world.session.save()
    client.force_login(world.member)

    response = client.post(f"/sessions/{world.session.pk}/rsvp/", {"status": "going"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'value="going" aria-pressed="true"' in response.content.decode()
    assert "1 going" in text_of(response)


def test_empty_dashboard_says_what_to_do_next(world, client):
    response = page(client, world.outsider, "/")

    assert "Nothing scheduled yet." in text_of(response)


def test_group_page_for_organizer_has_members_and_invitations(world, client):
    response = page(client, world.organizer, f"/groups/{world.group.pk}/")

    words = text_of(response)
    assert "People" in words
    assert "Invitation links" in words
    assert "Schedule a session" in words


def test_group_page_for_member_has_neither(world, client):
    words = text_of(page(client, world.member, f"/groups/{world.group.pk}/"))

    assert "Invitation links" not in words
    assert "Schedule a session" not in words
    assert "Leave this group" in words


def test_organizer_creates_copies_and_revokes_an_invitation(world, client):
    client.force_login(world.organizer)

    client.post(f"/groups/{world.group.pk}/invitations/", {"role": "member", "max_uses": 5, "days": 7})
    invitation = Invitation.objects.get()
    listed = client.get(f"/groups/{world.group.pk}/").content.decode()
    client.post(f"/groups/{world.group.pk}/invitations/{invitation.pk}/revoke/")

    assert f'value="http://127.0.0.1:8000/join/{invitation.token}/"' in listed
    assert 'data-copy-target="#invite-' in listed
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_session_form_keeps_input_and_shows_errors_in_place(world, client):
    client.force_login(world.organizer)

    response = client.post(
        f"/groups/{world.group.pk}/sessions/new/",
        {
            "title": "Kept title",
            "starts_at": "not a date",
            "duration_minutes": "90",
            "timezone": "America/New_York",
            "status": "scheduled",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="Kept title"' in html
    assert re.search(r'class="field-error" id="id_starts_at_error">Enter a valid date/time.', html)
    assert Session.objects.count() == 1


def test_organizer_schedules_a_session_in_local_time(world, client):
    client.force_login(world.organizer)

    response = client.post(
        f"/groups/{world.group.pk}/sessions/new/",
        {
            "title": "Lenin's Imperialism",
            "starts_at": "2026-12-10T19:00",
            "duration_minutes": "90",
            "timezone": "America/New_York",
            "status": "scheduled",
            "facilitators": [str(world.facilitator.pk)],
        },
    )

    session = Session.objects.get(title="Lenin's Imperialism")
    assert response.headers["Location"] == f"/sessions/{session.pk}/"
    assert session.starts_at == datetime(2026, 12, 11, 0, 0, tzinfo=UTC)
    assert list(session.facilitators.all()) == [world.facilitator]


def test_organizer_schedules_a_series(world, client):
    client.force_login(world.organizer)

    client.post(
        f"/groups/{world.group.pk}/series/new/",
        {
            "title": "Weekly",
            "first_starts_at": "2030-01-03T19:00",
            "duration_minutes": "90",
            "timezone": "Europe/London",
            "frequency": "WEEKLY",
            "count": "4",
        },
    )

    series = Series.objects.get()
    assert series.rrule == "FREQ=WEEKLY;COUNT=4"
    assert series.sessions.count() == 4


def test_session_page_for_member_shows_reading_questions_and_downloads(world, client, prepared):
    response = page(client, world.member, f"/sessions/{world.session.pk}/")

    words = text_of(response)
    html = response.content.decode()
    assert "The October revolution and the bolsheviks" in words
    assert "§10–§25" in words
    assert "Why did October succeed?" in words
    assert "Start with the peasants." not in words
    assert f'href="/sessions/{world.session.pk}/pack/pdf/"' in html
    assert f'href="/sessions/{world.session.pk}/pack/epub/"' in html
    assert f'href="/api/v1/sessions/{world.session.pk}/pack/?format=md"' in html
    assert "Who is coming" not in words
    assert "Propose question" in words


@pytest.mark.parametrize("fmt", ["pdf", "epub"])
def test_pack_download_page_waits_for_the_file_with_a_script_of_its_own(world, client, prepared, fmt):
    response = page(client, world.member, f"/sessions/{world.session.pk}/pack/{fmt}/")

    html = response.content.decode()
    label = fmt.upper()
    assert response.status_code == 200
    assert f'data-url="/api/v1/sessions/{world.session.pk}/pack/?format={fmt}" data-label="{label}"' in html
    assert f"Preparing your {label}…" in text_of(response)
    assert '<script src="/static/js/pack-download.js" defer></script>' in html


def test_pack_download_page_is_404_for_other_formats_and_asks_strangers_to_log_in(world, client):
    assert page(client, world.member, f"/sessions/{world.session.pk}/pack/docx/").status_code == 404
    client.logout()
    response = client.get(f"/sessions/{world.session.pk}/pack/pdf/")
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/login/?next=/sessions/{world.session.pk}/pack/pdf/",
    )


def test_session_page_for_facilitator_shows_notes_and_who_is_coming(world, client, prepared):
    words = text_of(page(client, world.facilitator, f"/sessions/{world.session.pk}/"))

    assert "Start with the peasants." in words
    assert "For facilitators: what members said" in words


def test_member_proposes_a_question_and_a_facilitator_accepts_it(world, client, prepared):
    client.force_login(world.member)
    client.post(f"/sessions/{world.session.pk}/questions/propose/", {"prompt": "What about the peasants?"})
    proposed = DiscussionQuestion.objects.get(prompt="What about the peasants?")
    client.force_login(world.facilitator)

    client.post(f"/sessions/{world.session.pk}/questions/", {"action": "accept", "target": proposed.pk})

    proposed.refresh_from_db()
    assert proposed.state == "accepted"


def test_questions_reorder_with_buttons(world, client, prepared):
    question_create(session=world.session, author=world.organizer, prompt="Second")
    client.force_login(world.organizer)
    second = DiscussionQuestion.objects.get(prompt="Second")

    client.post(f"/sessions/{world.session.pk}/questions/", {"action": "up", "target": second.pk})

    assert list(DiscussionQuestion.objects.order_by("position").values_list("prompt", flat=True)) == [
        "Second",
        "Why did October succeed?",
    ]


def test_text_import_page_uploads_and_lists_passages(world, client):
    client.force_login(world.organizer)

    response = client.post(
        f"/groups/{world.group.pk}/texts/import/",
        {"file": SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes()), "title": "", "author": "", "source": ""},
    )

    text = Text.objects.get()
    assert response.headers["Location"] == f"/texts/{text.pk}/"
    assert "a) Proletarian Dictatorship" in text_of(client.get(f"/texts/{text.pk}/"))


SHORT = "Land and peace\n\nThe peasants wanted land.\n\nThe soldiers wanted peace.\n"
REVISED = "Land and peace\n\nThe peasants wanted land.\n\nThe soldiers wanted peace at once.\n\nBread came later.\n"


def upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")


def test_text_import_page_asks_whether_a_text_with_an_existing_title_is_a_new_revision(world, client):
    first = text_import(group=world.group, created_by=world.organizer, content=SHORT, filename="land.txt")
    client.force_login(world.organizer)
    url = f"/groups/{world.group.pk}/texts/import/"

    asked = client.post(url, {"file": upload("land-v2.txt", REVISED)})

    page = asked.content.decode()
    assert asked.status_code == 200
    assert "A text called “Land and peace” exists" in page
    assert 'value="revision" checked> As a new revision of “Land and peace”' in page
    assert 'value="separate"> As a separate text' in page
    assert list(Text.objects.values_list("pk", "revision")) == [(first.pk, 1)]  # nothing imported yet
    token = re.search(r'name="upload" value="([^"]+)"', page).group(1)

    done = client.post(url, {"upload": token, "existing": first.pk, "same_title": "revision"})

    assert done.headers["Location"] == f"/texts/{first.pk}/"
    first.refresh_from_db()
    assert (Text.objects.count(), first.revision) == (1, 2)
    assert list(first.passages.filter(retired=False).order_by("position").values_list("body", flat=True)) == [
        "Land and peace",
        "The peasants wanted land.",
        "The soldiers wanted peace at once.",
        "Bread came later.",
    ]
    assert "Imported revision 2 of “Land and peace”: 2 passages kept, 1 edited, 1 added, 0 retired." in text_of(
        client.get(done.headers["Location"])
    )


def test_text_import_page_imports_a_separate_text_with_the_same_title_when_asked_to(world, client):
    first = text_import(group=world.group, created_by=world.organizer, content=SHORT, filename="land.txt")
    client.force_login(world.organizer)
    url = f"/groups/{world.group.pk}/texts/import/"
    asked = client.post(url, {"file": upload("other.txt", REVISED), "author": "Someone else"})
    token = re.search(r'name="upload" value="([^"]+)"', asked.content.decode()).group(1)

    done = client.post(url, {"upload": token, "existing": first.pk, "same_title": "separate", "author": "Someone else"})

    second = Text.objects.exclude(pk=first.pk).get()
    assert done.headers["Location"] == f"/texts/{second.pk}/"
    assert (second.title, second.author, second.revision, second.passages.count()) == (
        "Land and peace",
        "Someone else",
        1,
        4,
    )
    first.refresh_from_db()
    assert (first.revision, first.passages.count()) == (1, 3)


def test_text_import_page_never_revises_a_text_of_another_group(world, client):
    theirs = text_import(group=world.other_group, created_by=world.outsider, content=SHORT, filename="land.txt")
    client.force_login(world.organizer)
    url = f"/groups/{world.group.pk}/texts/import/"

    direct = client.post(url, {"file": upload("land.txt", REVISED)})  # their title is not ours: no question
    assert Text.objects.filter(group=world.group).count() == 1
    assert direct.status_code == 302
    asked = client.post(url, {"file": upload("land.txt", REVISED)})
    token = re.search(r'name="upload" value="([^"]+)"', asked.content.decode()).group(1)
    forged = client.post(url, {"upload": token, "existing": theirs.pk, "same_title": "revision"})

    assert forged.status_code == 400
    assert "The text to revise is no longer in this group" in forged.content.decode()
    theirs.refresh_from_db()
    assert theirs.revision == 1


def test_text_import_page_shows_import_errors_on_the_file_field(world, client):
    client.force_login(world.organizer)

    response = client.post(
        f"/groups/{world.group.pk}/texts/import/", {"file": SimpleUploadedFile("x.txt", b"\x00\x01binary\x00")}
    )

    assert response.status_code == 400
    assert 'class="field-error" id="id_file_error"' in response.content.decode()
    assert not Text.objects.exists()


def test_assignment_builder_assigns_the_picked_range(world, client, essay):
    client.force_login(world.organizer)
    first, last = essay.passages.get(position=5), essay.passages.get(position=9)

    picker = client.get(f"/sessions/{world.session.pk}/readings/new/?text={essay.pk}")
    response = client.post(
        f"/sessions/{world.session.pk}/readings/new/",
        {"text": essay.pk, "start_passage": first.pk, "end_passage": last.pk, "required": "on"},
    )

    assert 'name="start_passage"' in picker.content.decode()
    assignment = ReadingAssignment.objects.get()
    assert (assignment.start_passage, assignment.end_passage) == (first, last)
    assert response.headers["Location"] == f"/sessions/{world.session.pk}/#readings"


def test_assignment_builder_range_backwards_is_an_error_in_place(world, client, essay):
    client.force_login(world.organizer)
    first, last = essay.passages.get(position=9), essay.passages.get(position=5)

    response = client.post(
        f"/sessions/{world.session.pk}/readings/new/",
        {"text": essay.pk, "start_passage": first.pk, "end_passage": last.pk},
    )

    assert response.status_code == 400
    assert "The range runs backwards (§9 to §5); swap the ends." in text_of(response)
    assert f'value="{first.pk}" checked' in response.content.decode()


def test_cancel_page_says_who_will_be_emailed_and_cancels_on_post(world, client):
    world.session.starts_at = timezone.now() + timedelta(days=2)
    world.session.ends_at = world.session.starts_at + timedelta(hours=1)
    world.session.save()
    client.force_login(world.organizer)

    confirm = client.get(f"/sessions/{world.session.pk}/cancel/")
    client.post(f"/sessions/{world.session.pk}/cancel/")

    words = text_of(confirm)
    assert "3 people will be emailed" in words
    assert "Member (member@example.org)" in words
    world.session.refresh_from_db()
    assert world.session.status == "cancelled"


@pytest.mark.parametrize(
    "url",
    [
        "/groups/{group}/",
        "/sessions/{session}/",
        "/sessions/{session}/edit/",
        "/sessions/{session}/cancel/",
        "/sessions/{session}/brief/",
        "/sessions/{session}/readings/new/",
        "/sessions/{session}/questions/",
        "/sessions/{session}/pack/pdf/",
        "/sessions/{session}/pack/epub/",
        "/sessions/{session}/summary/",
        "POST /sessions/{session}/attendance/",
        "/texts/{text}/",
        "/groups/{group}/texts/import/",
        "/groups/{group}/sessions/new/",
        "/groups/{group}/series/new/",
    ],
)
def test_no_page_is_reachable_from_outside_the_group(world, client, essay, url):
    ids = {"group": world.group.pk, "session": world.session.pk, "text": essay.pk, "member": world.member.pk}

    assert reach(client, world.outsider, url, **ids).status_code == 404
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/sessions/{session}/edit/",
        "/sessions/{session}/cancel/",
        "/sessions/{session}/questions/",
        "/sessions/{session}/brief/",
        "POST /sessions/{session}/attendance/",
        "/groups/{group}/sessions/new/",
    ],
)
def test_editor_pages_are_403_for_members(world, client, url):
    ids = {"group": world.group.pk, "session": world.session.pk, "member": world.member.pk}

    assert reach(client, world.member, url, **ids).status_code == 403
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/sessions/{session}/edit/",
        "/sessions/{session}/cancel/",
        "/sessions/{session}/questions/",
        "/sessions/{session}/readings/new/",
        "POST /sessions/{session}/attendance/",
    ],
)
def test_a_facilitator_who_does_not_lead_the_session_may_not_edit_it_nor_mark_who_came(world, client, url):
    other = UserFactory(username="other-facilitator")
    MembershipFactory(group=world.group, user=other, role=Role.FACILITATOR)
    ids = {"group": world.group.pk, "session": world.session.pk, "member": world.member.pk}

    assert reach(client, other, url, **ids).status_code == 403
    assert not Attendance.objects.exists()
    # The session's own facilitator is let through (the session has not started: who came is for later).
    assert reach(client, world.facilitator, url, **ids).status_code in {200, 400}


def test_pages_send_a_content_security_policy_without_inline_scripts(world, client):
    response = page(client, world.member, "/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "<script>" not in response.content.decode()


def test_preferences_page_shows_the_calendar_feed_and_rotates_it(world, client):
    client.force_login(world.member)

    before = client.get("/reminders/preferences/")
    old = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', before.content.decode()).group(1)
    client.post("/accounts/calendar-feed/rotate/")
    after = client.get("/reminders/preferences/").content.decode()
    new = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', after).group(1)

    assert old.startswith("http://127.0.0.1:8000/calendar/")
    assert new != old
    assert client.get(old.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert client.get(new.removeprefix("http://127.0.0.1:8000")).status_code == 200


def _edit_post(session, **overrides) -> dict:
    from pages.forms import SessionForm

    initial = SessionForm.initial_for(session)
    data = {
        "title": initial["title"],
        "starts_at": initial["starts_at"].strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": initial["duration_minutes"],
        "timezone": initial["timezone"],
        "location": initial["location"],
        "online_url": initial["online_url"],
        "description": initial["description"],
        "status": initial["status"],
        "facilitators": initial["facilitators"],
    }
    return {**data, **overrides}


def test_saving_a_cancelled_session_page_never_reinstates_it_by_accident(world, client):
    from sessions_app.services.schedule import session_cancel

    session_cancel(session=world.session)
    world.session.refresh_from_db()
    client.force_login(world.organizer)

    page_html = client.get(f"/sessions/{world.session.pk}/edit/").content.decode()
    response = client.post(f"/sessions/{world.session.pk}/edit/", _edit_post(world.session, description="Typo fixed"))

    world.session.refresh_from_db()
    assert '<option value="cancelled" selected>Cancelled</option>' in page_html
    assert response.status_code == 400
    assert "This session is cancelled" in text_of(response)
    assert world.session.status == "cancelled"


def test_saving_a_completed_session_page_keeps_it_completed(world, client):
    from sessions_app.services.schedule import session_update

    session_update(session=world.session, status="completed")
    world.session.refresh_from_db()
    client.force_login(world.organizer)

    response = client.post(f"/sessions/{world.session.pk}/edit/", _edit_post(world.session, location="Room 2"))

    world.session.refresh_from_db()
    assert response.status_code == 302
    assert (world.session.status, world.session.location) == ("completed", "Room 2")


def test_rsvp_next_is_never_an_open_redirect(world, client):
    world.session.starts_at = timezone.now() + timedelta(days=2)
    world.session.ends_at = world.session.starts_at + timedelta(hours=1)
    world.session.save()
    client.force_login(world.member)

    away = client.post(f"/sessions/{world.session.pk}/rsvp/", {"status": "going", "next": "https://evil.example/x"})
    home = client.post(f"/sessions/{world.session.pk}/rsvp/", {"status": "maybe", "next": f"/groups/{world.group.pk}/"})

    assert away.headers["Location"] == "/"
    assert home.headers["Location"] == f"/groups/{world.group.pk}/"


def test_group_page_lists_its_texts_with_import_and_assign_for_those_who_lead(world, client, essay):
    organizer_page = page(client, world.organizer, f"/groups/{world.group.pk}/").content.decode()
    member_page = page(client, world.member, f"/groups/{world.group.pk}/").content.decode()
    outsider_page = page(client, world.outsider, f"/groups/{world.other_group.pk}/").content.decode()

    passages = essay.passages.filter(retired=False).count()
    for html in (organizer_page, member_page):
        assert f'<a class="session-title" href="/texts/{essay.pk}/">{essay.title}</a>' in html
        assert f"{passages} passages" in html
    assert f'href="/sessions/{world.session.pk}/readings/new/?text={essay.pk}"' in organizer_page
    assert f'href="/groups/{world.group.pk}/texts/import/">Import a text</a>' in organizer_page
    assert "readings/new/" not in member_page
    assert essay.title not in outsider_page  # another group's texts never show
