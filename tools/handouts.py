"""Handouts: a student copy of every chapter notebook (solutions removed) and an instructor copy.

``make book`` publishes both next to the site (``_build/html/handouts/student/`` and
``_build/html/handouts/instructor/``, written by tools/book_ext.py when the HTML build
finishes) and the instructors page links them. A solution in a chapter is two cells: a code
cell tagged ``solution`` that computes its numbers, and a markdown cell holding the
``{solution}`` directive. The student copy drops both and keeps everything else, exercises
included; a note at the top says what was removed. The instructor copy is the chapter as it is.

Run by hand: ``python tools/handouts.py OUTDIR`` writes both sets for the chapters in _toc.yml.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from pathlib import Path

import yaml

SOLUTION_DIRECTIVE = re.compile(r"^[ \t]*(`{3,}|:{3,})\{solution\}", re.M)
#: a whole ``{solution}`` block: its opening fence to the same fence closing it (nested
#: fences inside a solution are shorter, as MyST requires)
SOLUTION_BLOCK = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n.*?^[ \t]*(?P=fence)[ \t]*$\n?",
                            re.M | re.S)
STUDENT_NOTE = (
    "*Student copy*: the exercises are here; their solutions (a hidden code cell and a dropdown "
    "after each exercise in the book) have been removed. Everything else, including every "
    "number in the prose, is computed by the cells as in the book."
)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_solution(cell) -> bool:
    """A solution's code cell (tagged ``solution``)."""
    return cell.get("cell_type") == "code" and "solution" in cell.get("metadata", {}).get("tags", [])


def count_solutions(nb: dict) -> int:
    """Solution blocks (``{solution}`` directives) in the notebook's markdown."""
    return sum(len(SOLUTION_BLOCK.findall(_source(c))) for c in nb["cells"] if c.get("cell_type") == "markdown")


def _without_solutions(cell):
    """A markdown cell with its ``{solution}`` blocks cut out (None if nothing is left);
    stored {eval} results are kept for the expressions still in the text."""
    text = _source(cell)
    kept = SOLUTION_BLOCK.sub("", text)
    if kept == text:
        return cell
    if not kept.strip():
        return None
    cell = dict(cell, source=re.sub(r"\n{3,}", "\n\n", kept).strip("\n") + "\n")
    stored = cell.get("metadata", {}).get("user_expressions")
    if stored is not None:
        cell["metadata"] = dict(cell["metadata"], user_expressions=[
            s for s in stored if f"{{eval}}`{s['expression']}`" in cell["source"]])
    return cell


def student_copy(nb: dict) -> dict:
    """The notebook without its solutions (code cells tagged ``solution`` and ``{solution}``
    blocks in the markdown), with a note after the title cell."""
    out = copy.deepcopy(nb)
    cells = []
    for c in out["cells"]:
        if is_solution(c):
            continue
        if c.get("cell_type") == "markdown":
            c = _without_solutions(c)
            if c is None:
                continue
        cells.append(c)
    note = {"cell_type": "markdown", "id": "student-copy-note", "metadata": {}, "source": STUDENT_NOTE}
    if cells and cells[0]["cell_type"] == "markdown":
        cells.insert(1, note)
    else:
        cells.insert(0, note)
    out["cells"] = cells
    return out


def names_needed_from_solutions(nb: dict) -> set[str]:
    """Names a non-solution cell reads that only a solution cell (before it) assigns.

    Empty for a chapter whose student copy runs: removing the solutions removes nothing
    that the rest of the chapter uses.
    """
    from_solutions, from_others, missing = set(), set(), set()
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stored |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                   if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if is_solution(cell):
            from_solutions |= stored
            continue
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        missing |= (loaded & from_solutions) - from_others - stored
        from_others |= stored
    return missing


def toc_chapters(root: Path) -> list[Path]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    out = []
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []) or []:
            path = root / f"{entry.get('file', '')}.ipynb"
            if path.is_file():
                out.append(path)
    return out


