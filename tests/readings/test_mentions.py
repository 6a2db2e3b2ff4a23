"""Mentions are shown by the member's current display name wherever a note is shown, and stay inert."""

import io
import zipfile

import pytest
from django.urls import reverse
from markdown_it import MarkdownIt

from readings.brief import facilitator_brief
from readings.mentions import html_with_mention_names, text_with_mention_names
from readings.pack.note_blocks import note_blocks
from readings.services.notes import note_create, note_mark_helpful
from readings.services.questions import question_create
from readings.summary import session_summary
from sessions_app.selectors import membership_for
from sessions_app.services.accounts import profile_update

from ..factories import MembershipFactory
from .conftest import at, pack_response

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "Ada <script>alert('x')</script> **bold** # [link](javascript:alert(1))"


@pytest.fixture
def ada(world):
    return MembershipFactory(group=world.group, user__username="ada", user__display_name="Ada Lovelace").user


@pytest.fixture
def mentioning(world, essay, reading, ada):
    return note_create(
        author=world.member,
        passage=at(essay, 12),
        body="Ask @ada about this, or mail ada@example.org.",
        visibility="group",
    )


def reader_page(client, user, world) -> str:
    client.force_login(user)
    response = client.get(reverse("session-read", args=[world.session.pk]))
    assert response.status_code == 200
    return response.content.decode()


SPAN = '<span class="mention" title="@ada">@{}</span>'


def test_html_shows_each_mention_by_name_and_leaves_code_attributes_and_addresses_alone():
    names = {"ada": "Ada Lovelace"}
    html = (
        '<p>Hi @Ada, see <a href="http://x.org/@ada" title="@ada">@ada\'s page</a> and <code>@ada</code>; '
        "mail ada@x.org; @adam and @bob stay.</p><pre><code>@ada\n</code></pre><p>Thanks, @ada.</p>"
    )

    assert html_with_mention_names(html, names) == (
        '<p>Hi <span class="mention" title="@Ada">@Ada Lovelace</span>, see <a href="http://x.org/@ada" '
        f'title="@ada">{SPAN.format("Ada Lovelace")}\'s page</a> and <code>@ada</code>; '
        "mail ada@x.org; @adam and @bob stay.</p><pre><code>@ada\n</code></pre>"
        f"<p>Thanks, {SPAN.format('Ada Lovelace')}.</p>"
    )


def test_a_display_name_is_only_ever_text():
    shown = html_with_mention_names("<p>@ada</p>", {"ada": HOSTILE_NAME})

    assert shown == (
        '<p><span class="mention" title="@ada">@Ada &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; **bold** # '
        "[link](javascript:alert(1))</span></p>"
    )
    assert text_with_mention_names("Thanks, @ada.", {"ada": "Ada Lovelace"}) == "Thanks, @Ada Lovelace."


def test_reader_shows_the_members_current_name_and_follows_a_rename(client, world, mentioning, ada):
    assert SPAN.format("Ada Lovelace") + " about this, or mail ada@example.org." in reader_page(
        client, world.member, world
    )

    profile_update(user=ada, display_name="Countess of Lovelace")

    page = reader_page(client, world.facilitator, world)
    assert SPAN.format("Countess of Lovelace") + " about this" in page
    assert "Ada Lovelace" not in page


def test_a_hostile_display_name_is_escaped_in_the_reader(client, world, mentioning, ada):
    profile_update(user=ada, display_name=HOSTILE_NAME)

    page = reader_page(client, world.member, world)

    assert "<script>alert('x')" not in page
    assert '<span class="mention" title="@ada">@Ada &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;' in page


def test_reply_and_session_page_answers_show_names(client, world, essay, reading, ada):
    question = question_create(session=world.session, author=world.organizer, prompt="Why?", passages=[at(essay, 12)])
    root = note_create(author=world.member, passage=at(essay, 12), body="Root", visibility="group")
    note_create(author=world.facilitator, passage=at(essay, 12), body="Yes @ada, agreed", parent=root)
    note_create(
        author=world.member, passage=at(essay, 13), body="Per @ada: land.", visibility="group", question=question
    )
    profile_update(user=ada, display_name="Ada L.")

    assert f"Yes {SPAN.format('Ada L.')}, agreed" in reader_page(client, world.member, world)
    client.force_login(world.facilitator)  # the answers are the facilitators' overview
    session_page = client.get(reverse("session-detail", args=[world.session.pk])).content.decode()
    assert f"Per {SPAN.format('Ada L.')}: land." in session_page


def test_notifications_list_shows_the_note_with_names(client, world, mentioning, ada):
    profile_update(user=ada, display_name="Ada <b>L</b>")
    client.force_login(ada)

    page = client.get(reverse("notifications")).content.decode()

    assert '<p class="notification-body">Ask @Ada &lt;b&gt;L&lt;/b&gt; about this, or mail ada@example.org.</p>' in page


