"""The after-session summary as each person may see it: who came, numbered questions with their most helpful
answers, follow-ups and the next session; never a private note, nor a count that includes one."""

import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.pack import formats
from readings.pack.builder import build_pack, pack_scope
from readings.services.notes import note_create
from readings.summary import previous_summary, session_summary
from reminders.models import Reminder
from sessions_app.models import Attendance, Membership
from sessions_app.selectors import membership_for
from sessions_app.services.groups import group_update
from sessions_app.services.schedule import attendance_set, session_cancel

from ..conftest import service_unavailable
from ..factories import MembershipFactory, UserFactory
from .summary_circle import (
    ANSWER_FACILITATORS,
    ANSWER_PLAIN,
    ANSWER_PRIVATE,
    ANSWER_SECOND,
    ANSWER_TOP,
    FOLLOW_FACILITATORS,
    FOLLOW_GROUP,
    FOLLOW_PRIVATE,
    build_circle,
)
from .test_pack_pdf import assert_prints_sections_in_order, html_sections, pdf_text, squeeze

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def circle(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    return build_circle(world, now=NOW)


def summary_for(user, session):
    return session_summary(user, Membership.objects.get(user=user, group=session.group), session)


def answers(summary) -> list[tuple[int, list[str], int]]:
    return [
        (question["number"], [answer["body"] for answer in question["answers"]], question["answer_count"])
        for question in summary["questions"]
    ]


def test_a_member_sees_group_answers_by_helpfulness_and_never_a_private_hidden_or_facilitators_one(world, circle):
    summary = summary_for(world.member, circle.held)

    assert answers(summary) == [(1, [ANSWER_TOP, ANSWER_SECOND, ANSWER_PLAIN], 3), (2, [], 0)]
    assert [note["body"] for note in summary["follow_ups"]] == [FOLLOW_GROUP]
    assert summary["questions"][0]["answers"][0]["helpful_count"] == 2


def test_a_facilitator_sees_the_facilitators_answer_and_follow_up_but_not_the_members_private_notes(world, circle):
    summary = summary_for(world.facilitator, circle.held)

    # Three answers at most: the two marked helpful, then the oldest of the rest.
    assert answers(summary) == [(1, [ANSWER_TOP, ANSWER_SECOND, ANSWER_FACILITATORS], 4), (2, [], 0)]
    assert [note["body"] for note in summary["follow_ups"]] == [FOLLOW_GROUP, FOLLOW_FACILITATORS]


def test_the_organizer_who_hid_an_answer_does_not_get_it_in_the_summary(world, circle):
    summary = summary_for(world.organizer, circle.held)

    assert answers(summary)[0][2] == 4  # top, second, facilitators, plain: never hidden, never private


def test_who_came_is_named_or_counted_as_the_group_prefers(world, circle):
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk, circle.second.pk])
    named = summary_for(world.member, circle.held)["attendance"]
    group_update(group=world.group, summary_attendance="counts")
    counted = summary_for(world.member, circle.held)["attendance"]

    assert named == {"shown_as": "names", "present": 2, "names": ["Member", "Second Reader"]}
    assert counted == {"shown_as": "counts", "present": 2, "names": None}


def test_the_next_session_comes_with_its_reading_and_the_pack_of_the_next_shows_the_summary(world, circle):
    summary = summary_for(world.member, circle.held)
    membership = Membership.objects.get(user=world.member, group=world.group)

    assert summary["next_session"]["id"] == circle.upcoming.pk
    assert summary["next_session"]["readings"] == [
        {
            "text": {"id": circle.text.pk, "title": "Ten Days", "author": ""},
            "start": 5,
            "end": 7,
            "required": True,
            "reading_minutes": 1,
        }
    ]
    assert previous_summary(world.member, membership, circle.upcoming) == summary


def test_a_cancelled_session_is_skipped_as_previous_and_as_next(world, circle):
    session_cancel(session=circle.upcoming)
    membership = Membership.objects.get(user=world.member, group=world.group)

    assert summary_for(world.member, circle.held)["next_session"] is None
    assert previous_summary(world.member, membership, circle.upcoming)["session"]["id"] == circle.held.pk


def test_the_summary_costs_the_same_queries_with_more_attendees(world, circle):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            summary_for(world.member, circle.held)
        return len(captured)

    few = queries()
    more = [UserFactory(username=f"extra{n}") for n in range(6)]
    for person in more:
        MembershipFactory(group=world.group, user=person)
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[person.pk for person in more])

    assert queries() == few


# --- The API's read and the pages -------------------------------------------------------------


