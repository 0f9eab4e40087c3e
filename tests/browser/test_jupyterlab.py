"""A learner's view: the chapters in a real JupyterLab (with jupyterlab-myst), driven by chromium.

Starts ``jupyter lab`` from this environment on localhost (a random port and token, its own
settings and workspace folders, the chapters copied to a temporary folder so that running
them changes nothing in the repository), opens chapters as a learner would and checks:

- on opening, before any cell has run: the prose already shows its numbers (the results
  ``make execute`` stored), and no MyST source (``{eval}``, ``{glue``, ``:class:``,
  ``:label:``) is visible;
- after Run All: still no MyST source, the numbers of the rendered expressions equal the
  stored ones (to the notebook checks' tolerance), and every exercise solution is closed
  until its title is clicked, then open;
- a live explorer responds: moving one control by keyboard changes its figure;
- nothing in the session loads from another host.

Needs chromium like the site tests (``make browser-test``); it does not need a built site.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import nbeval  # noqa: E402

#: a chapter without an explorer and one with (both run in well under a minute)
CHAPTERS = ["02-a-simulation-you-can-run", "04-recursive-gaussian-fitting"]
MYST_SOURCE = ["{eval}", "{glue", ":class:", ":label:"]
SETTINGS = {
    # render every cell (JupyterLab otherwise renders only what is on screen)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news pop-up, no update check (both would ask another host)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """URL and folder of a JupyterLab server over copies of the chapters."""
    folder = tmp_path_factory.mktemp("lab")
    notebooks = folder / "chapters"
    notebooks.mkdir()
    for name in CHAPTERS:
        shutil.copy(ROOT / "chapters" / f"{name}.ipynb", notebooks)
    settings = folder / "settings"
    for rel, value in SETTINGS.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), "booktest"
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={notebooks}", "--ServerApp.allow_root=True",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={folder / 'workspaces'}"],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, JUPYTER_PLATFORM_DIRS="1"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterLab did not start:\n" + (folder / "lab.log").read_text()[-3000:])
            time.sleep(0.5)
    yield {"base": base, "token": token, "folder": notebooks}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _open(site_browser, lab, name):
    context = site_browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")) else None)
    page.goto(f"{lab['base']}/lab/tree/{name}.ipynb?token={lab['token']}&reset")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_timeout(3000)   # let jupyterlab-myst render every markdown cell
    return context, page, remote


def _run_all(page, timeout=240):
    page.locator(".jp-Notebook").first.click(position={"x": 4, "y": 4})
    page.keyboard.press("Escape")
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='busy']", timeout=30_000)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        if idle and prompts and all(p.strip() not in ("[*]:", "[ ]:", "") for p in prompts):
            break
        page.wait_for_timeout(1000)
    else:
        pytest.fail(f"Run All did not finish in {timeout} s; prompts: {prompts}")
    page.wait_for_timeout(3000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, "a cell raised when run in JupyterLab:\n" + tracebacks[0][:2000]


def _stored_numbers(name):
    nb = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    return [nbeval.shown_text(e["result"]) for c in nb.cells if c.cell_type == "markdown"
            for e in c.metadata.get("user_expressions", [])]


def _rendered_prose(page):
    """The rendered prose's text, closed solution dropdowns included (textContent, not innerText:
    a number quoted in a solution is rendered inside a closed <details> and must be there too)."""
    return "\n".join(page.locator(".jp-MarkdownCell .myst").all_text_contents())


def _visible_source(page):
    text = _rendered_prose(page)
    return [s for s in MYST_SOURCE if s in text]


@pytest.fixture(scope="module")
def chapter02(site_browser, lab):
    context, page, remote = _open(site_browser, lab, CHAPTERS[0])
    opened = {"source": _visible_source(page), "prose": _rendered_prose(page)}
    _run_all(page)
    yield {"page": page, "opened": opened, "remote": remote}
    context.close()


def test_prose_shows_numbers_before_running(chapter02):
    assert not chapter02["opened"]["source"], f"raw MyST visible on opening: {chapter02['opened']['source']}"
    stored = _stored_numbers(CHAPTERS[0])
    assert stored, "the chapter stores no expression results"
    missing = [s for s in stored if s not in chapter02["opened"]["prose"]]
    assert not missing, f"stored numbers not shown on opening: {missing[:5]}"


def test_prose_after_run_all(chapter02):
    page = chapter02["page"]
    assert not _visible_source(page), f"raw MyST visible after Run All: {_visible_source(page)}"
    prose = _rendered_prose(page)
    stored = _stored_numbers(CHAPTERS[0])
    missing = [s for s in stored if s not in prose]   # formatted numbers print the same on any CPU
    assert not missing, f"numbers differ or are missing after Run All: {missing[:5]}"


def test_solutions_hidden_until_clicked(chapter02):
    page = chapter02["page"]
    solutions = page.locator(".jp-MarkdownCell details.myst-exercise")
    assert solutions.count() >= 3, "expected at least three solutions as collapsed details"
    for i in range(solutions.count()):
        assert solutions.nth(i).get_attribute("open") is None, f"solution {i} is open before a click"
    first = solutions.nth(0)
    body = first.locator(".details-body")
    assert not body.is_visible()
    first.locator("summary").click()
    page.wait_for_timeout(300)
    assert first.get_attribute("open") is not None and body.is_visible()


def test_no_remote_requests_in_lab(chapter02):
    assert not chapter02["remote"], f"JupyterLab session asked another host: {chapter02['remote'][:5]}"


def test_live_explorer_responds(site_browser, lab):
    context, page, remote = _open(site_browser, lab, CHAPTERS[1])
    try:
        _run_all(page)
        explorer = page.locator(".jp-OutputArea-output .widget-vbox").first
        explorer.wait_for(timeout=60_000)
        image = explorer.locator("img").first
        before = image.get_attribute("src")
        slider = explorer.locator(".widget-slider .noUi-handle, .widget-slider [role='slider']").first
        slider.focus()
        page.keyboard.press("ArrowRight")
        deadline = time.monotonic() + 30
        while image.get_attribute("src") == before and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert image.get_attribute("src") != before, "moving a slider did not change the explorer's figure"
        assert not remote, f"asked another host: {remote[:5]}"
    finally:
        context.close()
