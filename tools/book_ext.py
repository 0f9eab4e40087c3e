"""Sphinx extension local to this book (loaded through `sphinx.local_extensions` in _config.yml).

- Library reference: expands the marker ``<!-- collapse_lib submodules -->`` in
  chapters/library-reference.md into the package's layout: the engine (the top-level
  modules) and then each wing (``collapse_lib.models``, ``.worlds``, ``.studies``), the
  wing's docstring as its introduction, with one autodoc section per public module, all
  found at build time, so a module added to the library appears in the reference without
  editing the page. Names re-exported in ``collapse_lib.__all__`` are documented once,
  under ``collapse_lib.<name>``, and excluded from their module section.
- Short names: a docstring may write :func:`simulate` or :class:`Normal` from any module;
  a Python reference that Sphinx cannot resolve is retried as ``collapse_lib.<name>`` and
  then as the one documented ``collapse_lib`` object whose dotted name ends with it
  (``collapse_lib.<module>.<name>`` and ``collapse_lib.<wing>.<module>.<name>`` are
  retried as ``collapse_lib.<name>``). A reference that matches nothing (or several
  things) still fails the -n build.
- Course overview: expands ``<!-- course overview -->`` in chapters/instructors.md into
  one entry per chapter in _toc.yml order, read from the notebooks at build time (title,
  learning goals, prerequisites = earlier chapters it links to plus any listed in the
  notebook metadata ``course.prerequisites``, approximate time, exercises), so the page
  cannot fall out of sync with the chapters.
- Role ``{chapter}`04``: a link to the chapter whose file starts with ``04-`` (its title
  as link text); plain text if that chapter is not (yet) in the book.
- Offline animation players: matplotlib's ``to_jshtml()`` output links Font Awesome 4 from
  maxcdn.bootstrapcdn.com for its button icons. That remote stylesheet is removed from
  notebook HTML outputs; the theme's own bundled Font Awesome draws the same ``fa fa-*``
  icons, so the page makes no request to another host.
- Handouts: expands ``<!-- handouts -->`` in chapters/instructors.md into a table of links
  to a student copy (solutions removed) and an instructor copy of every chapter notebook,
  and writes those copies under ``handouts/`` in the HTML output when the build finishes
  (tools/handouts.py). Likewise ``<!-- assignments -->`` in chapters/assignments.md becomes
  one section per assignment starter notebook (title, time, rubric, download link), and the
  starters are published under ``handouts/assignments/``.
- One copy of each script: sphinx-thebe (loaded by Jupyter Book) adds its inline
  configuration after the builder started, Sphinx 7.4 then lists it twice (filename None
  and ''), and the second `const THEBE_JS_URL` is a console error on every page.
  Identical scripts are kept once.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes

SUBMODULES_MARKER = "<!-- collapse_lib submodules -->"


#: the wings in import order (studies -> models/worlds -> engine); others follow, sorted
WING_ORDER = ("models", "worlds", "studies")
ENGINE_INTRO = (
    "The top-level modules of the package. Distributions, families, schemes, "
    "filters and `simulate` make the recursion; `exact` runs it on exact laws where it can; "
    "`metrics`, `theory` and `plotting` measure and explain it. The engine imports no wing; "
    "the wings below build on it."
)


def public_submodules(package_name: str = "collapse_lib") -> list[str]:
    """Public modules (not subpackages) directly inside a package, sorted."""
    package = importlib.import_module(package_name)
    return sorted(
        m.name for m in pkgutil.iter_modules(package.__path__)
        if not m.name.startswith("_") and not m.ispkg
    )


def wings(package_name: str = "collapse_lib") -> list[str]:
    """The package's subpackages (its wings), in import order."""
    package = importlib.import_module(package_name)
    found = [m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg and not m.name.startswith("_")]
    return [w for w in WING_ORDER if w in found] + sorted(w for w in found if w not in WING_ORDER)


def module_section(parent_name: str, name: str, exported: set, heading: str = "####") -> str:
    """One autodoc section for module ``parent_name.name``."""
    parent = importlib.import_module(parent_name)
    module = importlib.import_module(f"{parent_name}.{name}")
    again = sorted(
        n for n in exported
        if getattr(getattr(module, n, None), "__module__", None) == module.__name__
    )
    options = "   :members:\n"
    if getattr(parent, name, module) is not module:
        # the module shares its name with an exported object (collapse_lib.simulate)
        options += "   :no-index:\n"
    if again:
        options += f"   :exclude-members: {', '.join(again)}\n"
    return (
        f"{heading} `{module.__name__}`\n\n```{{eval-rst}}\n"
        f".. automodule:: {module.__name__}\n{options}```\n"
    )