def test_the_api_answers_each_member_with_what_they_may_see(world, circle, api):
    member = api(world.member).get(f"/api/v1/sessions/{circle.held.pk}/summary/")
    facilitator = api(world.facilitator).get(f"/api/v1/sessions/{circle.held.pk}/summary/")
    outsider = api(world.outsider).get(f"/api/v1/sessions/{circle.held.pk}/summary/")

    assert member.status_code == facilitator.status_code == 200
    assert member.json() == {**summary_for(world.member, circle.held)}
    assert [a["body"] for a in member.json()["questions"][0]["answers"]] == [ANSWER_TOP, ANSWER_SECOND, ANSWER_PLAIN]
    assert [n["body"] for n in facilitator.json()["follow_ups"]] == [FOLLOW_GROUP, FOLLOW_FACILITATORS]
    assert outsider.status_code == 404


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_summary_page_is_for_the_groups_members_and_shows_what_each_may_see(world, circle, client):
    url = f"/sessions/{circle.held.pk}/summary/"
    client.force_login(world.member)
    member = words(client.get(url))
    client.force_login(world.facilitator)
    facilitator = words(client.get(url))
    client.force_login(world.outsider)
    outsider = client.get(url)
    client.logout()
    anonymous = client.get(url)

    assert "1. What is the main claim?" in member
    assert ANSWER_TOP in member
    assert FOLLOW_GROUP in member
    assert FOLLOW_FACILITATORS not in member
    assert ANSWER_FACILITATORS not in member
    assert ANSWER_PRIVATE not in member
    assert FOLLOW_PRIVATE not in member
    assert FOLLOW_FACILITATORS in facilitator
    assert "October, week three" in member
    assert "Read Ten Days: §5–§7" in member
    assert outsider.status_code == 404
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/accounts/login/")


def test_a_past_session_page_links_its_summary_and_lets_its_facilitator_mark_attendance(world, circle, client):
    client.force_login(world.facilitator)
    held = client.get(f"/sessions/{circle.held.pk}/").content.decode()
    upcoming = client.get(f"/sessions/{circle.upcoming.pk}/").content.decode()
    client.force_login(world.member)
    as_member = client.get(f"/sessions/{circle.held.pk}/").content.decode()

    assert f'href="/sessions/{circle.held.pk}/summary/"' in held
    assert 'name="present"' in held
    assert "/summary/" not in upcoming
    assert 'name="present"' not in upcoming
    assert f'href="/sessions/{circle.held.pk}/summary/"' in as_member
    assert 'name="present"' not in as_member


def test_marking_attendance_on_the_page_plans_the_summary_and_shows_it(world, circle, client):
    client.force_login(world.facilitator)
    response = client.post(
        f"/sessions/{circle.held.pk}/attendance/", {"present": [world.member.pk, circle.second.pk]}, follow=True
    )

    assert response.redirect_chain == [(f"/sessions/{circle.held.pk}/summary/", 302)]
    assert "Member, Second Reader (2)" in words(response)
    assert set(Reminder.objects.filter(kind="summary").values_list("recipient__username", flat=True)) == {
        "organizer",
        "facilitator",
        "member",
        "second",
    }


def test_only_those_who_lead_the_session_mark_attendance_and_bad_input_changes_nothing(world, circle, client):
    url = f"/sessions/{circle.held.pk}/attendance/"
    client.force_login(world.member)
    member = client.post(url, {"present": [world.member.pk]})
    client.force_login(world.facilitator)
    not_an_id = client.post(url, {"present": ["me"]})
    stranger = client.post(url, {"present": [world.member.pk, world.outsider.pk]})
    client.force_login(world.organizer)
    too_early = client.post(f"/sessions/{circle.upcoming.pk}/attendance/", {"present": [world.member.pk]})

    assert member.status_code == 403
    assert (not_an_id.status_code, not_an_id.content.decode()) == (400, "present: give the ids of members who came.")
    assert stranger.status_code == 400
    assert f"Not members of this group: [{world.outsider.pk}]" in stranger.content.decode()
    assert too_early.status_code == 400
    assert not Attendance.objects.exists()
    assert not Reminder.objects.filter(kind="summary").exists()


