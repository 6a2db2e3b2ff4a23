"""axe-core in the browser tests: `check_page(page, state)` fails on any serious or critical violation.

axe-core is vendored from the npm registry in tests/browser/vendor/axe-core/
(see its README for the version and how to refresh it). It is injected into
the page under test with Playwright's `evaluate`, which the page's
Content-Security-Policy does not govern, so the CSP stays as strict as it is
in production.

Each state is checked at the page's own width and at the other of the two
widths people use (desktop 1280 px, phone 375 px); the page is put back at
its width afterwards.
"""

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Rules axe rates "moderate" that still block here: every part of a page sits in a landmark
# (a screen reader's "jump to main" works), there is one main, and landmarks have distinct names.
LANDMARK_RULES = ("region", "landmark-one-main", "landmark-unique", "landmark-no-duplicate-main")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

_RUN = """async ([blocking, always]) => {
  const results = await window.axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((rule) => blocking.includes(rule.impact) || always.includes(rule.id))
    .map((rule) => ({
      id: rule.id,
      impact: rule.impact,
      help: rule.help,
      nodes: rule.nodes.map((node) => ({ target: node.target.join(" "), summary: node.failureSummary })),
    }));
}"""


@cache
def _axe_source() -> str:
    # A trailing expression, so evaluating the script returns something serialisable.
    return AXE_JS.read_text(encoding="utf-8") + "\n;true"


def violations(page: Page) -> list[dict]:
    """The serious and critical axe-core violations of the page as it is now, and any landmark one."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    return page.evaluate(_RUN, [list(BLOCKING), list(LANDMARK_RULES)])


def describe(found: list[dict]) -> str:
    lines = []
    for rule in found:
        lines.append(f"{rule['impact']} {rule['id']}: {rule['help']} ({len(rule['nodes'])} element(s))")
        for node in rule["nodes"][:6]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}  — {summary[:240]}")
    return "\n".join(lines)


def check_page(page: Page, state: str, *, both_widths: bool = True) -> None:
    """Assert that `page`, in the state named `state`, has no serious or critical axe-core violation
    (nor a landmark one: `LANDMARK_RULES`).

    With `both_widths`, the page is also checked at the other width (phone if it
    is wide, desktop if it is narrow), then put back.
    """
    size = page.viewport_size or DESKTOP
    sizes = [size]
    if both_widths:
        sizes.append(PHONE if size["width"] > PHONE["width"] else DESKTOP)
    report = []
    for viewport in sizes:
        if viewport != size:
            page.set_viewport_size(viewport)
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        found = violations(page)
        if found:
            report.append(f"-- {state} at {viewport['width']} px ({page.url}):\n{describe(found)}")
    if page.viewport_size != size:
        page.set_viewport_size(size)
    assert not report, "axe-core found serious or critical violations:\n" + "\n".join(report)
