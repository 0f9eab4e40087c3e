"""The built site, opened page by page in headless chromium.

Every page: loads with no console error, no failed local request and no request to any
other host (such requests are blocked and reported); its math is typeset by the site's own
MathJax; every image has loaded (naturalWidth > 0) and has alt text that is not a file
path; every to_jshtml animation player shows a new frame when "Next frame" is clicked;
every exercise solution is hidden until its title is clicked. Screenshots of the landing
page and of one chapter, light and dark, go to _build/screenshots/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"

SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}
PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if not (set(p.relative_to(SITE).parts[:-1]) & SKIP_DIRS)
)
LOCAL_SCHEMES = {"data", "blob", "about"}
# a path or file name instead of a description: an image file name, or one word with a slash
# (a description may use a slash, as in "n/(n-3)", between other words)
FILE_LIKE_ALT = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|svg|gif|webp)$|^_build/|^\S*/\S*$", re.I)


@dataclass
class Visit:
    console_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    animations: list[dict] = field(default_factory=list)
    solutions: list[dict] = field(default_factory=list)
    figure_reprs: int = 0


MATH_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const els = [...document.querySelectorAll('span.math, div.math')];
  const typeset = els.filter(e => e.querySelector('mjx-container'));
  return {
    total: els.length,
    typeset: typeset.length,
    errors: document.querySelectorAll('mjx-merror').length,
    untypeset: els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)).slice(0, 5),
    mathjax_loaded: !!(window.MathJax && MathJax.version),
  };
}"""

IMAGES_JS = """() => [...document.images].map(i => ({
  src: (i.getAttribute('src') || '').slice(0, 100),
  id: i.id,
  complete: i.complete,
  width: i.naturalWidth,
  alt: i.getAttribute('alt'),
}))"""


def _is_local(url: str, base: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or url.startswith(base + "/") or url == base


def _visit(browser, base: str, page_path: str) -> Visit:
    visit = Visit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(r):
        if _is_local(r.request.url, base):
            r.continue_()
        else:
            visit.remote_requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: visit.failed_requests.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: None if not _is_local(r.url, base) else visit.failed_requests.append(f"failed {r.url}"))
    try:
        page.goto(f"{base}/{page_path}", wait_until="load")
        page.wait_for_load_state("networkidle")
        visit.math = page.evaluate(MATH_JS)
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=15000)
        visit.images = page.evaluate(IMAGES_JS)
        visit.animations = _check_animations(page)
        visit.solutions = _check_solutions(page)
        visit.figure_reprs = page.evaluate(
            "() => (document.body.innerText.match(/<Figure size [^>]*>/g) || []).length")
    finally:
        context.close()
    return visit


def _check_animations(page) -> list[dict]:
    results = []
    players = page.locator("div.animation")
    for i in range(players.count()):
        player = players.nth(i)
        img = player.locator("img").first
        slider = player.locator("input.anim-slider").first
        before = (img.get_attribute("src") or "", slider.input_value())
        player.locator("button[title='Pause']").click()
        player.locator("button[title='Next frame']").click()
        page.wait_for_timeout(100)
        after = (img.get_attribute("src") or "", slider.input_value())
        results.append({"index": i, "advanced": after[1] != before[1] and after[0] != before[0],
                        "frames": (before[1], after[1])})
    return results


def _check_solutions(page) -> list[dict]:
    results = []
    solutions = page.locator("div.solution.dropdown")
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        body = sol.locator(":scope > :not(.admonition-title)").first
        hidden_before = not body.is_visible()
        # Click the title bar itself, not its centre: the title holds a link back to the
        # exercise, and a long title puts that link under the centre (a reader clicking the
        # link goes to the exercise, as intended; the bar and its toggle open the solution).
        title = sol.locator(":scope > .admonition-title").first
        box = title.bounding_box()
        title.click(position={"x": max(box["width"] - 6, 1), "y": max(box["height"] - 4, 1)})
        page.wait_for_timeout(150)
        shown_after = body.is_visible()
        results.append({"index": i, "id": sol.get_attribute("id"),
                        "hidden_before": hidden_before, "shown_after_click": shown_after})
    return results


@pytest.fixture(scope="module")
def visits(site_url, site_browser):
    return {p: _visit(site_browser, site_url, p) for p in PAGES}


page_param = pytest.mark.parametrize("page_path", PAGES)


def test_site_has_pages():
    assert (SITE / "index.html").is_file(), f"no built site at {SITE}: run `make book`"
    assert len(PAGES) >= 5, f"only {len(PAGES)} pages found in {SITE}"
    assert any(p.startswith("chapters/") for p in PAGES)


@page_param
def test_no_remote_requests(visits, page_path):
    remote = visits[page_path].remote_requests
    assert not remote, f"{page_path} requests other hosts (the site must work offline): {remote[:5]}"


@page_param
def test_no_console_errors_or_failed_requests(visits, page_path):
    v = visits[page_path]
    assert not v.console_errors, f"{page_path}: console errors: {v.console_errors[:5]}"
    assert not v.failed_requests, f"{page_path}: failed local requests: {v.failed_requests[:5]}"