@pytest.mark.parametrize(
    "spelling",
    [
        lambda pk: f"+{pk}",
        lambda pk: f" {pk}",
        lambda pk: f"{pk} ",
        lambda pk: f"0_{pk}",
        lambda pk: str(pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        lambda pk: "",
    ],
    ids=["plus", "leading space", "trailing space", "underscore", "arabic-indic digits", "empty"],
)
def test_attendance_takes_only_ids_in_ascii_digits_and_writes_nothing_otherwise(world, circle, client, spelling):
    client.force_login(world.facilitator)
    response = client.post(
        f"/sessions/{circle.held.pk}/attendance/", {"present": [str(circle.second.pk), spelling(world.member.pk)]}
    )

    assert (response.status_code, response.content.decode()) == (400, "present: give the ids of members who came.")
    assert not Attendance.objects.exists()
    assert not Reminder.objects.filter(kind="summary").exists()


def test_the_api_refuses_a_bad_summary_setting_naming_the_field(world, api):
    response = api(world.organizer).patch(f"/api/v1/groups/{world.group.pk}/", {"summary_attendance": "faces"})

    assert response.status_code == 400
    assert "summary_attendance" in response.json()["errors"]
    world.group.refresh_from_db()
    assert world.group.summary_attendance == "names"


# --- The next session's pack ------------------------------------------------------------------


def pack_of(user, session) -> dict:
    scope = pack_scope(user=user, session=session, membership=membership_for(user, session.group_id))
    return build_pack(scope)


def test_the_next_sessions_pack_carries_the_summary_each_person_may_see_and_the_first_pack_none(world, circle):
    mark_present = [world.member.pk, circle.second.pk]
    attendance_set(session=circle.held, marked_by=world.facilitator, present=mark_present)
    member, facilitator = pack_of(world.member, circle.upcoming), pack_of(world.facilitator, circle.upcoming)

    assert member["previous_summary"] == summary_for(world.member, circle.held)
    assert [n["body"] for n in facilitator["previous_summary"]["follow_ups"]] == [FOLLOW_GROUP, FOLLOW_FACILITATORS]
    assert "previous_summary" not in pack_of(world.member, world.session)  # the group's first session


def test_the_printable_html_and_the_pdf_print_the_same_summary_section(world, circle, tmp_path):
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk, circle.second.pk])
    pack = pack_of(world.member, circle.upcoming)

    sections = html_sections(formats.html(pack))
    printed = squeeze(pdf_text(formats.pdf(pack), tmp_path))
    (summary,) = [text for name, text in sections if name == "section.previous-summary#previous-summary"]

    assert [name for name, _ in sections][:2] == ["header.masthead#", "section.previous-summary#previous-summary"]
    assert " ".join(summary.split()).startswith(
        "Last time: October, week two Friday 1 March 2030, 10:00 (Europe/London) "
        "Who came: Member, Second Reader (2) The questions 1. What is the main claim? "
        f"{ANSWER_TOP} — Member · 2 found it helpful"
    )
    assert FOLLOW_GROUP in summary
    assert ANSWER_PRIVATE not in summary
    assert FOLLOW_FACILITATORS not in summary
    assert_prints_sections_in_order(printed, sections)


def test_the_pack_with_a_summary_costs_the_same_queries_with_more_notes(world, circle, api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            api(world.member).get(f"/api/v1/sessions/{circle.upcoming.pk}/pack/")
        return len(captured)

    few = queries()
    for n in range(5):
        note_create(
            author=circle.second, passage=circle.notes["top"].passage, body=f"More {n}.", question=circle.first_question
        )
        note_create(author=circle.second, passage=circle.notes["top"].passage, body=f"Do {n}.", tags=["follow-up"])

    assert queries() == few


def test_the_printed_summary_and_brief_show_mentions_by_the_display_name_now(world, circle):
    from sessions_app.services.accounts import profile_update

    passage = circle.text.passages.get(position=3, retired=False)
    note_create(
        author=world.member, passage=passage, body="Ask @second about it", visibility="group", tags=["follow-up"]
    )
    note_create(
        author=world.organizer,
        passage=passage,
        body="@second knows",
        visibility="group",
        question=circle.first_question,
    )
    profile_update(user=circle.second, display_name="<script>x</script> Reader")
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk])

    printed = formats.html(pack_of(world.member, circle.upcoming)).decode()
    brief = formats.html(pack_of(world.facilitator, circle.held)).decode()

    assert "Ask @&lt;script&gt;x&lt;/script&gt; Reader about it" in printed
    assert "@&lt;script&gt;x&lt;/script&gt; Reader knows" in brief
    assert "@second about" not in printed
    assert "@second knows" not in brief
    assert "<script>x" not in printed + brief


def epub_text(data: bytes) -> dict[str, str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".xhtml")}


