"""Structural checks of the book: every chapter notebook has the shape readers rely on.

Parametrised over chapters/*.ipynb, so a chapter added later is checked without editing
this file. Each failure names the notebook and says what to fix. The shape itself is
described in README.md ("Adding a chapter").
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

import nbeval  # tools/nbeval.py (tests/conftest.py puts tools/ on the path)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MD_PAGES = [ROOT / "intro.md", *sorted((ROOT / "chapters").glob("*.md"))]
IDS = [p.name for p in CHAPTERS]

# A fenced MyST directive: ```{name} argument / :::{name} argument ... closing fence.
DIRECTIVE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.M | re.S,
)
GLUE_ROLE = re.compile(r"\{glue(?::(?:text|md|any|math))?\}`([^`]+)`")
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
HEADING = re.compile(r"^(#{1,6})\s+\S", re.M)
FENCED_BLOCK = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[ \t]*$", re.M | re.S)


# ---------------------------------------------------------------------------- helpers
@lru_cache(maxsize=None)
def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def markdown_cells(nb):
    return [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and source(c).strip()]


def markdown(nb) -> str:
    return "\n\n".join(markdown_cells(nb))


def directives(text: str):
    """Yield (name, argument, options dict, body) for every fenced directive, nested too."""
    for m in DIRECTIVE.finditer(text):
        body = m.group("body")
        options = dict(re.findall(r"^[ \t]*:([\w-]+):[ \t]*(.*?)[ \t]*$", body, re.M))
        yield m.group("name"), m.group("arg").strip(), options, body
        yield from directives(body)


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


@lru_cache(maxsize=None)
def bib_keys() -> frozenset[str]:
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^@\w+\{([^,\s]+),", text, re.M))


# Numbers typed into prose instead of computed (the same check runs before every commit).
TYPED_NUMBER = re.compile(r"(?<![\w.])\d+\.\d{2,}\b|\b\d+(?:\.\d+)?\s?%")
NOT_PROSE = re.compile(r"\{(?:glue[^}]*|eval)\}`[^`]*`|\$[^$]*\$|`[^`]*`|\[[^\]]*\]\([^)]*\)")


# ---------------------------------------------------------------------------- per chapter
chapter = pytest.mark.parametrize("path", CHAPTERS, ids=IDS)


@chapter
def test_file_name(path):
    assert re.fullmatch(r"(\d\d|appendix)-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name), (
        f"{path.name}: chapter files are named NN-short-slug.ipynb or appendix-slug.ipynb "
        "(lowercase, hyphens) so that URLs stay stable"
    )


@chapter
def test_executed_without_errors(path):
    nb = load(path)
    unexecuted = [
        i for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and source(c).strip() and c.get("execution_count") is None
    ]
    assert not unexecuted, (
        f"{path.name}: code cells {unexecuted[:5]} were never executed; run `make execute` "
        "(or `jupyter execute --inplace`) and commit the notebook with its outputs"
    )
    errors = [
        (i, o.get("ename"))
        for i, c in enumerate(nb["cells"])
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: stored error outputs in cells {errors}"
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    assert kernel == "python3", (
        f"{path.name}: kernelspec name is {kernel!r}; use 'python3' so the book and nbval "
        "run it with the project's environment"
    )


@chapter
def test_title_first(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "markdown" and source(first).lstrip().startswith("# "), (
        f"{path.name}: the first cell must be a markdown cell starting with the '# ' title"
    )


@chapter
def test_headings_in_order(path):
    text = FENCED_BLOCK.sub("", markdown(load(path)))
    levels = [len(h) for h in HEADING.findall(text)]
    assert levels.count(1) == 1, f"{path.name}: exactly one '# ' heading (the title), found {levels.count(1)}"
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not jumps, f"{path.name}: heading levels skip (e.g. '#' then '###'): {jumps[:3]}"


@chapter
def test_learning_goals(path):
    found = any(
        name in ("admonition", "note", "tip", "important") and "learning goals" in (arg + body[:80]).lower()
        for name, arg, _, body in directives(markdown(load(path)))
    )
    assert found, (
        f"{path.name}: needs a 'Learning goals' admonition near the top: "
        "```{admonition} Learning goals ... ```"
    )


@chapter
def test_exercises_with_hidden_solutions(path):
    nb = load(path)
    order, solutions = [], {}
    for name, arg, opts, _ in directives(markdown(nb)):
        if name in ("exercise", "exercise-start"):
            order.append(opts.get("label", f"<unlabelled exercise #{len(order) + 1}>"))
        elif name in ("solution", "solution-start"):
            solutions.setdefault(arg, []).append(opts.get("class", ""))
    assert len(order) >= 3, f"{path.name}: has {len(order)} {{exercise}} blocks; needs at least 3"
    for label in order:
        assert label in solutions, (
            f"{path.name}: exercise {label!r} has no ```{{solution}} {label}``` after it "
            "(give every exercise a :label: and a solution)"
        )
        assert all("dropdown" in cls.split() for cls in solutions[label]), (
            f"{path.name}: the solution of {label!r} must be hidden: add ':class: dropdown'"
        )
    # each solution follows its exercise
    text = markdown(nb)
    for label in order:
        ex = re.search(r":label:[ \t]*" + re.escape(label) + r"[ \t]*$", text, re.M)
        sol = re.search(r"\{solution(?:-start)?\}[ \t]*" + re.escape(label) + r"[ \t]*$", text, re.M)
        if ex and sol:
            assert sol.start() > ex.start(), f"{path.name}: the solution of {label!r} comes before the exercise"


@chapter
def test_summary_and_references_sections(path):
    text = markdown(load(path))
    for section in ("Summary", "References"):
        assert re.search(rf"^##+\s+{section}\b", text, re.M | re.I), (
            f"{path.name}: needs a '## {section}' section"
        )


@chapter
def test_one_bibliography_for_the_book(path):
    names = [name for name, *_ in directives(markdown(load(path)))]
    assert "bibliography" not in names, (
        f"{path.name}: do not add a {{bibliography}} directive in a chapter: the book has one "
        "bibliography (chapters/bibliography.md) and a second copy of an entry is a duplicate-"
        "citation warning that fails the build. List the works in '## References' with "
        "{cite:t}`key` instead."
    )


@chapter
def test_prose_numbers_are_expressions_over_num(path):
    """Prose numbers are {eval} expressions over the chapter's `num` (no myst-nb glue)."""
    nb = load(path)
    text = markdown(nb)
    problems = []
    if GLUE_ROLE.search(text) or any(name.startswith("glue") for name, *_ in directives(text)):
        problems.append("prose still uses {glue:...}: JupyterLab cannot show it; write {eval}`f\"{num.key:fmt}\"`")
    for expr in EVAL_ROLE.findall(text):
        if not re.search(r"\bnum(\.|\[)", expr):
            problems.append(f"{{eval}}`{expr}` does not quote a number from `num`")
    assert not problems, f"{path.name}: " + "; ".join(problems[:5])