def write_handouts(root: Path, outdir: Path) -> list[Path]:
    """Write handouts/student, handouts/instructor and handouts/assignments (the assignment
    starter notebooks) under ``outdir``; return the paths."""
    written = []
    for kind in ("student", "instructor"):
        (outdir / "handouts" / kind).mkdir(parents=True, exist_ok=True)
    (outdir / "handouts" / "assignments").mkdir(parents=True, exist_ok=True)
    for path in assignment_starters(root):  # starters only: reference solutions stay in the repository
        target = outdir / "handouts" / "assignments" / path.name
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target)
    for path in toc_chapters(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for kind, content in (("student", student_copy(nb)), ("instructor", nb)):
            target = outdir / "handouts" / kind / path.name
            target.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(target)
    return written


def handouts_table(root: Path) -> str:
    """Markdown for the instructors page: one row per chapter, links relative to chapters/."""
    rows = ["| chapter | student copy | instructor copy |", "|---|---|---|"]
    for path in toc_chapters(root):
        rows.append(
            f"| {{doc}}`/chapters/{path.stem}` "
            f"| <a href=\"../handouts/student/{path.name}\" download>{path.name}</a> "
            f"| <a href=\"../handouts/instructor/{path.name}\" download>{path.name}</a> |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/handouts.py OUTDIR")
    for p in write_handouts(Path(__file__).resolve().parents[1], Path(sys.argv[1])):
        print(p)


# ------------------------------------------------------------------ assignments
ASSIGNMENTS_MARKER = "<!-- assignments -->"
_POINTS = re.compile(r"^(?:##\s+(?P<h>.+?)\s+\((?P<p>\d+) points\)\s*$|\*\*(?P<b>[^*(]+?)\s+\((?P<q>\d+) points[^)]*\)\.\*\*)", re.M)


def assignment_starters(root: Path) -> list[Path]:
    return sorted((root / "assignments").glob("A[0-9]*.ipynb"))


def assignment_info(path: Path) -> dict:
    """Title, introduction, time, rubric (part, points, checked automatically?) of a starter."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    first = _source(cells[0]).strip().split("\n")
    title = first[0].lstrip("# ").strip()
    paragraphs = "\n".join(first[1:]).strip().split("\n\n")
    intro = paragraphs[0].replace("\n", " ") if paragraphs else ""
    hours = re.search(r"\*\*Estimated time\*\*:\s*([^.]+)\.", _source(cells[0]))
    builds_on = re.search(r"\*\*Builds on\*\*\s*([^.]+)\.", _source(cells[0]))
    rubric, checked = [], set()
    for i, c in enumerate(cells):
        text = _source(c)
        if c["cell_type"] != "markdown":
            continue
        for m in _POINTS.finditer(text):
            part = (m.group("h") or m.group("b")).strip()
            points = int(m.group("p") or m.group("q"))
            # a part is checked automatically when a cl.course.check cell follows it
            following = []
            for d in cells[i + 1:]:
                if d["cell_type"] == "markdown":
                    break
                following.append(_source(d))
            auto = any("cl.course.check(" in s for s in following)
            rubric.append((part, points, auto))
    return {"title": title, "intro": intro, "hours": hours.group(1).strip() if hours else "",
            "builds_on": builds_on.group(1).strip() if builds_on else "", "rubric": rubric,
            "file": path.name}


def assignments_overview(root: Path) -> str:
    """Markdown for chapters/assignments.md: one section per starter notebook."""
    out = []
    for path in assignment_starters(root):
        info = assignment_info(path)
        total = sum(p for _, p, _ in info["rubric"])
        out.append(f"## {info['title']}\n")
        out.append(info["intro"] + "\n")
        out.append(f"- **Builds on**: {info['builds_on']}")
        out.append(f"- **Estimated time**: {info['hours']}")
        out.append(f"- **Starter notebook**: <a href=\"../handouts/assignments/{info['file']}\" download>"
                   f"{info['file']}</a>")
        out.append(f"- **Rubric** ({total} points):")
        for part, points, auto in info["rubric"]:
            how = "checked by `make check-assignment`" if auto else "graded by the instructor"
            out.append(f"  - {part}: {points} points, {how}")
        out.append("")
    return "\n".join(out) if out else "No assignments yet.\n"