def test_every_pack_format_shows_the_name_now_and_nothing_active(world, api, mentioning, ada):
    profile_update(user=ada, display_name=HOSTILE_NAME)

    pack = pack_response(api, world.member, world).json()
    [note] = [n for p in pack["readings"][0]["passages"] for n in p["notes"] if n["id"] == mentioning.pk]
    assert note["mentions"] == [{"id": ada.pk, "username": "ada", "name": HOSTILE_NAME}]
    assert note["body"] == "Ask @ada about this, or mail ada@example.org."
    assert note["body_html"] == (
        '<p>Ask <span class="mention" title="@ada">@Ada &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; **bold** # '
        "[link](javascript:alert(1))</span> about this, or mail ada@example.org.</p>"
    )
    assert note_blocks(note["body_html"]) == [
        {"type": "paragraph", "runs": [{"text": f"Ask @{HOSTILE_NAME} about this, or mail ada@example.org."}]}
    ]

    markdown = pack_response(api, world.member, world, "md").content.decode()
    [line] = [line for line in markdown.splitlines() if "about this" in line]
    assert line == (
        r"- **[1]** Ask @Ada \<script\>alert('x')\</script\> \*\*bold\*\* \# \[link\](javascript:alert(1)) about this, "
        "or mail ada@example.org. — *Member*"
    )
    # Read back as Markdown, the name is words: no HTML, no emphasis, no link.
    tokens = MarkdownIt("commonmark").parseInline(line[len("- **[1]** ") : line.index(" — ")])[0].children
    assert {token.type for token in tokens} == {"text"}

    html = pack_response(api, world.member, world, "html").content.decode()
    assert '<span class="mention" title="@ada">@Ada &lt;script&gt;' in html
    assert "<script>alert('x')" not in html

    book = zipfile.ZipFile(io.BytesIO(pack_response(api, world.member, world, "epub").content))
    notes = "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xhtml"))
    assert '<span class="mention" title="@ada">@Ada &lt;script&gt;' in notes
    assert "<script>alert('x')" not in notes


def test_markdown_pack_writes_the_name_for_notes_with_and_without_markup(world, api, essay, reading, ada):
    note_create(author=world.member, passage=at(essay, 12), body="Plain: thanks @ada", visibility="group")
    note_create(author=world.member, passage=at(essay, 13), body="*Marked*: thanks @ada", visibility="group")
    profile_update(user=ada, display_name="Ada *L*")

    markdown = pack_response(api, world.member, world, "md").content.decode()

    assert r"Plain: thanks @Ada \*L\*" in markdown
    assert r"*Marked*: thanks @Ada \*L\*" in markdown
    assert "@ada" not in markdown


def test_the_facilitators_brief_shows_names_in_answers_and_top_notes(world, essay, reading, ada, member_b):
    question = question_create(session=world.session, author=world.organizer, prompt="Why?", passages=[at(essay, 12)])
    answer = note_create(
        author=world.member, passage=at(essay, 12), body="As @ada says.", visibility="group", question=question
    )
    note_create(author=member_b, passage=at(essay, 12), body="Agreed.", parent=answer)
    note_mark_helpful(note=answer, user=member_b)
    profile_update(user=ada, display_name="Ada <i>L</i>")

    brief = facilitator_brief(world.facilitator, membership_for(world.facilitator, world.group.pk), world.session)

    shown = '<p>As <span class="mention" title="@ada">@Ada &lt;i&gt;L&lt;/i&gt;</span> says.</p>'
    assert [note["body_html"] for note in brief["questions"][0]["answers"]] == [shown]
    assert [note["body_html"] for note in brief["most_helpful"]] == [shown]
    assert [note["body_html"] for note in brief["most_replied"]] == [shown]


def test_a_rename_gives_the_pack_a_new_version_and_the_cached_markdown_the_new_name(world, api, mentioning, ada):
    first = pack_response(api, world.member, world, "md")
    assert "Ask @Ada Lovelace about this" in first.content.decode()

    profile_update(user=ada, display_name="Countess of Lovelace")

    second = pack_response(api, world.member, world, "md")
    assert second["ETag"] != first["ETag"]
    assert "Ask @Countess of Lovelace about this" in second.content.decode()


def test_the_notes_api_renders_mentions_by_name_too(world, api, mentioning, ada):
    profile_update(user=ada, display_name="Ada <L>")

    note = api(world.member).get(f"/api/v1/notes/{mentioning.pk}/").json()

    assert note["body"] == "Ask @ada about this, or mail ada@example.org."
    assert note["body_html"] == (
        '<p>Ask <span class="mention" title="@ada">@Ada &lt;L&gt;</span> about this, or mail ada@example.org.</p>'
    )
    assert note["mentions"] == [{"id": ada.pk, "name": "Ada <L>", "notified": True}]


def test_the_after_session_summary_shows_names_in_answers(world, essay, reading, ada):
    question = question_create(session=world.session, author=world.organizer, prompt="Why?", passages=[at(essay, 12)])
    note_create(author=world.member, passage=at(essay, 12), body="As @ada says.", visibility="group", question=question)
    profile_update(user=ada, display_name="Ada L.")

    summary = session_summary(world.member, membership_for(world.member, world.group.pk), world.session)

    [row] = summary["questions"]
    assert [answer["body_html"] for answer in row["answers"]] == [
        '<p>As <span class="mention" title="@ada">@Ada L.</span> says.</p>'
    ]