def submodule_sections(package_name: str = "collapse_lib") -> str:
    package = importlib.import_module(package_name)
    exported = set(getattr(package, "__all__", []))
    parts = [f"### Engine: the top-level modules of `{package_name}`\n\n{ENGINE_INTRO}\n"]
    parts += [module_section(package_name, name, exported) for name in public_submodules(package_name)]
    for wing in wings(package_name):
        full = f"{package_name}.{wing}"
        # the wing's docstring introduces it; its members are documented in its modules
        parts.append(
            f"### {wing.capitalize()}: `{full}`\n\n```{{eval-rst}}\n"
            f".. automodule:: {full}\n   :no-members:\n```\n"
        )
        parts += [module_section(full, name, exported) for name in public_submodules(full)]
    return "\n".join(parts)


COURSE_MARKER = "<!-- course overview -->"
# The time model (minutes a student needs for a chapter, reading, running and exercises):
# technical prose at 150 words a minute; 0.2 min per inline formula and 2 per displayed
# one; 0.08 min per line of code shown on the page (read and run; hidden solution code is
# not counted); 2 min per figure or animation; 10 min per exercise. Calibrated against
# timed readings of three chapters (TIMED_READINGS, minutes, a reader working every
# exercise); the instructors page prints the model beside them.
WORDS_PER_MINUTE = 150
MINUTES_PER_INLINE_MATH = 0.2
MINUTES_PER_DISPLAY_MATH = 2.0
MINUTES_PER_CODE_LINE = 0.08
MINUTES_PER_FIGURE = 2.0
MINUTES_PER_EXERCISE = 10
TIMED_READINGS = {"02": 85, "04": 100, "08": 65}
INLINE_MATH = re.compile(r"(?<![$\\])\$(?!\$)[^$\n]+?(?<![\\])\$(?!\$)")
DISPLAY_MATH = re.compile(r"\$\$.+?\$\$|^[ \t]*(`{3,}|:{3,})\{math\}|\\begin\{(?:align|equation|gather)\*?\}", re.S | re.M)
DIRECTIVE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.M | re.S,
)


def _cell_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _plain(text: str, values: dict | None = None) -> str:
    """Markdown to one line of plain-ish text (for short descriptions); ``{eval}`` roles
    become their stored results (``values``: expression -> text)."""
    values = values or {}
    text = re.sub(r"^[ \t]*:[\w-]+:.*$", "", text, flags=re.M)          # directive options
    text = re.sub(r"\{eval\}`([^`]*)`", lambda m: values.get(m.group(1), "(a computed value)"), text)
    text = re.sub(r"\{glue[^}]*\}`[^`]*`", "(a computed value)", text)
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # other roles
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\$([^$]*)\$", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _first_sentence(text: str, limit: int = 160, values: dict | None = None) -> str:
    text = _plain(text, values)
    # a sentence ends at . ? or ! followed by a space, but not after "et al." or "e.g."
    m = re.match(r"(.+?(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bvs)[.?!])(\s|$)", text)
    sentence = m.group(1) if m else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def _stored_values(nb) -> dict:
    """expression -> its stored text result, from the markdown cells' ``user_expressions``."""
    values = {}
    for cell in nb["cells"]:
        for item in cell.get("metadata", {}).get("user_expressions", []):
            data = item.get("result", {}).get("data", {})
            if "text/plain" in data:
                values[item["expression"]] = data["text/plain"].strip("'\"")
    return values


def _shown_code(cell) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return cell["cell_type"] == "code" and not tags & {"remove-cell", "remove-input", "hide-input", "solution"}


