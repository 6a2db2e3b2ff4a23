"""The facilitator's brief laid out for print: the same lines for the printable HTML and the PDF.

`brief_view` turns the pack's `brief` (readings/brief.py) into ready strings and bar lengths, so the
HTML template (`readings/pack/brief.html`) and the Typst template (`pack.typ`) print the same words;
the bars (a heat strip beside the stuck passages, one bar per member's progress) carry no words.
"""

from django.template.defaultfilters import pluralize

from ..mentions import note_text

BODY_CHARS = 280


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_CHARS else text[: BODY_CHARS - 1] + "…"


def _status(status: str) -> str:
    return {"finished": "finished", "in_progress": "in progress"}.get(status, "not opened")


def _who(note: dict) -> str:
    author = note.get("author")
    return f"{author['name'] if author else '(deleted)'} on §{note['passage']['position']}"


def _totals(totals: dict) -> str:
    line = f"{totals['finished']} finished · {totals['in_progress']} in progress · {totals['not_opened']} not opened"
    if totals["average_percent"] is not None:
        line += f" · {totals['average_percent']}% read on average"
    return line


def _stuck(row: dict) -> str:
    line = f"§{row['position']} of {row['text']['title']}: {row['asking']} note{pluralize(row['asking'])} asking"
    if most := row.get("most_highlighted"):
        line += f" · most highlighted: “{most['words']}” ({most['times']}×)"
    return line


def brief_view(brief: dict | None) -> dict | None:
    """What the printed brief shows, line by line; None when the pack has no brief (not a facilitator's)."""
    if brief is None:
        return None
    progress = brief["progress"]
    members = progress["members"]
    return {
        "totals": _totals(progress["totals"]),
        "members": None
        if members is None
        else [
            {
                "name": row["user"]["name"],
                "percent": row["percent"] or 0,
                "line": f"{row['user']['name']}: {row['percent'] or 0}% · {_status(row['status'])}",
            }
            for row in members
        ],
        "stuck": [{"heat": row["heat"], "line": _stuck(row)} for row in brief["stuck"]],
        "questions": [
            {
                "title": f"Question {question['number']}: {' '.join(question['prompt'].split())}",
                "unanswered": question["unanswered"],
                "answers": [f"{_who(note)}: {_clip(note_text(note))}" for note in question["answers"]],
            }
            for question in brief["questions"]
        ],
        "helpful": [
            f"{_who(note)} ({note['helpful_count']} found it helpful): {_clip(note_text(note))}"
            for note in brief["most_helpful"]
        ],
        "replied": [
            f"{_who(note)} ({note['replies']} repl{pluralize(note['replies'], 'y,ies')}): {_clip(note_text(note))}"
            for note in brief["most_replied"]
        ],
        "proposed": [
            " ".join(question["prompt"].split())
            + (f" ({question['proposed_by']['name']})" if question["proposed_by"] else "")
            for question in brief["proposed"]
        ],
    }
