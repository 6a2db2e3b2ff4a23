"""The reading view (/sessions/<id>/read/) and its fragments, rendered on the server."""

import html
import re
from unittest import mock

import pytest
from django.urls import reverse

from readings.enums import AnchorState
from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create, note_delete, note_mark_helpful, note_set_hidden
from sessions_app.enums import SessionStatus
from sessions_app.models import Session

from ..factories import MembershipFactory, SessionFactory, UserFactory
from .conftest import at

pytestmark = pytest.mark.django_db

BODY = re.compile(r'<(?:p|h3) class="passage-body" data-passage-body>(.*?)</(?:p|h3)>', re.S)
ROW_ID = re.compile(r'<div class="passage-row kind-\w+" id="([^"]+)" data-passage-id="(\d+)"')


def read(client, user, session, query: str = ""):
    client.force_login(user)
    return client.get(reverse("session-read", args=[session.pk]) + query)


def bodies(response) -> list[str]:
    """The passage bodies' inner HTML, in page order."""
    return BODY.findall(response.content.decode())


def plain(inner_html: str) -> str:
    """What the browser's DOM text of a passage body is: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", inner_html))


def note_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="note-card[^"]*" id="note-(\d+)"', response.content.decode())]


def marks(response) -> list[tuple[str, str, str]]:
    """(classes, note ids, words) of every highlight on the page."""
    return re.findall(r'<mark class="(hl[^"]*)" data-note-ids="([^"]*)">(.*?)</mark>', response.content.decode())


def span(passage, words: str) -> dict:
    start = passage.body.index(words)
    return {"start": start, "end": start + len(words), "exact": words}


# --- The page -------------------------------------------------------------------------------------


def test_page_shows_each_passage_with_its_number_and_deep_link(client, world, essay, reading):
    response = read(client, world.member, world.session)

    page = response.content.decode()
    rows = ROW_ID.findall(page)
    assert response.status_code == 200
    assert [row_id for row_id, _ in rows] == [f"p-{n}" for n in range(10, 26)]
    assert [int(pk) for _, pk in rows] == [at(essay, n).pk for n in range(10, 26)]
    assert re.findall(r'<a class="passage-num" href="(#p-\d+)"', page) == [f"#p-{n}" for n in range(10, 26)]
    assert f'<h2 id="reading-{reading.pk}" class="text-title">The October revolution and the bolsheviks</h2>' in page
    assert "§10–§25" in page
    assert page.count('data-add-note aria-haspopup="dialog"') == 16


def test_passage_body_elements_hold_exactly_the_passage_text(client, world, essay, reading):
    """reader.js counts offsets in the body element's text, so it must be Passage.body, nothing added."""
    passage = at(essay, 12)
    note_create(
        author=world.member,
        passage=passage,
        body="On land.",
        visibility="group",
        selector=span(passage, "(who were hungry for land)"),
    )

    response = read(client, world.member, world.session)

    assert [plain(inner) for inner in bodies(response)] == [at(essay, n).body for n in range(10, 26)]


def test_heading_passages_render_as_headings(client, world, essay):
    session = world.session
    assignment_create(session=session, text=essay, start_passage=at(essay, 17), end_passage=at(essay, 19))

    page = read(client, world.member, session).content.decode()

    assert '<h3 class="passage-body" data-passage-body>a) Proletarian Dictatorship</h3>' in page


def test_highlights_wrap_code_point_spans_after_curly_quotes_and_emoji(client, world):
    """Selectors count code points: the emoji and the 𝔄 are one index each (two UTF-16 units in the browser)."""
    text = text_import(group=world.group, created_by=None, content="Title\n\n🙂 The “dictatorship” of 𝔄 the ‘people’.")
    passage = text.passages.get(position=2)
    assignment_create(session=world.session, text=text, start_passage=passage, end_passage=passage)
    assert (passage.body.index("dictatorship"), passage.body.index("‘people’")) == (7, 30)
    first = note_create(
        author=world.member, passage=passage, body="x", visibility="group", selector=span(passage, "dictatorship")
    )
    second = note_create(
        author=world.facilitator,
        passage=passage,
        body="y",
        visibility="group",
        selector={"start": 30, "end": 38, "exact": "‘people’"},
    )

    response = read(client, world.member, world.session)

    assert bodies(response) == [
        f'🙂 The “<mark class="hl own" data-note-ids="{first.pk}">dictatorship</mark>” of 𝔄 the '
        f'<mark class="hl" data-note-ids="{second.pk}">‘people’</mark>.'
    ]


