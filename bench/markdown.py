"""Benchmark: what a "[" costs the Markdown parsers, and the most costly note and text that are accepted.

Run: `.venv/bin/python bench/markdown.py` (no database needed).
Prints µs per bracket for the note renderer (js-default at maxNesting 20), the same preset at its own
maxNesting of 100 (what notes used before), and the import parser (CommonMark at 20); then the time to
render the worst note accepted (MARKDOWN_MAX_BRACKETS "![" in one paragraph) and to refuse a 5 MB one.
"""

from _django import machine, median_ms
from django.conf import settings
from markdown_it import MarkdownIt

from readings.parsing.markdown import _MARKDOWN as IMPORT_PARSER
from readings.rendering import markdown_problem, render_markdown

N = 5000


def per_unit_us(render, unit: str) -> float:
    return median_ms(lambda: render(unit * N), repeat=3) * 1000 / N


def main() -> None:
    before = MarkdownIt("js-default")  # maxNesting 100
    print(f"Machine: {machine()}")
    print(f"{'parser':<38}{'µs per [':>10}{'µs per ![':>11}")
    for label, render in (
        ("notes before (js-default, nesting 100)", before.render),
        ("notes now (js-default, nesting 20)", render_markdown),
        ("import (CommonMark, nesting 20)", IMPORT_PARSER.parse),
    ):
        print(f"{label:<38}{per_unit_us(render, '['):>10.1f}{per_unit_us(render, '!['):>11.1f}")
    limit = settings.MARKDOWN_MAX_BRACKETS
    worst = median_ms(lambda: render_markdown("![" * limit), repeat=3)
    refused = median_ms(lambda: markdown_problem("[" * 5_000_000, what="text"), repeat=3)
    print(f"\nworst note accepted ({limit:,} '![', rendered): {worst:.0f} ms")
    print(f"a 5 MB source of '[' refused before parsing: {refused:.1f} ms")
    five_mb_s = per_unit_us(IMPORT_PARSER.parse, "[") * 5
    print(f"(before the limit, 5 MB of '[' cost the import parser about {five_mb_s:.0f} s)")


if __name__ == "__main__":
    main()
