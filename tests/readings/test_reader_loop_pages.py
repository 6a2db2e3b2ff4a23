"""The reading view with highlights, helpful marks, the remembered audience and the live poll's start."""

import re

import pytest
from django.urls import reverse

from readings.services.notes import note_create, note_mark_helpful
from sessions_app.models import StudyGroup

from .conftest import at

pytestmark = pytest.mark.django_db

WORDS = "(who were hungry for land)"


def span(passage, words: str = WORDS) -> dict:
    start = passage.body.index(words)
    return {"start": start, "end": start + len(words), "exact": words}


def read(client, user, session, query: str = "") -> str:
    client.force_login(user)
    response = client.get(reverse("session-read", args=[session.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


def card_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="note-card[^"]*" id="note-(\d+)"', page)]


def test_highlight_marks_the_words_without_a_card(client, world, essay, reading):
    passage = at(essay, 12)
    marked = note_create(author=world.member, passage=passage, highlight=True, selector=span(passage))

    page = read(client, world.member, world.session)

    assert card_ids(page) == []
    assert (
        f'<mark class="hl own hl-only" data-highlight-ids="{marked.pk}" data-own-highlights="{marked.pk}" '
        f'tabindex="0" role="button" title="Your highlight" '
        f'aria-label="(who were hungry for land): your highlight. Press to remove it.">{WORDS}</mark>'
    ) in page
    assert "1 note" not in page


def test_someone_elses_shared_highlight_shows_and_their_private_one_does_not(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    shared = note_create(author=member_b, passage=passage, highlight=True, visibility="group", selector=span(passage))
    other = at(essay, 13)
    note_create(author=member_b, passage=other, highlight=True, selector=span(other, other.body[:10]))

    page = read(client, world.member, world.session)

    assert f'<mark class="hl hl-only" data-highlight-ids="{shared.pk}">{WORDS}</mark>' in page
    assert page.count("hl-only") == 1


def test_words_under_a_note_and_a_highlight_lead_to_the_note(client, world, essay, reading):
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="Land.", selector=span(passage))
    marked = note_create(author=world.member, passage=passage, highlight=True, selector=span(passage))

    page = read(client, world.member, world.session)

    assert card_ids(page) == [note.pk]
    assert (
        f'<mark class="hl own multi" data-note-ids="{note.pk}" data-highlight-ids="{marked.pk}">{WORDS}</mark>'
    ) in page


def test_helpful_button_for_others_notes_and_a_count_on_ones_own(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    mine = note_create(author=world.member, passage=passage, body="Mine.", visibility="group")
    theirs = note_create(author=member_b, passage=passage, body="Theirs.", visibility="group")
    private = note_create(author=world.member, passage=passage, body="Private.", visibility="private")
    note_mark_helpful(note=mine, user=member_b)
    note_mark_helpful(note=theirs, user=world.member)
    note_mark_helpful(note=theirs, user=world.facilitator)

    page = read(client, world.member, world.session)

    card = {note_id: re.search(rf'id="note-{note_id}".*?</article>', page, re.S).group(0) for note_id in card_ids(page)}
    assert '<span class="helpful-count">1 found it helpful</span>' in card[mine.pk]
    assert (
        '<button type="button" class="link helpful" data-helpful aria-pressed="true">'
        'Helpful <span class="helpful-count" data-helpful-count>2</span></button>'
    ) in card[theirs.pk]
    assert "helpful" not in card[private.pk]


def test_replies_take_helpful_marks_too(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="Mine.", visibility="group")
    reply = note_create(author=member_b, passage=passage, body="An answer.", parent=note)
    own_reply = note_create(author=world.member, passage=passage, body="Thanks.", parent=reply)
    note_mark_helpful(note=reply, user=world.facilitator)
    note_mark_helpful(note=own_reply, user=member_b)

    page = read(client, world.member, world.session)

    theirs = re.search(rf'id="note-{reply.pk}".*?</li>', page, re.S).group(0)
    mine = re.search(rf'id="note-{own_reply.pk}".*?</li>', page, re.S).group(0)
    assert (
        '<button type="button" class="link helpful" data-helpful aria-pressed="false">'
        'Helpful <span class="helpful-count" data-helpful-count>1</span></button>'
    ) in theirs
    assert '<span class="helpful-count">1 found it helpful</span>' in mine


def test_notes_sort_by_helpful_on_request(client, world, essay, reading, member_b):
    passage = at(essay, 12)
    first, second, third = (
        note_create(author=member_b, passage=passage, body=f"Note {n}.", visibility="group") for n in range(3)
    )
    for who in (world.member, world.facilitator):
        note_mark_helpful(note=third, user=who)
    note_mark_helpful(note=second, user=world.member)

    by_time = read(client, world.member, world.session)
    by_helpful = read(client, world.member, world.session, "?sort=helpful")

    assert card_ids(by_time) == [first.pk, second.pk, third.pk]
    assert card_ids(by_helpful) == [third.pk, second.pk, first.pk]
    assert '<option value="helpful" selected>Most helpful first</option>' in by_helpful
    assert "?sort=helpful" in by_helpful  # the passages' fragments keep the order


def _checked_audience(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="visibility" value="(\w+)" checked>', page)


def test_note_form_starts_at_the_groups_default_then_at_the_last_audience_chosen(client, world, essay, reading):
    first = read(client, world.member, world.session)
    StudyGroup.objects.filter(pk=world.group.pk).update(default_note_visibility="private")
    after_setting = read(client, world.member, world.session)
    note_create(author=world.member, passage=at(essay, 12), body="For the leaders.", visibility="facilitators")
    after_choosing = read(client, world.member, world.session)

    assert _checked_audience(first) == ["group"]
    assert _checked_audience(after_setting) == ["private"]
    assert _checked_audience(after_choosing) == ["facilitators"]


def test_page_carries_where_and_how_often_to_poll(client, world, essay, reading, api, settings):
    settings.READER_POLL_SECONDS = 7
    page = read(client, world.member, world.session)
    poll = api(world.member).get(f"/api/v1/sessions/{world.session.pk}/notes/live/")

    version = re.search(r'data-live-version="(\w+)"', page).group(1)
    assert f'data-live-url="/api/v1/sessions/{world.session.pk}/notes/live/"' in page
    assert 'data-poll-seconds="7"' in page
    assert poll["ETag"] == f'"{version}"'