def test_overlapping_highlights_are_cut_into_segments(client, world, essay, reading):
    passage = at(essay, 12)
    wide = note_create(
        author=world.facilitator,
        passage=passage,
        body="wide",
        visibility="group",
        selector=span(passage, "poor peasants (who were hungry for land)"),
    )
    narrow = note_create(
        author=world.member, passage=passage, body="narrow", visibility="group", selector=span(passage, "who were")
    )

    response = read(client, world.member, world.session)

    assert marks(response) == [
        ("hl", str(wide.pk), "poor peasants ("),
        ("hl multi", f"{wide.pk} {narrow.pk}", "who were"),
        ("hl", str(wide.pk), " hungry for land)"),
    ]


def test_private_note_of_another_member_never_appears(client, world, essay, reading, member_b):
    passage = at(essay, 13)
    secret = note_create(
        author=member_b,
        passage=passage,
        body="My secret musing about the kulaks.",
        visibility="private",
        selector=span(passage, "weak Russian bourgeoisie"),
    )

    for viewer in (world.member, world.facilitator, world.organizer):
        response = read(client, viewer, world.session)
        page = response.content.decode()
        assert (response.status_code, note_ids(response), marks(response)) == (200, [], [])
        assert "secret musing" not in page
        assert f"note-{secret.pk}" not in page
        assert page.count("weak Russian bourgeoisie") == 1  # the passage text itself, unmarked

    own = read(client, member_b, world.session)
    assert (note_ids(own), marks(own)) == (
        [secret.pk],
        [("hl own", str(secret.pk), "weak Russian bourgeoisie")],
    )
    assert '<span class="badge vis-private">Only me</span>' in own.content.decode()


def test_facilitators_notes_reach_facilitators_only(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="For the leads.", visibility="facilitators")
    other = UserFactory(username="other_member")
    MembershipFactory(group=world.group, user=other)

    assert note_ids(read(client, world.facilitator, world.session)) == [note.pk]
    assert note_ids(read(client, world.organizer, world.session)) == [note.pk]
    assert note_ids(read(client, other, world.session)) == []


def test_hidden_note_shows_to_its_author_marked_and_to_no_other_member(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="Off topic.", visibility="group")
    note_set_hidden(note=note, hidden=True, by=world.organizer)

    own = read(client, world.member, world.session).content.decode()

    assert f'<article class="note-card own is-hidden" id="note-{note.pk}"' in own
    assert "Hidden by an organizer</span>" in own
    assert note_ids(read(client, world.facilitator, world.session)) == []


def reply_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="reply[^"]*" id="note-(\d+)"', response.content.decode())]