def time_model(nb) -> dict:
    """The time model's inputs and its minutes for one chapter (see the constants above)."""
    md = "\n\n".join(_cell_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    prose = re.sub(r"```.*?```", " ", md, flags=re.S)
    counts = {
        "words": len(prose.split()),
        "inline_math": len(INLINE_MATH.findall(md)),
        "display_math": len(DISPLAY_MATH.findall(md)),
        "code_lines": sum(len(_cell_text(c).strip().splitlines()) for c in nb["cells"] if _shown_code(c)),
        "figures": sum(1 for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                       if "image/png" in o.get("data", {}) or "<div class=\"animation\"" in
                       "".join(o.get("data", {}).get("text/html", ""))),
        "exercises": len(re.findall(r"^[ \t]*(?:`{3,}|:{3,})\{exercise(?:-start)?\}", md, re.M)),
    }
    parts = {
        "reading_min": counts["words"] / WORDS_PER_MINUTE
        + MINUTES_PER_INLINE_MATH * counts["inline_math"] + MINUTES_PER_DISPLAY_MATH * counts["display_math"],
        "code_min": MINUTES_PER_CODE_LINE * counts["code_lines"] + MINUTES_PER_FIGURE * counts["figures"],
        "exercise_min": MINUTES_PER_EXERCISE * counts["exercises"],
    }
    return {**counts, **{k: round(v) for k, v in parts.items()}, "minutes": round(sum(parts.values()))}


def chapter_info(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    values = _stored_values(nb)
    md = "\n\n".join(_cell_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    title = re.search(r"^#\s+(.+)$", md, re.M)
    goals, exercises = [], []
    for m in DIRECTIVE.finditer(md):
        name, arg, body = m.group("name"), m.group("arg"), m.group("body")
        if name == "admonition" and "learning goals" in arg.lower():
            items = re.split(r"^\s*(?:[-*]|\d+[.)])\s+", body, flags=re.M)[1:]
            goals = [_plain(item, values) for item in items if item.strip()]
        if name in ("exercise", "exercise-start"):
            label = re.search(r"^[ \t]*:label:[ \t]*(\S+)", body, re.M)
            exercises.append((label.group(1) if label else None, _first_sentence(body, values=values)))
    words = len(re.sub(r"```.*?```", " ", md, flags=re.S).split())
    links = set(re.findall(r"(\d\d)-[a-z0-9-]+(?:\.ipynb|\.md)?", md))
    number = path.name[:2]
    prereq = sorted(n for n in links if n.isdigit() and number.isdigit() and n < number)
    meta = nb.get("metadata", {}).get("course", {})
    return {
        "docname": f"chapters/{path.stem}",
        "number": number,
        "title": title.group(1).strip() if title else path.stem,
        "goals": goals,
        "exercises": exercises,
        "prerequisites": prereq,
        "extra_prerequisites": list(meta.get("prerequisites", [])),
        "time": time_model(nb),
        "minutes": time_model(nb)["minutes"],
    }


def toc_chapters(srcdir: Path) -> list[tuple[str, Path]]:
    """(part caption, notebook path) for every notebook chapter in _toc.yml, in order."""
    toc = yaml.safe_load((srcdir / "_toc.yml").read_text())
    out = []
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []) or []:
            path = srcdir / f"{entry.get('file', '')}.ipynb"
            if path.is_file():
                out.append((part.get("caption", ""), path))
    return out


def course_overview(srcdir: Path, found_docs=None) -> str:
    lines, current = [], None
    # forward prerequisites: the later chapters that link back to each chapter
    used_by: dict[str, list[str]] = {}
    for _, path in toc_chapters(srcdir):
        info = chapter_info(path)
        for n in info["prerequisites"] + [str(x)[:2] for x in info["extra_prerequisites"]]:
            used_by.setdefault(n, []).append(info["number"])
    for caption, path in toc_chapters(srcdir):
        if found_docs is not None and f"chapters/{path.stem}" not in found_docs:
            continue
        info = chapter_info(path)
        if caption != current:
            lines.append(f"## {caption}\n")
            current = caption
        lines.append(f"### {{doc}}`/{info['docname']}`\n")
        pre = [f"{{chapter}}`{n}`" for n in info["prerequisites"]] + info["extra_prerequisites"]
        lines.append(f"- **Prerequisites**: {', '.join(pre) if pre else 'none beyond the course background'}")
        t = info["time"]
        lines.append(
            f"- **Approximate time**: {t['minutes']} min ({t['reading_min']} min reading with the "
            f"mathematics, {t['code_min']} min reading and running the code and figures, "
            f"{t['exercise_min']} min for {t['exercises']} exercises)"
        )
        later = used_by.get(info["number"], [])
        if later:
            lines.append(f"- **Leads to**: {', '.join(f'{{chapter}}`{n}`' for n in later)}")
        if info["goals"]:
            lines.append("- **Learning goals**:")
            lines.extend(f"  - {g}" for g in info["goals"])
        lines.append("- **Exercises**:")
        for label, text in info["exercises"]:
            ref = f"{{ref}}`{label}`: " if label else ""
            lines.append(f"  - {ref}{text}")
        lines.append("")
    return "\n".join(lines) if lines else "No chapters yet.\n"


TIME_MARKER = "<!-- time model -->"
SCHEDULE_MARKER = "<!-- schedule -->"

#: the two-week module: eight 90-minute meetings, four a week; chapters by number (a chapter
#: not in the book is left out), the exercises worked in class, and the assignments.
SCHEDULE = [
    (1, "The phenomenon and the source's experiment", ["01", "02"], "2.1 and 2.2 in class", "Assignment 1 out"),
    (1, "Why tails go first; the Gaussian refit", ["03", "04"], "3.1 and 4.1 in class", ""),
    (1, "Words and pictures; the derivations", ["05", "06"], "problem set 1-5 as homework", ""),
    (1, "The published experiments; filtering", ["07", "08"], "7.1 and 8.1 in class",
     "Assignment 1 due; Assignment 2 or 3 out"),
    (2, "The drifting web; the risk taxonomy", ["09", "10"], "9.1 and 10.1 in class", "problem set 6-10 as homework"),
    (2, "Monitoring; the honest summary", ["11", "12"], "11.1 and 12.1 in class", ""),
    (2, "A language model; regression collapse", ["13", "14"], "13.1 and 14.1 in class",
     "Assignment 2 or 3 due; Assignment 4 or 5 out"),
    (2, "The results the field cites; wrap-up", ["15", "16"], "15.1 and 16.1 in class",
     "Assignment 4 or 5 due a week later"),
]
CLASS_MINUTES = 90


def time_calibration(srcdir: Path) -> str:
    """The time model beside the timed readings (a table for the instructors page)."""
    rows = ["| chapter | timed reading (min) | time model (min) |", "|---|---:|---:|"]
    for number, timed in TIMED_READINGS.items():
        paths = sorted((srcdir / "chapters").glob(f"{number}-*.ipynb"))
        if paths:
            model = time_model(json.loads(paths[0].read_text(encoding="utf-8")))["minutes"]
            rows.append(f"| {{chapter}}`{number}` | {timed} | {model} |")
    return "\n".join(rows) + "\n"


def schedule(srcdir: Path, found_docs=None) -> str:
    """The two-week plan, with each meeting's preparation time from the time model."""
    chapters = {}
    for _, path in toc_chapters(srcdir):
        if found_docs is None or f"chapters/{path.stem}" in found_docs:
            chapters[path.name[:2]] = time_model(json.loads(path.read_text(encoding="utf-8")))["minutes"]
    rows = ["| week | meeting | topic | chapters | exercises | assignments | student time outside class (h) |",
            "|---|---:|---|---|---|---|---:|"]
    weekly: dict[int, float] = {}
    for i, (week, topic, numbers, exercises, assignments) in enumerate(SCHEDULE, 1):
        present = [n for n in numbers if n in chapters]
        if not present:
            continue
        outside = max(sum(chapters[n] for n in present) - CLASS_MINUTES, 0) / 60
        weekly[week] = weekly.get(week, 0) + outside
        rows.append(f"| {week} | {i} | {topic} | {', '.join(f'{{chapter}}`{n}`' for n in present)} "
                    f"| {exercises} | {assignments or '-'} | {outside:.1f} |")
    total = " ".join(f"Week {w}: {h:.1f} h outside class." for w, h in weekly.items())
    return "\n".join(rows) + f"\n\n{total} Add about four hours a week for the assignments.\n"


MAP_MARKER = "<!-- chapter map -->"


def chapter_map(srcdir: Path, found_docs=None) -> str:
    """One line per chapter, grouped by part: link and the question it answers."""
    lines, current = [], None
    for caption, path in toc_chapters(srcdir):
        if found_docs is not None and f"chapters/{path.stem}" not in found_docs:
            continue
        if caption != current:
            lines.append(f"\n**{caption}**\n")
            current = caption
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = _cell_text(nb["cells"][0]) if nb["cells"] else ""
        para = "\n".join(first.split("\n")[1:]).strip().split("\n\n")[0]
        lines.append(f"- {{doc}}`/chapters/{path.stem}`: {_first_sentence(para, 200)}")
    return "\n".join(lines) + "\n"


HANDOUTS_MARKER = "<!-- handouts -->"


def _write_handouts(app, exception):
    if exception is None and app.builder.format == "html":
        import handouts  # tools/handouts.py (tools/ is on the path as the extension's folder)

        handouts.write_handouts(Path(app.srcdir), Path(app.outdir))


def _expand_markers(app, docname, source):
    if "<!-- assignments -->" in source[0]:
        import handouts

        for path in handouts.assignment_starters(Path(app.srcdir)):
            app.env.note_dependency(str(path))
        source[0] = source[0].replace("<!-- assignments -->", handouts.assignments_overview(Path(app.srcdir)))
    if TIME_MARKER in source[0] or SCHEDULE_MARKER in source[0]:
        srcdir = Path(app.srcdir)
        for _, path in toc_chapters(srcdir):
            app.env.note_dependency(str(path))
        source[0] = source[0].replace(TIME_MARKER, time_calibration(srcdir))
        source[0] = source[0].replace(SCHEDULE_MARKER, schedule(srcdir, app.env.found_docs))
    if HANDOUTS_MARKER in source[0]:
        import handouts

        for path in handouts.toc_chapters(Path(app.srcdir)):
            app.env.note_dependency(str(path))
        source[0] = source[0].replace(HANDOUTS_MARKER, handouts.handouts_table(Path(app.srcdir)))
    if MAP_MARKER in source[0]:
        for _, path in toc_chapters(Path(app.srcdir)):
            app.env.note_dependency(str(path))
        source[0] = source[0].replace(MAP_MARKER, chapter_map(Path(app.srcdir), app.env.found_docs))
    if SUBMODULES_MARKER in source[0]:
        source[0] = source[0].replace(SUBMODULES_MARKER, submodule_sections())
    if COURSE_MARKER in source[0]:
        srcdir = Path(app.srcdir)
        for _, path in toc_chapters(srcdir):
            app.env.note_dependency(str(path))
        overview = course_overview(srcdir, app.env.found_docs)
        source[0] = source[0].replace(COURSE_MARKER, overview)


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    env = inliner.document.settings.env
    number = text.strip()
    matches = [
        p for p in sorted((Path(env.srcdir) / "chapters").glob(f"{number}-*.ipynb"))
        if f"chapters/{p.stem}" in env.found_docs  # in the toc, so built
    ]
    if not matches:
        return [nodes.emphasis(text=f"chapter {number}")], []
    node = addnodes.pending_xref(
        rawtext, refdomain="std", reftype="doc", reftarget=f"/chapters/{matches[0].stem}",
        refexplicit=False, refwarn=True, refdoc=env.docname,
    )
    node += nodes.inline(rawtext, f"chapters/{matches[0].stem}")
    return [node], []


def _resolve_short_names(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    domain = env.get_domain("py")
    names = set(domain.objects)
    if target.startswith("collapse_lib."):
        # collapse_lib.<module>.<name> or collapse_lib.<wing>.<module>.<name> where <name> is
        # documented at the top level
        parts = target.split(".")
        candidates = [f"collapse_lib.{parts[-1]}"] if len(parts) >= 3 else []
    else:
        candidates = [f"collapse_lib.{target}"]
        ends = sorted(n for n in names if n.startswith("collapse_lib.") and n.endswith("." + target))
        top = [n for n in ends if n.count(".") == target.count(".") + 1]
        candidates += top if len(top) == 1 else (ends if len(ends) == 1 else [])
    for name in candidates:
        if name in names:
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, node, contnode)
    return None


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        # Sphinx re-adds inline scripts registered late with filename '' instead of None
        key = (getattr(js, "filename", js) or "", getattr(js, "priority", 0),
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


REMOTE_FONT_AWESOME = re.compile(
    r"""<link\b[^>]*href=["']https?://[^"']*font-?awesome[^"']*["'][^>]*>\s*""", re.I
)


def _drop_remote_stylesheets(app, doctree, docname):
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        if REMOTE_FONT_AWESOME.search(text):
            node.replace_self(nodes.raw("", REMOTE_FONT_AWESOME.sub("", text), format=node["format"]))


def setup(app):
    app.connect("doctree-resolved", _drop_remote_stylesheets)
    app.add_role("chapter", chapter_role)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("source-read", _expand_markers)
    app.connect("missing-reference", _resolve_short_names)
    app.connect("build-finished", _write_handouts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
