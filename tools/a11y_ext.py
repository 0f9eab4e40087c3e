"""Sphinx extension local to this book: accessibility fixes to markup that extensions generate.

Found by the axe-core audit of the built site (``tests/browser/test_accessibility.py``):

- myst-nb's hidden-code toggles (cells tagged ``hide-input``) render as
  ``<summary aria-label="Toggle hidden content">`` around the visible text "Show code cell
  source": a screen reader announces a name that is not what a sighted user sees
  (axe ``label-content-name-mismatch``, serious). The label is dropped, so the accessible
  name is the visible text.
- sphinxcontrib-bibtex renders the bibliography as ``<div role="list" class="citation-list">``
  whose children are ``role="doc-biblioentry"``, not list items (axe
  ``aria-required-children``, critical). The ``list`` role is dropped; each entry keeps
  its ``doc-biblioentry`` role.

The fixes run on the written HTML files when the build finishes (the markup is static).
"""

from __future__ import annotations

import re
from pathlib import Path

FIXES = [
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    (re.compile(r'<div role="list" class="citation-list">'), '<div class="citation-list">'),
]


def fix_html(text: str) -> str:
    for pattern, replacement in FIXES:
        text = pattern.sub(replacement, text)
    return text


def _fix_site(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        fixed = fix_html(text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _fix_site)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
