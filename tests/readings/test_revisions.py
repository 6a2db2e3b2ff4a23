"""Re-importing a text: passages keep their rows and anchors through real edits."""

from pathlib import Path

import pytest

from readings.matching import match_revision
from readings.models import Passage, Text
from readings.services.importing import text_import, text_revise

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"
ORIGINAL = SAMPLE.read_text(encoding="utf-8")

TYPO_BEFORE = "a momentous event, with such vast consequences"
TYPO_AFTER = "a monumental event, with such vast consequences"
INSERT_AFTER = "We will look first at the ideology.\n"
INSERTED = "This paragraph was added in the second edition, to introduce the two questions that follow."
SPLIT_AT = "It spelt life or death for the revolution. "
DELETED = "Stalin also spells out the international dimensions of this relationship between worker and peasant.\n\n"


@pytest.fixture
def text(world) -> Text:
    return text_import(group=world.group, created_by=world.organizer, content=ORIGINAL)


def snapshot(text: Text) -> dict[str, tuple[int, str]]:
    """anchor -> (row id, body) for the active passages."""
    return {p.anchor: (p.id, p.body) for p in text.passages.filter(retired=False)}


def revise(text: Text, content: str):
    return text_revise(text=text, created_by=None, content=content)


def with_one(text: Text, start: str) -> Passage:
    [found] = [p for p in text.passages.filter(retired=False) if p.body.startswith(start)]
    return found


def test_typo_fix_keeps_every_anchor_and_edits_one_body_in_place(text):
    before = snapshot(text)
    edited = with_one(text, "The October revolution was such")

    revision = revise(text, ORIGINAL.replace(TYPO_BEFORE, TYPO_AFTER))

    after = snapshot(text)
    assert set(after) == set(before)
    assert {anchor for anchor in after if after[anchor] != before[anchor]} == {edited.anchor}
    assert after[edited.anchor][0] == edited.id
    assert TYPO_AFTER in after[edited.anchor][1]
    assert revision.number == 2
    assert revision.changes == {"kept": len(before) - 1, "edited": 1, "added": 0, "retired": 0}
    assert Passage.objects.get(pk=edited.id).revision_changed == 2


def test_inserted_paragraph_gets_a_new_anchor_and_shifts_positions(text):
    before = snapshot(text)
    next_anchor = f"p-{text.next_anchor}"
    anchor_after = with_one(text, "In the second part of his work").anchor

    revise(text, ORIGINAL.replace(INSERT_AFTER, INSERT_AFTER + "\n" + INSERTED + "\n"))

    after = snapshot(text)
    new = text.passages.get(anchor=next_anchor)
    assert set(after) == set(before) | {next_anchor}
    assert all(after[anchor] == before[anchor] for anchor in before)
    assert (new.body, new.revision_added) == (INSERTED, 2)
    assert text.passages.get(anchor=anchor_after).position == new.position + 1


def test_split_paragraph_keeps_its_anchor_on_the_larger_half_and_the_other_half_is_new(text):
    original = with_one(text, "So, getting this question of the worker-peasant alliance right")
    first_half, second_half = original.body.split(SPLIT_AT)
    next_anchor = f"p-{text.next_anchor}"

    revise(text, ORIGINAL.replace(SPLIT_AT, SPLIT_AT.rstrip() + "\n\n"))

    kept = Passage.objects.get(pk=original.id)
    other = text.passages.get(anchor=next_anchor)
    larger, smaller = sorted([first_half + SPLIT_AT.rstrip(), second_half], key=len, reverse=True)
    assert (kept.anchor, kept.body, kept.retired) == (original.anchor, larger, False)
    assert other.body == smaller
    assert abs(kept.position - other.position) == 1
    assert not text.passages.filter(retired=True).exists()


def test_deleted_paragraph_is_retired_not_deleted(text):
    gone = with_one(text, "Stalin also spells out the international dimensions")
    count = text.passages.count()

    revision = revise(text, ORIGINAL.replace(DELETED, ""))

    gone.refresh_from_db()
    assert (gone.retired, gone.revision_retired) == (True, 2)
    assert text.passages.count() == count
    assert revision.changes["retired"] == 1
    positions = list(text.passages.filter(retired=False).order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, count))


def test_all_four_edits_in_one_revision(text):
    before = snapshot(text)
    deleted = with_one(text, "Stalin also spells out the international dimensions").anchor
    content = (
        ORIGINAL.replace(TYPO_BEFORE, TYPO_AFTER)
        .replace(INSERT_AFTER, INSERT_AFTER + "\n" + INSERTED + "\n")
        .replace(SPLIT_AT, SPLIT_AT.rstrip() + "\n\n")
        .replace(DELETED, "")
    )

    revision = revise(text, content)

    after = snapshot(text)
    assert set(before) - set(after) == {deleted}
    assert len(set(after) - set(before)) == 2  # the inserted paragraph and the split's other half
    assert revision.changes == {"kept": len(before) - 3, "edited": 2, "added": 2, "retired": 1}
    text.refresh_from_db()
    assert text.revision == 2
    bodies = [p.body for p in text.passages.filter(retired=False).order_by("position")]
    assert "\n\n".join(bodies) == text.full_text


def test_identical_content_makes_no_new_revision(text):
    revision = revise(text, ORIGINAL)

    text.refresh_from_db()
    assert (text.revision, revision.number) == (1, 1)
    assert revision.notices == ["This content is identical to revision 1; no new revision was made."]


def test_a_retired_passage_that_comes_back_gets_a_new_anchor(text):
    gone = with_one(text, "Stalin also spells out the international dimensions")
    revise(text, ORIGINAL.replace(DELETED, ""))

    revise(text, ORIGINAL)

    back = with_one(text, "Stalin also spells out the international dimensions")
    assert back.anchor != gone.anchor
    assert Passage.objects.get(pk=gone.pk).retired is True


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (["a b c", "d e f"], ["a b c", "d e f"], {0: 0, 1: 1}),
        (["one two three four", "x y z"], ["one two three five", "x y z"], {0: 0, 1: 1}),
        (["alpha beta gamma", "delta"], ["completely different words here", "delta"], {1: 1}),
        (["p", "q", "r"], ["p", "r"], {0: 0, 1: 2}),
    ],
)
def test_match_revision_pairs_equal_and_similar_passages_in_order(old, new, expected):
    assert match_revision(old, new) == expected
