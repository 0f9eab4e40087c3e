"""The whole book as one PDF, printed from the built site by headless chromium (offline).

Run after ``make book`` (``make pdf`` does both): every page of the site in table-of-contents
order (landing page, chapters, appendices) is opened from a local server, its math typeset,
its hidden solutions opened (the printed copy is the instructor's), and printed to PDF; the
pages' PDFs are joined into ``_build/pdf/model-collapse-honestly.pdf`` with pypdfium2.
Nothing is fetched from another host: the site is self-contained, and any request to
another host is refused.

    python tools/make_pdf.py [--out FILE] [--pages N]

``--pages N`` prints only the first N pages of the site (the tests use it).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")

# Wait for MathJax (if the page has math) to finish typesetting.
TYPESET_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
}"""
# Open every dropdown (solutions, concept-check answers) and every <details> for print.
OPEN_ALL_JS = """() => {
  document.querySelectorAll('.dropdown').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('details').forEach(e => e.open = true);
  document.querySelectorAll('button.toggle-button').forEach(b => b.remove());
}"""


def toc_pages(root: Path = ROOT) -> list[str]:
    """Site paths (``.html``) of every page in _toc.yml order, landing page first."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = ["index.html"]
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []) or []:
            pages.append(f"{entry['file']}.html")
    return pages


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def make_pdf(out: Path, pages: int | None = None, site: Path = SITE) -> Path:
    import pypdfium2 as pdfium
    from playwright.sync_api import sync_playwright

    if not (site / "index.html").is_file():
        raise SystemExit(f"no built site at {site}: run `make book` first")
    paths = [p for p in toc_pages() if (site / p).is_file()][:pages]
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    book = pdfium.PdfDocument.new()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            context = browser.new_context()
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
            page = context.new_page()
            for path in paths:
                page.goto(f"{base}/{path}", wait_until="networkidle")
                page.evaluate(TYPESET_JS)
                page.evaluate(OPEN_ALL_JS)
                page.emulate_media(media="print")
                data = page.pdf(format="A4", print_background=False,
                                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
                part = pdfium.PdfDocument(data)
                book.import_pages(part)
                part.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(out))
    n = len(book)
    book.close()
    print(f"{out}: {n} pages from {len(paths)} site pages")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "model-collapse-honestly.pdf")
    parser.add_argument("--pages", type=int, default=None)
    args = parser.parse_args(argv)
    make_pdf(args.out, args.pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