@chapter
def test_runs_without_myst_nb(path):
    """A learner on Colab has no myst_nb: no code cell may import it."""
    bad = [i for i, c in enumerate(load(path)["cells"])
           if c["cell_type"] == "code" and re.search(r"^\s*(from|import)\s+myst_nb", source(c), re.M)]
    assert not bad, f"{path.name}: code cells {bad} import myst_nb; store numbers on `num` instead of glue()"


@chapter
def test_every_expression_has_a_stored_result(path):
    """make execute stores each {eval} result (JupyterLab shows them on opening; nbval compares)."""
    problems = []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        exprs = nbeval.expressions(source(cell))
        stored = cell.get("metadata", {}).get("user_expressions", [])
        if [s.get("expression") for s in stored] != exprs:
            problems.append(f"markdown cell {i}: stored results do not match its expressions (run make execute)")
            continue
        for s in stored:
            if s.get("result", {}).get("status") != "ok":
                problems.append(f"markdown cell {i}: {{eval}}`{s['expression']}` failed when executed")
    assert not problems, f"{path.name}: " + "; ".join(problems[:5])


@chapter
def test_no_typed_numbers_in_prose(path):
    bad = []
    for i, text in enumerate(markdown_cells(load(path))):
        hits = TYPED_NUMBER.findall(NOT_PROSE.sub("", text))
        if hits:
            bad.append((i, hits[:4]))
    assert not bad, (
        f"{path.name}: numbers typed into the prose (markdown cell index, numbers): {bad[:5]}; "
        "compute them in code, store them on `num` and write {eval}`f\"{num.key:fmt}\"`"
    )


def _image_outputs(cell):
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(k.startswith("image/") for k in data):
            yield out


@chapter
def test_figures_have_alt_text(path):
    nb = load(path)
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or tags(cell) & {"remove-output", "remove-cell"}:
            continue
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        for out in _image_outputs(cell):
            if not alt.strip():
                problems.append(f"cell {i}: a figure without alt text (set metadata mystnb.image.alt)")
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            for tag in re.findall(r"<img\b[^>]*>", html):
                alt_attr = re.search(r"""\balt\s*=\s*["']([^"']*)["']""", tag)
                if not (alt_attr and alt_attr.group(1).strip()):
                    problems.append(
                        f"cell {i}: an HTML output has an <img> without alt text (build animation "
                        "players with cl.plotting.player(..., alt=...))"
                    )
    assert not problems, f"{path.name}: " + "; ".join(sorted(set(problems))[:6])


@chapter
def test_live_widgets_are_marked(path):
    """A live explorer is a cell tagged 'live': stored without output, run by nbval without
    comparing its output, removed from the static site and not executed when the site is built
    ('skip-execution': a widget made at build time would leave widget state in the page, whose
    loader then requests modules the offline site does not have), and introduced as needing a
    kernel."""
    nb = load(path)
    problems = []
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        widget = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.get("outputs", []))
        if widget and "live" not in tags(cell):
            problems.append(f"cell {i}: a widget output in a cell not tagged 'live'")
        if "live" not in tags(cell):
            continue
        missing = {"nbval-ignore-output", "remove-cell", "skip-execution"} - tags(cell)
        if missing:
            problems.append(f"cell {i}: a live explorer also needs the tags {sorted(missing)}")
        if cell.get("outputs"):
            problems.append(f"cell {i}: a live explorer is stored without outputs (run tools/execute.py)")
        before = source(cells[i - 1]) if i > 0 and cells[i - 1]["cell_type"] == "markdown" else ""
        if "kernel" not in before.lower():
            problems.append(
                f"cell {i}: say that this explorer needs a running kernel (in the markdown cell "
                "just before it): online the static page cannot run it"
            )
    assert not problems, f"{path.name}: " + "; ".join(problems)