@page_param
def test_math_typeset(visits, page_path):
    m = visits[page_path].math
    if m.get("total", 0) == 0:
        return
    assert m["mathjax_loaded"], f"{page_path}: has math but MathJax did not load"
    assert m["typeset"] == m["total"], f"{page_path}: math left untypeset: {m['untypeset']}"
    assert m["errors"] == 0, f"{page_path}: {m['errors']} TeX errors (mjx-merror)"


def test_some_page_has_math(visits):
    assert sum(v.math.get("typeset", 0) for v in visits.values()) > 0, "no typeset math anywhere in the book"


@page_param
def test_images_loaded_with_alt_text(visits, page_path):
    problems = []
    for img in visits[page_path].images:
        name = img["id"] or img["src"][:60]
        if not img["complete"] or img["width"] == 0:
            problems.append(f"not loaded: {name}")
        alt = (img["alt"] or "").strip()
        if not alt:
            problems.append(f"no alt text: {name}")
        elif FILE_LIKE_ALT.search(alt):
            problems.append(f"alt text is a file path ({alt[:60]}): {name}")
    assert not problems, f"{page_path}: " + "; ".join(problems[:6])


@page_param
def test_figures_rendered_as_images(visits, page_path):
    n = visits[page_path].figure_reprs
    assert n == 0, (
        f"{page_path}: {n} figure(s) shown as text '<Figure size ...>' instead of an image "
        "(a non-inline matplotlib backend in the kernel, e.g. MPLBACKEND=Agg, or a figure "
        "returned as the cell's value after plt.close)"
    )


@page_param
def test_animations_advance(visits, page_path):
    stuck = [a for a in visits[page_path].animations if not a["advanced"]]
    assert not stuck, f"{page_path}: animation players that did not advance on 'Next frame': {stuck}"


@page_param
def test_solutions_hidden_until_clicked(visits, page_path):
    bad = [s for s in visits[page_path].solutions if not (s["hidden_before"] and s["shown_after_click"])]
    assert not bad, f"{page_path}: solutions not hidden-then-shown: {bad[:4]}"


def test_every_chapter_has_hidden_solutions(visits):
    chapters = [p for p in PAGES if re.match(r"chapters/\d\d-", p)]
    without = [p for p in chapters if not visits[p].solutions]
    assert not without, f"chapters without any exercise solution: {without}"


def test_screenshots(site_url, site_browser):
    """Landing page and the first chapter, light and dark (the theme follows the OS
    setting), plus the first chapter figure and the first animation player, for checking
    that figures stay readable in dark mode."""
    chapters = [p for p in PAGES if re.match(r"chapters/\d\d-", p)]
    targets = {"landing": "index.html"}
    if chapters:
        targets["chapter"] = chapters[0]
    players = [p for p in chapters if 'class="animation"' in (SITE / p).read_text(encoding="utf-8")]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for scheme in ("light", "dark"):
        context = site_browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        context.route("**/*", lambda r: r.continue_() if _is_local(r.request.url, site_url) else r.abort())
        page = context.new_page()
        for label, path in targets.items():
            page.goto(f"{site_url}/{path}", wait_until="networkidle")
            page.evaluate(MATH_JS)
            mode = page.evaluate("() => document.documentElement.dataset.theme")
            assert mode == scheme, f"{path}: theme is {mode!r} under a {scheme} colour scheme"
            out = SCREENSHOTS / f"{label}-{scheme}.png"
            page.screenshot(path=str(out))  # the first screen a reader sees
            written.append(out)
            if label == "chapter":
                figure = page.locator("figure img, .cell_output img").first
                if figure.count():
                    figure.scroll_into_view_if_needed()
                    out = SCREENSHOTS / f"chapter-figure-{scheme}.png"
                    figure.screenshot(path=str(out))
                    written.append(out)
        if players:
            page.goto(f"{site_url}/{players[0]}", wait_until="networkidle")
            player = page.locator("div.animation").first
            player.scroll_into_view_if_needed()
            out = SCREENSHOTS / f"animation-{scheme}.png"
            player.screenshot(path=str(out))
            written.append(out)
        context.close()
    assert all(p.stat().st_size > 5_000 for p in written)
    print("screenshots:", *written, sep="\n  ")


def test_write_report(visits):
    """A summary of what was checked, for the CI log: _build/browser-report.json."""
    import json

    report = {
        page: {
            "math": v.math.get("typeset", 0),
            "images": len(v.images),
            "animations": len(v.animations),
            "solutions": len(v.solutions),
        }
        for page, v in visits.items()
    }
    (SITE.parent / "browser-report.json").write_text(json.dumps(report, indent=1))
    totals = {k: sum(r[k] for r in report.values()) for k in ("math", "images", "animations", "solutions")}
    print(f"\n{len(report)} pages checked; totals: {totals}")
    assert report