def test_the_markdown_and_epub_carry_the_brief_for_facilitators_only_and_never_a_private_note(world, circle):
    facilitator, member = pack_of(world.facilitator, circle.held), pack_of(world.member, circle.held)

    for pack in (facilitator, member):
        markdown = formats.markdown(pack).decode()
        book = "".join(epub_text(formats.epub(pack)).values())
        if pack is facilitator:
            assert "## Facilitator’s brief\n\n### Who has read\n" in markdown
            assert "- Question 1: What is the main claim?\n    - Member on §2: " + ANSWER_TOP in markdown
            assert "<h2>Facilitator’s brief</h2>" in book
            assert f'<p class="meta">Member on §2: {ANSWER_TOP}</p>' in book
        else:
            assert "brief" not in markdown.lower()
            assert "Facilitator’s brief" not in book
    for never in (ANSWER_PRIVATE, FOLLOW_PRIVATE):  # the member's own private notes
        assert never not in formats.markdown(facilitator).decode()
        assert never not in "".join(epub_text(formats.epub(facilitator)).values())


def test_the_next_sessions_markdown_and_epub_carry_the_summary_inert_and_never_a_private_note(world, circle):
    from sessions_app.services.accounts import profile_update

    profile_update(user=circle.second, display_name="<img src=x onerror=alert(1)> Reader")
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk, circle.second.pk])
    pack = pack_of(world.member, circle.upcoming)

    markdown = formats.markdown(pack).decode()
    pages = epub_text(formats.epub(pack))
    book = "".join(pages.values())

    assert "## Last time: October, week two\n" in markdown
    assert "**Who came:** \\<img src=x onerror=alert(1)\\> Reader, Member (2)\n" in markdown
    assert f"1. What is the main claim?\n    - {ANSWER_TOP} — *Member · 2 found it helpful*\n" in markdown
    assert f"### To follow up\n\n- {FOLLOW_GROUP} — *§3 · \\<img src=x onerror=alert(1)\\> Reader*\n" in markdown
    summary = pages["EPUB/previous-summary.xhtml"]
    assert "<h2>Last time: October, week two</h2>" in summary
    assert "<strong>Who came:</strong> &lt;img src=x onerror=alert(1)&gt; Reader, Member (2)" in summary
    assert f"<p>{ANSWER_TOP}</p>" in summary
    assert f"<p>{FOLLOW_GROUP}</p>" in summary
    assert "<img" not in book
    for never in (ANSWER_PRIVATE, FOLLOW_PRIVATE, ANSWER_FACILITATORS, FOLLOW_FACILITATORS):
        assert never not in markdown + book


def test_an_epub_with_the_brief_and_the_summary_passes_epubcheck(world, circle, tmp_path):
    jar = "/usr/share/java/epubcheck.jar"
    if not shutil.which("java") or not os.path.exists(jar):
        service_unavailable("epubcheck", "install epubcheck (.ci/system-packages does)")
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk])
    pack = pack_of(world.facilitator, circle.upcoming)
    book = tmp_path / "pack.epub"
    book.write_bytes(formats.epub(pack))

    result = subprocess.run(["java", "-jar", jar, str(book)], capture_output=True, text=True, timeout=300)

    assert ("brief" in pack, "previous_summary" in pack) == (True, True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors or warnings detected." in result.stdout


def test_the_pack_with_a_summary_reads_each_sessions_readings_questions_and_rows_once(world, circle, api):
    """The previous session comes with the pack's scope, its readings and questions with the pack's own (one
    query each for both sessions), the next session it points to is the pack's own, and who came is read as
    names with the session's facilitators: no session, reading or question table is read twice, and no whole
    user row is read."""
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[world.member.pk, circle.second.pk])

    with CaptureQueriesContext(connection) as captured:
        pack = api(world.member).get(f"/api/v1/sessions/{circle.upcoming.pk}/pack/").json()

    tables = [re.search(r'FROM "(\w+)"', query["sql"]).group(1) for query in captured if "FROM" in query["sql"]]
    assert pack["previous_summary"] == summary_for(world.member, circle.held)
    assert [tables.count(name) for name in READ_ONCE] == [1] * len(READ_ONCE), tables
    assert not [query for query in captured if '"sessions_app_user"."password"' in query["sql"]]
    # Scope, readings, questions, people (facilitators and who came), passages, notes, their tags and mentions,
    # the summary's notes and whom they mention.
    assert len(captured) == 9, tables  # a GET opens no transaction (core/transactions.py): no SAVEPOINT, RELEASE


READ_ONCE = ("sessions_app_session", "readings_readingassignment", "readings_discussionquestion")