@chapter
def test_solution_cells_are_tagged(path):
    """Code that computes a solution's numbers sits between the exercise and its solution,
    tagged 'solution' (student handouts drop it) and 'hide-input'."""
    cells = load(path)["cells"]
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        after = next((source(c) for c in cells[i + 1:] if c["cell_type"] == "markdown"), "")
        before = next((source(c) for c in reversed(cells[:i]) if c["cell_type"] == "markdown"), "")
        between = "{exercise}" in before and after.lstrip().startswith(("```{solution}", "````{solution}"))
        if between and not {"solution", "hide-input"} <= tags(cell):
            problems.append(f"cell {i}: a solution's code needs the tags 'solution' and 'hide-input'")
        if "solution" in tags(cell) and not between:
            problems.append(f"cell {i}: tagged 'solution' but not between an exercise and its solution")
    assert not problems, f"{path.name}: " + "; ".join(problems)


@chapter
def test_cited_keys_exist(path):
    _check_cites(path, markdown(load(path)))


# ---------------------------------------------------------------------------- whole book
@pytest.mark.parametrize("path", MD_PAGES, ids=[p.name for p in MD_PAGES])
def test_md_page_cites_exist(path):
    _check_cites(path, path.read_text(encoding="utf-8"))


def _check_cites(path, text):
    keys = {k.strip() for group in CITE_ROLE.findall(text) for k in group.split(",")}
    missing = sorted(keys - bib_keys())
    assert not missing, f"{path.name}: cites keys not in references.bib: {missing}"


def test_every_chapter_is_in_the_toc():
    listed = set(toc_files())
    missing = [p.name for p in CHAPTERS if f"chapters/{p.stem}" not in listed]
    assert not missing, f"_toc.yml does not list these chapters (add `- file: chapters/<name>`): {missing}"


def test_every_toc_entry_exists():
    absent = [f for f in toc_files() if not any((ROOT / f"{f}{ext}").exists() for ext in (".ipynb", ".md"))]
    assert not absent, f"_toc.yml lists files that do not exist (the -W build fails): {absent}"


def test_bibliography_keys_unique_and_identified():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", text, re.M)
    assert len(keys) == len(set(keys)), "references.bib has duplicate keys"
    for entry in re.split(r"^@", text, flags=re.M)[1:]:
        key = entry.split("{", 1)[1].split(",", 1)[0]
        fields = set(re.findall(r"^\s*(\w+)\s*=", entry, re.M))
        assert {"author", "title", "year"} <= fields, f"references.bib: {key} lacks author, title or year"


@chapter
def test_concept_checks(path):
    """A numbered chapter ends its sections with 3-5 concept checks, answers hidden."""
    if not re.match(r"\d\d-", path.name):
        return
    cells = markdown_cells(load(path))
    found = [c for c in cells if re.match(r"^##\s+Check your understanding\s*$", c.split("\n", 1)[0])]
    assert len(found) == 1, f"{path.name}: needs one '## Check your understanding' section before the exercises"
    other = [c.split("\n", 1)[0] for c in cells if re.match(r"^##\s+(Concept checks?|Self[- ]check|Quiz)\b", c)]
    assert not other, f"{path.name}: concept checks belong in the one 'Check your understanding' section: {other}"
    answers = [(arg, opts) for name, arg, opts, _ in directives(found[0]) if name == "admonition"]
    assert 3 <= len(answers) <= 5, f"{path.name}: {len(answers)} concept checks; give 3 to 5"
    assert all(arg == "Answer" and "dropdown" in opts.get("class", "").split() for arg, opts in answers), (
        f"{path.name}: every concept-check answer is an 'Answer' admonition with ':class: dropdown'")
    assert cells.index(found[0]) < next(i for i, c in enumerate(cells) if re.search(r"^##\s+Exercises", c, re.M)), (
        f"{path.name}: the concept checks come before the exercises")


@chapter
def test_appendix_exercises_are_titled_not_numbered(path):
    """Appendices are not numbered chapters: their exercises carry a title and no number.

    Sphinx-exercise numbers exercises in unnumbered documents with one counter running across
    all of them (the errata's 1-3, the metrics guide's 4-6, ...), which reads as a clash with
    chapter 1's exercises; ``:nonumber:`` with a title avoids it.
    """
    if re.match(r"\d\d-", path.name):
        return
    for name, arg, opts, _ in directives(markdown(load(path))):
        if name in ("exercise", "exercise-start"):
            assert "nonumber" in opts and arg.strip(), (
                f"{path.name}: exercise {opts.get('label')!r} needs a title and ':nonumber:'")
