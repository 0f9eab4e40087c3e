"""Link check of the built site (no browser needed, run with the browser tests after
`make book`): every internal link, script, stylesheet and image reference of every page
points to a file that exists, and every #fragment to an id on the target page."""

from __future__ import annotations

from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads"}
PAGES = sorted(
    p for p in SITE.rglob("*.html") if not (set(p.relative_to(SITE).parts[:-1]) & SKIP_DIRS)
)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        attr = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src"}.get(tag)
        if attr and a.get(attr):
            self.refs.append((tag, a[attr]))


@lru_cache(maxsize=None)
def parse(path: Path) -> _Parser:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def test_site_exists():
    assert (SITE / "index.html").is_file(), f"no built site at {SITE}: run `make book` first"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(SITE).as_posix() for p in PAGES])
def test_internal_links_resolve(page):
    broken = []
    for tag, ref in parse(page).refs:
        parts = urlsplit(ref)
        if parts.scheme or ref.startswith("//") or ref.startswith("javascript:"):
            continue  # external links are links, not requests; the browser test blocks requests
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"<{tag}> {ref}")
            continue
        if parts.fragment and tag == "a" and target.suffix == ".html":
            if unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"<a> {ref} (no id {parts.fragment!r})")
    assert not broken, f"{page.relative_to(SITE)}: broken internal references: {broken[:8]}"
