"""An accessibility audit of every page of the built site, in light and dark mode, by axe-core.

axe-core (Deque's open-source rule engine, fetched from the npm registry into
``_testvendor/`` by ``make browser-test``, like the site's MathJax; it is not published with
the site) runs in headless chromium over each page after its math is typeset.

What the book's own markup controls (the article: prose, figures, tables, outputs of cells,
exercises, players) must have **no critical or serious violation**. Findings located in the
theme's chrome (navigation bars, sidebars, search, footer, the theme's buttons) are not the
book's markup: they are written, with their rule and count, to
``_build/a11y-report.json`` and listed in README.md, and the test fails only if one of them
is new (a rule not in ``THEME_KNOWN``), so a theme upgrade that adds a problem is noticed.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from test_site import PAGES, ROOT, SITE

AXE = ROOT / "_testvendor" / "axe-core" / "axe.min.js"
REPORT = ROOT / "_build" / "a11y-report.json"
BLOCKING = {"critical", "serious"}
#: where the book's own markup lives on a page (sphinx-book-theme's article element)
CONTENT = "article.bd-article"
#: chrome outside the article, or theme-generated controls inside it
THEME_SELECTORS = (".bd-header", ".bd-sidebar", ".bd-sidebar-primary", ".bd-sidebar-secondary", ".bd-footer",
                   ".bd-header-article", ".header-article-items", ".search-button", ".theme-switch-button",
                   ".bd-search", ".prev-next-area", ".bd-footer-article", ".bd-footer-content",
                   ".headerlink", ".toggle-button", ".copybtn", ".bd-toc", "#pst-skip-link", ".skip-link")
#: rules the theme's chrome is known to break today (README, "Accessibility"); anything else fails
THEME_KNOWN = {
    "label-content-name-mismatch",   # search buttons (visible "Search Ctrl+K"), theme switch, logo link
    "region",                        # the primary sidebar's search item sits outside any landmark
}

RUN_AXE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const result = await axe.run(document, {resultTypes: ['violations']});
  const themeSel = %s;
  const content = '%s';
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
      const el = document.querySelector(n.target.join(' '));
      const inContent = !!(el && el.closest(content));
      const inTheme = !!(el && themeSel.some(s => el.closest(s)));
      return {target: n.target.join(' '), html: n.html.slice(0, 160),
              where: (inContent && !inTheme) ? 'book' : 'theme'};
    }),
  }));
}""" % (json.dumps(list(THEME_SELECTORS)), CONTENT)


def _redirect_target(page_path):
    """The page a redirect stub (index.html: one meta refresh) leads to, else the page itself.

    Auditing the stub raced its refresh: axe sometimes ran on the target before its body had
    parsed and reported no main landmark and no h1. The target is audited directly instead.
    """
    text = (SITE / page_path).read_text(encoding="utf-8", errors="replace")[:500]
    match = re.match(r'\s*<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"\s*/?>\s*$', text, re.I)
    return os.path.normpath(os.path.join(os.path.dirname(page_path), match.group(1))) if match else page_path


def _audit(browser, base, page_path, mode):
    page_path = _redirect_target(page_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    page = context.new_page()
    try:
        page.goto(f"{base}/{page_path}", wait_until="load")
        for attempt in range(3):   # a page that redirects (index.html) navigates once more
            try:
                page.wait_for_load_state("load")
                page.add_script_tag(path=str(AXE))
                return page.evaluate(RUN_AXE)
            except Exception as exc:   # the context was destroyed by that navigation
                if "navigation" not in str(exc) or attempt == 2:
                    raise
                page.wait_for_timeout(500)
    finally:
        context.close()


@pytest.fixture(scope="module")
def audits(site_url, site_browser):
    if not AXE.is_file():
        pytest.fail(f"axe-core not found at {AXE}: run `make browser-test` (it fetches it with npm)")
    results = {(p, mode): _audit(site_browser, site_url, p, mode) for p in PAGES for mode in ("light", "dark")}
    theme = defaultdict(Counter)
    for (page, mode), violations in results.items():
        for v in violations:
            for node in v["nodes"]:
                if node["where"] == "theme":
                    theme[f"{v['id']} ({v['impact']})"][mode] += 1
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({
        "pages": len(PAGES),
        "theme_findings": {rule: dict(count) for rule, count in sorted(theme.items())},
        "violations": {f"{p} [{m}]": v for (p, m), v in results.items() if v},
    }, indent=1))
    return results


def test_every_page_audited(audits):
    assert len(audits) == 2 * len(PAGES) and PAGES


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_no_serious_violation_in_the_books_markup(audits, mode):
    found = []
    for (page, m), violations in audits.items():
        if m != mode:
            continue
        for v in violations:
            nodes = [n for n in v["nodes"] if n["where"] == "book"]
            if v["impact"] in BLOCKING and nodes:
                found.append(f"{page}: {v['id']} ({v['impact']}: {v['help']}) at {nodes[0]['target']} "
                             f"{nodes[0]['html']!r} and {len(nodes) - 1} more")
    assert not found, f"{len(found)} serious or critical findings in the book's markup ({mode}):\n" + "\n".join(found[:15])


def test_theme_findings_are_the_known_ones(audits):
    new = sorted({v["id"] for vs in audits.values() for v in vs
                  if any(n["where"] == "theme" for n in v["nodes"]) and v["id"] not in THEME_KNOWN})
    assert not new, f"new accessibility findings in the theme's chrome: {new} (see {REPORT})"