def test_replies_to_a_hidden_note_never_stand_alone_on_the_page(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    hidden = note_create(author=member_b, passage=passage, body="Off topic.", visibility="group")
    reply = note_create(author=world.member, passage=passage, body="Indeed.", parent=hidden)
    deeper = note_create(author=world.facilitator, passage=passage, body="Quite.", parent=reply)
    note_set_hidden(note=hidden, hidden=True, by=world.organizer)

    for user in (world.member, world.facilitator):
        page = read(client, user, world.session)
        assert (note_ids(page), reply_ids(page)) == ([], [])
        assert "Indeed." not in page.content.decode()
    for user in (member_b, world.organizer):
        page = read(client, user, world.session)
        assert (note_ids(page), reply_ids(page)) == ([hidden.pk], [reply.pk, deeper.pk])


def test_note_card_shows_quote_body_author_audience_tags_question_and_replies(client, world, essay, reading):
    from readings.services.questions import question_create

    passage = at(essay, 12)
    question = question_create(session=world.session, author=world.organizer, prompt="Who held the alliance?")
    note = note_create(
        author=world.facilitator,
        passage=passage,
        body="*Land* and peace.",
        visibility="group",
        selector=span(passage, "hungry for peace"),
        question=question,
        tags=["peasants", "war"],
    )
    reply = note_create(author=world.member, passage=passage, body="Agreed.", parent=note)

    page = read(client, world.member, world.session).content.decode()
    card = page[page.index(f'id="note-{note.pk}"') : page.index("</article>", page.index(f'id="note-{note.pk}"'))]

    assert '<blockquote class="quote">hungry for peace</blockquote>' in card
    assert '<div class="note-body"><p><em>Land</em> and peace.</p></div>' in card
    assert '<span class="author">Facilitator</span>' in card
    assert '<span class="badge vis-group">The group</span>' in card
    assert re.findall(r'<a href="\?tag=(\w+)">#\w+</a>', card) == ["peasants", "war"]
    assert f'Answers <a href="#question-{question.pk}">question 1</a>: <span>Who held the alliance?</span>' in card
    assert '<a href="#p-12" class="passage-ref" aria-label="Passage 12">§12</a>' in card  # where it is
    assert f'<li class="reply own" id="note-{reply.pk}"' in card
    assert re.findall(r"data-(edit|delete)\b", card) == ["edit", "delete"]  # the reply is mine; the note is not


def test_deleted_note_with_replies_reads_deleted(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(
        author=world.member,
        passage=passage,
        body="Gone soon.",
        visibility="group",
        selector=span(passage, "hungry for peace"),
    )
    note_create(author=world.facilitator, passage=passage, body="A reply stays.", parent=note)
    note_delete(note=Note.objects.get(pk=note.pk))

    response = read(client, world.member, world.session)
    page = response.content.decode()

    assert marks(response) == []
    assert f'<article class="note-card own is-deleted" id="note-{note.pk}"' in page
    assert '<p class="deleted-note">(deleted)</p>' in page
    assert "A reply stays." in page
    assert "Gone soon." not in page


# --- Filters, orphans, "post before you peek" -------------------------------------------------------


@pytest.fixture
def assorted(world, essay, reading):
    passage = at(essay, 12)
    return {
        "private": note_create(author=world.member, passage=passage, body="p", visibility="private", tags=["land"]),
        "group": note_create(author=world.member, passage=passage, body="g", visibility="group", tags=["land", "war"]),
        "group_war": note_create(author=world.facilitator, passage=passage, body="w", visibility="group", tags=["war"]),
        "facilitators": note_create(author=world.member, passage=passage, body="f", visibility="facilitators"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["private", "group", "group_war", "facilitators"]),
        ("?visibility=group", ["group", "group_war"]),
        ("?visibility=private", ["private"]),
        ("?tag=land", ["private", "group"]),
        ("?tag=%23War", ["group", "group_war"]),
        ("?visibility=group&tag=land", ["group"]),
        ("?visibility=nonsense", ["private", "group", "group_war", "facilitators"]),
    ],
)
def test_filter_by_visibility_and_tag(client, world, assorted, query, expected):
    response = read(client, world.member, world.session, query)

    assert note_ids(response) == [assorted[name].pk for name in expected]


def test_filter_keeps_choices_and_offers_the_visible_tags(client, world, assorted):
    page = read(client, world.member, world.session, "?visibility=group&tag=war").content.decode()

    assert re.findall(r'<option value="(\w*)"( selected)?>#', page) == [("land", ""), ("war", " selected")]
    assert '<option value="group" selected>The group</option>' in page
    assert "Showing 2 notes" in page
    assert re.findall(r'data-fragment-url="([^"]+)"', page)[0].endswith("?visibility=group&amp;tag=war")


def test_orphaned_notes_are_listed_apart_with_their_candidates(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(
        author=world.member,
        passage=passage,
        body="Lost.",
        visibility="group",
        selector=span(passage, "hungry for peace"),
    )
    target = at(essay, 13)
    start = target.body.index("weak Russian")
    Note.objects.filter(pk=note.pk).update(
        anchor_state=AnchorState.ORPHANED,
        selector={"start": 0, "end": 12, "exact": "weak Russian", "prefix": "", "suffix": ""},
        candidates=[{"passage": target.pk, "anchor": target.anchor, "position": 13, "start": start, "end": start + 12}],
    )

    response = read(client, world.member, world.session)
    page = response.content.decode()
    orphans = page[page.index('<section class="orphans"') :]

    assert marks(response) == []
    assert note_ids(response) == [note.pk]  # once: in the orphans section, not beside passage 12
    assert '<h2 id="orphans-heading">Notes whose words changed</h2>' in orphans
    assert '<blockquote class="quote">weak Russian</blockquote>' in orphans
    assert '<a href="#p-13" class="candidate-place">§13</a>' in orphans
    before, after = target.body[start - 40 : start], target.body[start + 12 : start + 52]
    assert f'<span class="candidate-context">…{before}<mark class="hl">weak Russian</mark>{after}…</span>' in orphans
    assert (
        f'data-reattach data-note-id="{note.pk}" data-passage="{target.pk}" data-start="{start}" '
        f'data-end="{start + 12}" data-exact="weak Russian"'
    ) in orphans
    assert "data-reattach" not in read(client, world.facilitator, world.session).content.decode()


def test_no_orphans_section_content_without_orphans(client, world, essay, reading):
    page = read(client, world.member, world.session).content.decode()

    assert '<section class="orphans" id="orphans"' in page
    assert "Notes whose words changed" not in page


def test_post_before_peek_says_why_the_group_notes_are_missing(client, world, essay, reading, member_b):
    Session.objects.filter(pk=world.session.pk).update(post_before_peek=True)
    passage = at(essay, 12)
    theirs = note_create(author=member_b, passage=passage, body="Theirs.", visibility="group")
    message = '<p class="peek-note">Write your own note on this passage to see the group\'s.</p>'

    before = read(client, world.member, world.session)
    assert note_ids(before) == []
    assert before.content.decode().count(message) == 1
    assert f'<div class="passage-notes" id="notes-{passage.pk}"' in before.content.decode()

    mine = note_create(author=world.member, passage=passage, body="Mine.", visibility="private")
    after = read(client, world.member, world.session)
    assert note_ids(after) == [theirs.pk, mine.pk]
    assert message not in after.content.decode()

    facilitator = read(client, world.facilitator, world.session)
    assert (note_ids(facilitator), message in facilitator.content.decode()) == ([theirs.pk], False)


# --- Access ---------------------------------------------------------------------------------------


def test_outsider_gets_404_and_anonymous_goes_to_log_in(client, world, essay, reading):
    url = reverse("session-read", args=[world.session.pk])

    anonymous = client.get(url)
    client.force_login(world.outsider)
    outsider = client.get(url)
    fragment = client.get(reverse("reader-passage", args=[world.session.pk, at(essay, 12).pk]))
    orphans = client.get(reverse("reader-orphans", args=[world.session.pk]))

    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/accounts/login/?next={url}")
    assert (outsider.status_code, fragment.status_code, orphans.status_code) == (404, 404, 404)


def test_draft_session_is_404_for_members(client, world, essay):
    draft = SessionFactory(group=world.group, status=SessionStatus.DRAFT)

    assert read(client, world.member, draft).status_code == 404
    assert read(client, world.organizer, draft).status_code == 200


def test_session_without_readings_says_what_happens_next(client, world):
    page = read(client, world.member, world.session).content.decode()

    assert "Nothing to read yet." in page
    assert 'id="note-form"' not in page


def test_several_texts_get_text_qualified_ids(client, world, essay, reading):
    other = text_import(group=world.group, created_by=None, content="Second\n\nOne.\n\nTwo.")
    assignment_create(
        session=world.session,
        text=other,
        start_passage=other.passages.get(position=2),
        end_passage=other.passages.get(position=3),
    )

    rows = ROW_ID.findall(read(client, world.member, world.session).content.decode())

    assert [row_id for row_id, _ in rows] == [
        *(f"t{essay.pk}-p-{n}" for n in range(10, 26)),
        f"t{other.pk}-p-2",
        f"t{other.pk}-p-3",
    ]


# --- Fragments ------------------------------------------------------------------------------------


def test_passage_fragment_is_the_row_with_its_notes(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(
        author=world.member,
        passage=passage,
        body="Fresh.",
        visibility="group",
        selector=span(passage, "hungry for peace"),
    )
    client.force_login(world.member)

    response = client.get(reverse("reader-passage", args=[world.session.pk, passage.pk]) + "?visibility=group")
    fragment = response.content.decode()

    assert response.status_code == 200
    assert fragment.lstrip().startswith(
        f'<div class="passage-row kind-paragraph" id="p-12" data-passage-id="{passage.pk}" data-position="12" '
        f'data-words="{passage.word_count}" '
        f'data-fragment-url="/sessions/{world.session.pk}/read/passages/{passage.pk}/?visibility=group">'
    )
    assert "<html" not in fragment
    assert note_ids(response) == [note.pk]
    assert marks(response) == [("hl own", str(note.pk), "hungry for peace")]


def test_passage_fragment_outside_the_reading_is_404(client, world, essay, reading):
    client.force_login(world.member)

    response = client.get(reverse("reader-passage", args=[world.session.pk, at(essay, 30).pk]))

    assert response.status_code == 404


def test_orphans_fragment_is_the_section_alone(client, world, essay, reading):
    client.force_login(world.member)

    response = client.get(reverse("reader-orphans", args=[world.session.pk]))

    assert response.status_code == 200
    assert response.content.decode().strip() == (
        f'<section class="orphans" id="orphans" data-fragment-url="/sessions/{world.session.pk}/read/orphans/" '
        'aria-labelledby="orphans-heading" hidden>\n  \n</section>'
    )


# --- Cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("passages", "notes"), [(5, 10), (50, 100)])
def test_page_queries_do_not_grow_with_passages_and_notes(
    client, world, member_b, django_assert_num_queries, passages, notes
):
    content = "Title\n\n" + "\n\n".join(f"Paragraph {n} has “quoted” words, number {n}." for n in range(passages))
    text = text_import(group=world.group, created_by=None, content=content)
    rows = list(text.passages.filter(position__gte=2).order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=rows[0], end_passage=rows[-1])
    Session.objects.filter(pk=world.session.pk).update(post_before_peek=True)
    authors = [world.member, member_b, world.facilitator]
    for n in range(notes):
        passage = rows[n % len(rows)]
        note = note_create(
            author=authors[n % 3],
            passage=passage,
            body=f"Note {n} for @organizer" if n % 2 else f"Note {n}",
            visibility=["group", "private", "facilitators"][n % 3],
            selector=span(passage, "quoted") if n % 2 else None,
            tags=[f"tag{n % 4}"],
        )
        if n % 5 == 0:
            note_create(author=world.facilitator, passage=passage, body="reply", parent=note)
        if note.visibility == "group" and note.author_id != world.member.pk:
            note_mark_helpful(note=note, user=world.member)
        if n % 4 == 0:
            note_create(author=authors[n % 3], passage=passage, highlight=True, selector=span(passage, "words"))
    client.force_login(world.member)
    url = reverse("session-read", args=[world.session.pk])

    # The live poll's starting version is the pack's version: read from rows already loaded, no query.
    # Notifications add three: the bell's unread count (memberships, count) and the members @mention offers.
    # The progress bar adds four (the readings, their passages, what was read, the visit).
    # The notes' tags and whom they mention (with their names) are one query. A GET opens no transaction.
    with django_assert_num_queries(18):
        response = client.get(url)

    assert response.status_code == 200
    assert len(ROW_ID.findall(response.content.decode())) == passages


def test_replies_nest_under_the_reply_they_answer_and_each_can_be_answered(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    note = note_create(author=member_b, passage=passage, body="A claim.", visibility="group")
    answer = note_create(author=world.facilitator, passage=passage, body="An answer.", parent=note)
    deeper = note_create(author=world.member, passage=passage, body="To the answer.", parent=answer)
    later = note_create(author=world.organizer, passage=passage, body="To the claim.", parent=note)

    page = read(client, world.member, world.session).content.decode()

    item = re.compile(r'<li class="reply[^"]*" id="note-(\d+)" data-note-id="\d+" data-reply-of="(\d+)"')
    assert item.findall(page) == [
        (str(answer.pk), str(note.pk)),
        (str(deeper.pk), str(answer.pk)),
        (str(later.pk), str(note.pk)),
    ]
    # The answer's own list of replies holds the reply to it, indented under it, before the answer's item ends.
    inside_answer = page[page.index(f'id="note-{answer.pk}"') : page.index(f'id="note-{later.pk}"')]
    assert '<ol class="replies" aria-label="Replies to this reply">' in inside_answer
    assert f'id="note-{deeper.pk}"' in inside_answer
    assert re.findall(r'data-reply aria-haspopup="dialog" aria-controls="note-form" aria-label="([^"]+)"', page) == [
        "Reply to Facilitator’s reply",
        "Reply to your reply",
        "Reply to Organizer’s reply",
    ]
    # The passage counts the whole thread.
    assert f'<a class="note-count" href="#notes-{passage.pk}">4 notes</a>' in page


def rendering_work(client, url) -> tuple[int, int]:
    """(template nodes rendered, templates rendered, the page and each include) for one GET of `url`."""
    from django.template import base

    rendered = 0
    render_annotated = base.Node.render_annotated

    def counting(node, context):
        nonlocal rendered
        rendered += 1
        return render_annotated(node, context)

    with mock.patch.object(base.Node, "render_annotated", counting):
        response = client.get(url)
    assert response.status_code == 200
    return rendered, len(response.templates)


def test_page_rendering_work_grows_by_a_few_nodes_and_one_include_per_note(client, world, essay, reading, member_b):
    """A page may show hundreds of notes: each costs the same small number of template nodes and one include.

    Counts, not times (they cannot flake). With a note on each of five passages already, 15 notes more cost
    three times what 5 more cost, so nothing on the page grows faster than its notes; and a note renders at
    most NODES_PER_NOTE nodes (its card's display strings come from `NoteCard`, its time formatted in the view).
    """
    passages = [at(essay, position) for position in (11, 12, 13, 14, 15)]
    client.force_login(world.member)
    url = reverse("session-read", args=[world.session.pk])

    def add_notes(count: int) -> tuple[int, int]:
        for n in range(count):
            passage = passages[n % len(passages)]
            note_create(author=member_b, passage=passage, body=f"Note {n}", selector=span(passage, passage.body[:12]))
        return rendering_work(client, url)

    (nodes_5, templates_5), (nodes_10, templates_10), (nodes_25, templates_25) = (
        add_notes(5),
        add_notes(5),
        add_notes(15),
    )

    assert (templates_10 - templates_5, templates_25 - templates_10) == (5, 15)  # note.html, once for each
    assert nodes_25 - nodes_10 == 3 * (nodes_10 - nodes_5)
    assert (nodes_10 - nodes_5) / 5 == NODES_PER_NOTE


# Template nodes one more note card renders (pages/reader/note.html and its include): 32 since the card's
# strings come from `NoteCard` and its time is formatted in the view, 36 before. A page of 120 notes spent
# most of its rendering time in them.
NODES_PER_NOTE = 32
