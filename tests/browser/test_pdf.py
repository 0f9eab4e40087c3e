"""The printed book (tools/make_pdf.py, `make pdf`): the first pages of the site printed by
chromium into one PDF, then rendered back to images with pypdfium2 and checked to carry
text and ink (not blank pages, not an error page)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import make_pdf  # noqa: E402


def test_pdf_of_the_first_pages(tmp_path):
    import pypdfium2 as pdfium

    # in its own process: the site tests hold a Playwright session in this one
    out = tmp_path / "book.pdf"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_pdf.py"), "--out", str(out), "--pages", "3"],
                   check=True, timeout=600)
    pdf = pdfium.PdfDocument(str(out))
    assert len(pdf) >= 3, f"three site pages printed to only {len(pdf)} PDF pages"
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Model Collapse, Honestly" in text
    assert "What collapse is" in text or "collapse" in text.lower()
    for i in (0, len(pdf) // 2, len(pdf) - 1):
        image = np.asarray(pdf[i].render(scale=0.5).to_pil().convert("L"), dtype=float)
        ink = (image < 128).mean()
        assert 0.002 < ink < 0.5, f"PDF page {i + 1}: {ink:.3%} dark pixels (blank or solid page?)"
    pdf.close()


def test_toc_pages_cover_every_chapter():
    pages = make_pdf.toc_pages()
    assert pages[0] == "index.html"
    chapters = sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
    for name in chapters:
        assert f"chapters/{Path(name).stem}.html" in pages
