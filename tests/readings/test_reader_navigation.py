"""Finding one's way in the reading view: questions numbered and linked, notes by one person, long texts in parts."""

import re

import pytest
from django.urls import reverse

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create
from readings.services.questions import question_create

from .conftest import at
from .test_reader_pages import ROW_ID, note_ids, read

pytestmark = pytest.mark.django_db


def test_questions_are_numbered_by_rank_among_accepted_ones_on_the_session_page_and_in_the_reader(
    client, world, essay, reading
):
    first = question_create(
        session=world.session, author=world.organizer, prompt="Why October?", passages=[at(essay, 12)]
    )
    question_create(session=world.session, author=world.member, prompt="A proposal", propose=True)
    second = question_create(session=world.session, author=world.organizer, prompt="What holds the alliance?")

    client.force_login(world.organizer)
    session_page = client.get(reverse("session-detail", args=[world.session.pk])).content.decode()
    numbered = re.findall(r'<span class="question-number">(\d+)\.</span> ([^<]+)</p>', session_page)
    assert numbered == [("1", "Why October?"), ("2", "What holds the alliance?")]  # the proposal has no number
    assert "A proposal" in session_page

    reader = read(client, world.member, world.session).content.decode()
    panel = reader[
        reader.index('class="questions-panel"') : reader.index("</section>", reader.index("questions-panel"))
    ]
    assert re.findall(r'<li id="question-(\d+)"', panel) == [str(first.pk), str(second.pk)]
    assert re.findall(r'<span class="question-number">(\d+)\.</span>', panel) == ["1", "2"]
    assert '<a href="#p-12" aria-label="passage 12">§12</a>' in panel
    assert "A proposal" not in panel


def test_notes_filtered_by_the_person_who_wrote_them(client, world, essay, reading):
    passage = at(essay, 12)
    mine = note_create(author=world.member, passage=passage, body="mine", visibility="group")
    theirs = note_create(author=world.facilitator, passage=passage, body="theirs", visibility="group")
    note_create(author=world.member, passage=passage, body="reply", parent=theirs)

    everyone = read(client, world.member, world.session)
    only_them = read(client, world.member, world.session, f"?author={world.facilitator.pk}")
    nonsense = read(client, world.member, world.session, "?author=x1")

    assert note_ids(everyone) == [mine.pk, theirs.pk]
    assert note_ids(only_them) == [theirs.pk]  # with its thread
    assert note_ids(nonsense) == [mine.pk, theirs.pk]
    page = only_them.content.decode()
    assert f'<option value="{world.facilitator.pk}" selected>{world.facilitator.name}</option>' in page
    assert f'<option value="{world.member.pk}">You</option>' in page
    assert f"written by {world.facilitator.name}." in page
    assert re.findall(r'data-fragment-url="([^"]+)"', page)[0].endswith(f"?author={world.facilitator.pk}")


def long_reading(world, passages: int, *, words: int = 12):
    """A text of `passages` paragraphs (a heading every 100) assigned whole to the world's session."""
    parts = []
    for n in range(1, passages + 1):
        if n % 100 == 1:
            parts.append(f"Chapter {n // 100 + 1}")
        else:
            parts.append(f"Paragraph {n}: " + " ".join(["proletariat and peasantry"] * (words // 3)) + ".")
    text = text_import(group=world.group, created_by=world.organizer, content="\n\n".join(parts), title="Long")
    rows = list(text.passages.filter(retired=False).order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=rows[0], end_passage=rows[-1])
    return text


def test_a_long_reading_is_served_in_parts_whose_size_does_not_grow_with_the_text(client, world, settings):
    settings.READER_PAGE_PASSAGES = 50
    long_reading(world, 120)
    small = read(client, world.member, world.session).content
    world.session.readings.all().delete()
    long_reading(world, 480)
    large = read(client, world.member, world.session).content

    assert len(ROW_ID.findall(small.decode())) == len(ROW_ID.findall(large.decode())) == 50
    assert len(large) < len(small) * 1.25  # 4× the passages, about the same page
    page = large.decode()
    assert "part 1 of 10" in page
    assert 'href="?page=2" rel="next">Passages §51–§100 →</a>' in page
    # The contents list every chapter of the text, on whichever part it is.
    assert re.findall(r'<li><a href="([^"]+)"><span class="muted">§\d+</span> Chapter', page)[:3] == [
        "#p-1",
        "?page=3#p-101",
        "?page=5#p-201",
    ]


def test_a_link_to_a_passage_on_another_part_opens_that_part(client, world, settings):
    settings.READER_PAGE_PASSAGES = 50
    long_reading(world, 200)

    by_id = read(client, world.member, world.session, "?at=p-130").content.decode()
    by_number = read(client, world.member, world.session, "?at=130").content.decode()
    unknown = read(client, world.member, world.session, "?at=p-9999").content.decode()

    for page in (by_id, by_number):
        ids = [row_id for row_id, _ in ROW_ID.findall(page)]
        assert (ids[0], ids[-1], "p-130" in ids) == ("p-101", "p-150", True)
        assert "part 3 of 4" in page
    assert ROW_ID.findall(unknown)[0][0] == "p-1"


@pytest.mark.slow
def test_two_thousand_passages_come_as_at_most_two_megabytes_of_html_per_page(client, world):
    long_reading(world, 2000, words=60)  # about 400 characters a passage

    response = read(client, world.member, world.session)

    assert response.status_code == 200
    assert len(response.content) <= 2_000_000
    assert "part 1 of 7" in response.content.decode()
