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
WORDS_PER_MINUTE = 200
MINUTES_PER_EXERCISE = 10
DIRECTIVE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.M | re.S,
)


def _cell_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _plain(text: str) -> str:
    """Markdown to one line of plain-ish text (for short descriptions)."""
    text = re.sub(r"^[ \t]*:[\w-]+:.*$", "", text, flags=re.M)          # directive options
    text = re.sub(r"\{glue[^}]*\}`[^`]*`", "(a computed value)", text)
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # other roles
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\$([^$]*)\$", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _first_sentence(text: str, limit: int = 160) -> str:
    text = _plain(text)
    m = re.match(r"(.+?[.?!])(\s|$)", text)
    sentence = m.group(1) if m else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def chapter_info(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    md = "\n\n".join(_cell_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    title = re.search(r"^#\s+(.+)$", md, re.M)
    goals, exercises = [], []
    for m in DIRECTIVE.finditer(md):
        name, arg, body = m.group("name"), m.group("arg"), m.group("body")
        if name == "admonition" and "learning goals" in arg.lower():
            items = re.split(r"^\s*(?:[-*]|\d+[.)])\s+", body, flags=re.M)[1:]
            goals = [_plain(item) for item in items if item.strip()]
        if name in ("exercise", "exercise-start"):
            label = re.search(r"^[ \t]*:label:[ \t]*(\S+)", body, re.M)
            exercises.append((label.group(1) if label else None, _first_sentence(body)))
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
        "minutes": round(words / WORDS_PER_MINUTE) + MINUTES_PER_EXERCISE * len(exercises),
        "reading_minutes": round(words / WORDS_PER_MINUTE),
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
        lines.append(
            f"- **Approximate time**: {info['minutes']} min "
            f"({info['reading_minutes']} min reading, "
            f"{len(info['exercises'])} exercises at about {MINUTES_PER_EXERCISE} min each)"
        )
        if info["goals"]:
            lines.append("- **Learning goals**:")
            lines.extend(f"  - {g}" for g in info["goals"])
        lines.append("- **Exercises**:")
        for label, text in info["exercises"]:
            ref = f"{{ref}}`{label}`: " if label else ""
            lines.append(f"  - {ref}{text}")
        lines.append("")
    return "\n".join(lines) if lines else "No chapters yet.\n"


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


def _expand_markers(app, docname, source):
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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
