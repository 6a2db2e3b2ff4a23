"""The import service on real material: the sample essay, stored as passages."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from readings.models import Passage, Text, TextRevision
from readings.services.importing import text_import

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


@pytest.fixture
def sample_text(world) -> Text:
    return text_import(
        group=world.group,
        created_by=world.organizer,
        data=SAMPLE.read_bytes(),
        filename=SAMPLE.name,
        author="CPGB-ML study notes",
    )


def passage(text: Text, start: str) -> Passage:
    [found] = [p for p in text.passages.filter(retired=False) if p.body.startswith(start)]
    return found


def test_sample_essay_title_is_passage_one_and_the_texts_title(sample_text):
    first = sample_text.passages.get(position=1)

    assert sample_text.title == "The October revolution and the bolsheviks"
    assert (first.kind, first.body, first.anchor) == ("heading", "The October revolution and the bolsheviks", "p-1")
    assert sample_text.original_format == "txt"


def test_sample_essay_headings_carry_their_sections(sample_text):
    dictatorship = passage(sample_text, "a) Proletarian Dictatorship")
    socialism = passage(sample_text, "(b) Socialism in One Country")
    after_dictatorship = sample_text.passages.get(position=dictatorship.position + 1)
    after_socialism = sample_text.passages.get(position=socialism.position + 1)

    assert (dictatorship.kind, socialism.kind) == ("heading", "heading")
    assert after_dictatorship.section == "a) Proletarian Dictatorship"
    assert after_dictatorship.body.startswith("Stalin begins with the question of proletarian dictatorship.")
    assert after_socialism.section == "(b) Socialism in One Country"


def test_sample_essay_part_after_double_blank_line_has_no_section(sample_text):
    tactics = passage(sample_text, "Having got some sense of where the Bolsheviks stood")
    last = sample_text.passages.filter(retired=False).order_by("-position").first()

    assert tactics.section == ""
    assert last.section == ""
    assert passage(sample_text, "Scratch the revolutionary phrasemaking").section == "(b) Socialism in One Country"


def test_sample_essay_passages_are_stored_in_order_with_offsets_into_the_full_text(sample_text):
    passages = list(sample_text.passages.order_by("position"))

    assert [p.position for p in passages] == list(range(1, len(passages) + 1))
    assert [p.anchor for p in passages] == [f"p-{n}" for n in range(1, len(passages) + 1)]
    assert all(sample_text.full_text[p.start_offset : p.end_offset] == p.body for p in passages)
    assert all(p.word_count == len(p.body.split()) for p in passages)
    assert sample_text.next_anchor == len(passages) + 1


def test_sample_essay_import_is_recorded_as_revision_one(sample_text):
    revision = TextRevision.objects.get(text=sample_text)

    assert (revision.number, revision.format, revision.filename) == (1, "txt", SAMPLE.name)
    assert revision.size_bytes == SAMPLE.stat().st_size
    assert revision.changes == {"kept": 0, "edited": 0, "added": sample_text.passages.count(), "retired": 0}
    assert len(revision.checksum) == 64


def test_given_title_beats_the_first_line(world):
    text = text_import(group=world.group, created_by=None, content="First line\n\nA paragraph.", title="Chosen")

    assert text.title == "Chosen"
    assert list(text.passages.values_list("kind", "body")) == [("heading", "First line"), ("paragraph", "A paragraph.")]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"data": b""}, "file", "empty"),
        ({"data": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"}, "file", "looks like a PNG image, not text"),
        ({"content": ""}, "content", "empty"),
        ({"data": b"<html><head><script>x()</script></head><body><nav>Home</nav></body></html>"}, "file", "no"),
        ({"content": "Some text", "fmt": "docx"}, "format", "“docx” is not a format we import"),
    ],
)
def test_bad_input_raises_a_validation_error_and_writes_nothing(world, kwargs, field, message):
    with pytest.raises(ValidationError) as error:
        text_import(group=world.group, created_by=world.organizer, **kwargs)

    assert list(error.value.message_dict) == [field]
    assert message in error.value.message_dict[field][0]
    assert not Text.objects.exists()
    assert not Passage.objects.exists()


def test_over_the_size_limit_is_refused(world, settings):
    settings.TEXT_MAX_BYTES = 1000

    with pytest.raises(ValidationError) as error:
        text_import(group=world.group, created_by=None, content="word " * 300)

    assert error.value.message_dict == {"content": ["The text is 0.0 MB; the limit is 0.0 MB. Split it into parts."]}


def test_import_text_command_with_progress_and_revision(world, tmp_path, capsys):
    revised = tmp_path / "revised.txt"
    revised.write_text(SAMPLE.read_text().replace("momentous event", "monumental event"))

    call_command("import_text", str(SAMPLE), "--group", world.group.slug, "--author", "Study notes")
    text = Text.objects.get()
    call_command("import_text", str(revised), "--into", str(text.pk))
    out = capsys.readouterr().out

    text.refresh_from_db()
    assert text.author == "Study notes"
    assert text.revision == 2
    count = text.passages.count()
    assert f"Imported “The October revolution and the bolsheviks” (text {text.pk}): {count} passages" in out
    assert f"Revision 2: {count - 1} kept, 1 edited, 0 added, 0 retired" in out


def test_import_text_command_reports_bad_input_without_a_traceback(world, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    with pytest.raises(CommandError) as error:
        call_command("import_text", str(empty), "--group", world.group.slug)

    assert str(error.value) == "file: The file is empty."


def test_sample_essay_quotations_list_items_and_attributions_are_stored(sample_text):
    passages = list(sample_text.passages.order_by("position"))
    opening_quote = [p for p in passages if p.body.startswith("“")]
    numbered = [p for p in opening_quote if p.body[1:3] in {"1)", "2)", "3)", "4)", "5)"}]
    attributed = {p.attribution: p.body for p in passages if p.attribution}

    assert all(p.quoted for p in opening_quote)
    assert {p.kind for p in opening_quote if p not in numbered} == {"quotation"}
    assert [(p.body[:3], p.kind, p.quoted) for p in numbered] == [(f"“{n})", "list_item", True) for n in range(1, 6)]
    assert set(attributed) == {
        "Trotsky, Preface to The Year 1905",
        "p 93",
        "p 103",
        "ibid.",
        "see Preface to the French edition of Lenin’s Imperialism.",
    }
    assert "(ibid.)" in attributed["ibid."]
    assert "(p 93)" in attributed["p 93"]


def test_sample_essay_heading_rule_rejects_sentence_case_lines(sample_text):
    supported = sample_text.passages.get(body="It was supported by the working class")

    assert (supported.kind, supported.quoted) == ("paragraph", False)
    assert sample_text.passages.filter(kind="heading").count() == 3


def test_import_text_command_takes_an_epub_chapter(world, capsys):
    from .documents import MANIFESTO_EPUB

    call_command("import_text", str(MANIFESTO_EPUB), "--group", world.group.slug, "--chapter", "chapter-1")

    text = Text.objects.get()
    assert capsys.readouterr().out == (
        f"Imported “Manifesto of the Communist Party: I. Bourgeois and Proletarians” (text {text.pk}): "
        "7 passages, revision 1.\n"
    )
    assert (text.original_format, text.author, text.language) == ("epub", "Karl Marx and Friedrich Engels", "en-GB")
