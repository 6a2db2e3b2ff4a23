"""Helpers for browser tests that act like a person: select words with the mouse, annotate them."""

from playwright.sync_api import Page, expect

from readings.services.assignments import assignment_create
from readings.services.importing import text_import

# The viewport rectangles of the first and last character of `phrase` inside an element's text
# (its first occurrence), found with a DOM Range; null if the phrase is not there.
_PHRASE_BOUNDS = """([selector, phrase]) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push([node, text.length]);
    text += node.data;
  }
  const index = text.indexOf(phrase);
  if (index === -1) return null;
  const point = (offset) => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      if (nodes[i][1] <= offset) return [nodes[i][0], offset - nodes[i][1]];
    }
    return null;
  };
  const rectOf = (from, to) => {
    const range = document.createRange();
    range.setStart(...point(from));
    range.setEnd(...point(to));
    const rects = range.getClientRects();
    return rects[rects.length - 1];
  };
  // The first and last characters (an astral character is two UTF-16 units).
  const firstLength = phrase.codePointAt(0) > 0xffff ? 2 : 1;
  const lastLength = phrase.codePointAt(phrase.length - 2) > 0xffff ? 2 : 1;
  const first = rectOf(index, index + firstLength);
  const last = rectOf(index + phrase.length - lastLength, index + phrase.length);
  return {
    x1: first.left + 1, y1: first.top + first.height / 2,
    x2: last.right - 1, y2: last.top + last.height / 2,
  };
}"""


def drag_select(page: Page, container: str, phrase: str) -> None:
    """Select `phrase` in the passage body under `container` (a CSS selector) by dragging the mouse.

    Presses just inside the first character's left edge and releases just
    inside the last character's right edge, as a reader would.
    """
    body = f"{container} [data-passage-body]"
    page.locator(body).scroll_into_view_if_needed()
    bounds = page.evaluate(_PHRASE_BOUNDS, [body, phrase])
    assert bounds is not None, f"“{phrase}” is not in {body}"
    page.mouse.move(bounds["x1"], bounds["y1"])
    page.mouse.down()
    page.mouse.move(bounds["x2"], bounds["y2"], steps=6)
    page.mouse.up()


def annotate_selection(page: Page) -> None:
    """After selecting words: the toolbar shows (the form does not open by itself); choose Annotate."""
    toolbar = page.get_by_role("toolbar", name="Selected words")
    expect(toolbar).to_be_visible()
    expect(page.locator("#note-form")).to_be_hidden()
    toolbar.get_by_role("button", name="Annotate").click()


ELEVEN_WORDS = "The peasants seized the land in the summer {n} of revolt."


def slow_reading(world, settings, *, heading: str, passages: int) -> dict:
    """ "Land and Bread" for the world's session: `heading` then `passages` passages of eleven words (§2 on).

    §2–§5 are the required reading, any passages after them an optional one. Nothing counts as read
    on screen (a pace of one word a minute, uncapped for an hour), so only "mark read" moves progress.
    Returns {position: passage}.
    """
    settings.READING_PACE_WORDS_PER_MINUTE = 1
    settings.READING_CAP_SECONDS = 3600
    settings.READING_BATCH_SECONDS = 1
    content = heading + "\n\n" + "\n\n".join(ELEVEN_WORDS.format(n=n) for n in range(passages))
    text = text_import(group=world.group, created_by=world.organizer, content=content, title="Land and Bread")
    p = {passage.position: passage for passage in text.passages.all()}
    assignment_create(session=world.session, text=text, start_passage=p[2], end_passage=p[5])
    if passages > 4:
        assignment_create(
            session=world.session, text=text, start_passage=p[6], end_passage=p[passages + 1], required=False
        )
    return p
