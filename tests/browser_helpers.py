"""Render a plotly page in headless Chromium (Debian's `chromium`, driven by playwright) and find text that
overlaps other text, text clipped by the page or the figure, and a page that overflows (scrollbars).

`python -m tests.browser_helpers PAGE.html OUT.png` writes a screenshot at the checked size and prints the
problems it finds (exit 1 when there are any).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
SLACK_PX = 1.0  # boxes that touch (antialiasing, rounding) do not count as overlapping
BIG_MARKER_PX, CLEARANCE_PX = 12.0, 2.0


@dataclass(frozen=True)
class TextBox:
    """A drawn text (or, in `PageLayout.markers`, a marker named by its trace) and its page box; `role` is the
    plotly group it is in (xtick, ytick, legendtext, annotation, textpoint, g-gtitle, …)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    role: str = ""

    def overlap(self, other: TextBox) -> float:
        """Area of the intersection, less SLACK_PX on each side."""
        width = min(self.right, other.right) - max(self.left, other.left) - SLACK_PX
        height = min(self.bottom, other.bottom) - max(self.top, other.top) - SLACK_PX
        return max(width, 0.0) * max(height, 0.0)

    def inside(self, left: float, top: float, right: float, bottom: float) -> bool:
        return (self.left >= left - SLACK_PX and self.top >= top - SLACK_PX and self.right <= right + SLACK_PX
                and self.bottom <= bottom + SLACK_PX)


@dataclass(frozen=True)
class PageLayout:
    texts: list[TextBox]
    markers: list[TextBox]  # the SVG markers of the scatter traces (a text on one hides a point)
    figure: tuple[float, float, float, float]  # the plotly figure's box: left, top, right, bottom
    scroll: tuple[int, int]  # document width, height
    viewport: tuple[int, int]


def chromium_path() -> str | None:
    """Debian's Chromium, or a `chromium` on PATH."""
    return CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")


def chromium_missing() -> str | None:
    """Why the browser check cannot run here, or None when it can."""
    if chromium_path() is None:
        return f"no Chromium at {CHROMIUM} nor on PATH (apt-get install chromium; .ci/chromium.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


# Every text node plotly drew (axis titles, tick labels, point labels, annotations, legend), as page boxes.
_COLLECT = """() => {
  const out = [];
  for (const el of document.querySelectorAll('.main-svg text')) {
    const text = (el.textContent || '').trim();
    const r = el.getBoundingClientRect();
    if (!text || r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || style.opacity === '0') continue;
    const group = el.closest('.xtick, .ytick, .legendtext, .annotation, .textpoint, .g-gtitle, .g-xtitle, .g-ytitle');
    let role = group ? (group.classList[0] || '') : (el.classList[0] || '');
    const trace = el.closest('.scatterlayer .trace');
    const data = trace && trace.__data__ && trace.__data__[0];
    if (data && data.trace) role += ':' + data.trace.name;
    out.push({text, left: r.left, top: r.top, right: r.right, bottom: r.bottom, role});
  }
  const markers = [];
  for (const trace of document.querySelectorAll('.scatterlayer .trace')) {
    const data = trace.__data__ && trace.__data__[0];
    const name = data && data.trace ? data.trace.name : '';
    for (const el of trace.querySelectorAll('.points path.point')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      markers.push({text: name || 'marker', left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                    role: 'marker'});
    }
  }
  const fig = document.querySelector('.js-plotly-plot').getBoundingClientRect();
  const doc = document.documentElement;
  return {texts: out, markers, figure: [fig.left, fig.top, fig.right, fig.bottom],
          scroll: [doc.scrollWidth, doc.scrollHeight], viewport: [window.innerWidth, window.innerHeight]};
}"""


def render(page_html: Path, screenshot: Path | None = None) -> PageLayout:
    """Open `page_html` at VIEWPORT, wait for plotly to draw, return its text boxes (and save a screenshot)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(Path(page_html).resolve().as_uri())
            page.wait_for_selector(".main-svg text", timeout=30_000)
            page.wait_for_timeout(300)  # plotly draws labels after the first frame
            found = page.evaluate(_COLLECT)
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    return PageLayout(texts=[TextBox(**t) for t in found["texts"]], markers=[TextBox(**m) for m in found["markers"]],
                      figure=tuple(found["figure"]),
                      scroll=tuple(found["scroll"]), viewport=tuple(found["viewport"]))


def problems(layout: PageLayout) -> list[str]:
    """Overlapping text, text on a marker, text outside the figure or the viewport, a page larger than the
    viewport."""
    found = []
    width, height = layout.viewport
    if layout.scroll[0] > width or layout.scroll[1] > height:
        found.append(f"page overflows: {layout.scroll[0]}×{layout.scroll[1]} in a {width}×{height} window")
    left, top, right, bottom = layout.figure
    bounds = (max(left, 0.0), max(top, 0.0), min(right, width), min(bottom, height))
    for box in layout.texts:
        if not box.inside(*bounds):
            found.append(f"clipped: {box.text!r} at ({box.left:.0f}, {box.top:.0f})–({box.right:.0f}, "
                         f"{box.bottom:.0f}) outside the figure {tuple(round(v) for v in bounds)}")
    texts = layout.texts
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a.overlap(b) > 0:
                found.append(f"overlap: {a.text!r} and {b.text!r} ({a.overlap(b):.0f} px²)")
    for box in texts:
        covered = sorted({m.text for m in layout.markers if box.overlap(_inner(m, own=box.role.endswith(":" + m.text)))
                          > 0})
        if covered:
            found.append(f"{box.text!r} covers a marker of {', '.join(map(repr, covered))}")
    return found


def _inner(marker: TextBox, own: bool = False) -> TextBox:
    """The part of a marker a label must not touch: a large marker (a star, the pick's diamond, a confirmation
    ring: ≥ BIG_MARKER_PX) with a little clearance around it; a small one (a front point), or one of the label's
    own trace (plotly sets a point's text beside its marker), only its middle: a label may graze it, not hide it."""
    width, height = marker.right - marker.left, marker.bottom - marker.top
    if max(width, height) >= BIG_MARKER_PX and not own:
        dx = dy = -CLEARANCE_PX
    else:
        dx, dy = width / 4, height / 4
    return TextBox(marker.text, marker.left + dx, marker.top + dy, marker.right - dx, marker.bottom - dy, marker.role)


def main(argv: list[str]) -> int:
    page, png = Path(argv[0]), Path(argv[1])
    why = chromium_missing()
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    found = problems(render(page, png))
    for line in found:
        print(line)
    print(f"wrote {png}; {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
