"""The package's layout: the engine at the top, three wings below it, imports running downward.

collapse_lib is an engine (the top-level modules: distributions, families, schemes,
filters, simulate, exact, metrics, theory, plotting, ...) and three wings:
``models/`` (model families beyond the Normal and categorical ones), ``worlds/`` (real
data) and ``studies/`` (what the chapters measure). Imports run downward only:

    studies  ->  models, worlds  ->  engine

so the engine imports no wing, models and worlds import no study, and nothing imports
the package root from inside. ``collapse_lib/__init__.py`` and ``__main__.py`` are the
package's front doors (the public names and the command line): they sit above every wing
and may import any of them.

The import graph is read from the source with ``ast`` (every import statement, also
those inside functions), not from what importing happens to load, so a lazy import that
breaks the rule is caught too.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import collapse_lib as cl

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "collapse_lib"
WINGS = ("models", "worlds", "studies")
FRONT_DOORS = {"collapse_lib", "collapse_lib.__main__"}
#: a module may import modules of its own rank or below
RANK = {"engine": 0, "models": 1, "worlds": 1, "studies": 2, "front door": 3}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}
IDS = sorted(FILES)


def is_package(name: str) -> bool:
    return FILES.get(name, Path()).name == "__init__.py"


def wing(name: str) -> str:
    if name in FRONT_DOORS:
        return "front door"
    parts = name.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in WINGS else "engine"


def imports(name: str):
    """(line, imported collapse_lib module) for every import statement of module ``name``."""
    path = FILES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if is_package(name) else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "collapse_lib"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[: len(base) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            elif (node.module or "").split(".")[0] == "collapse_lib":
                target = node.module
            else:
                continue
            for alias in node.names:
                # `from pkg import sub` imports the submodule when there is one, else the package
                sub = f"{target}.{alias.name}"
                out.append((node.lineno, sub if sub in FILES else target))
    return out


GRAPH = {name: imports(name) for name in FILES}


def test_every_import_of_the_package_resolves_to_a_file():
    unknown = [f"{FILES[m].relative_to(ROOT)}:{line} imports {t}"
               for m, edges in GRAPH.items() for line, t in edges if t not in FILES]
    assert not unknown, "imports of modules that do not exist:\n" + "\n".join(unknown)


def test_the_library_imports_itself_relatively():
    absolute = []
    for name, path in FILES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "collapse_lib" for a in node.names) \
                    or isinstance(node, ast.ImportFrom) and not node.level \
                    and (node.module or "").split(".")[0] == "collapse_lib":
                absolute.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not absolute, ("use relative imports inside collapse_lib (from ..distributions import "
                          "Normal), not absolute ones:\n" + "\n".join(absolute))


@pytest.mark.parametrize("name", IDS)
def test_imports_run_downward(name):
    """The engine imports no wing; models and worlds import no study; nothing imports the root."""
    own = wing(name)
    bad = [f"line {line}: {own} module {name} imports {target} ({wing(target)})"
           for line, target in GRAPH[name] if target != name and RANK[wing(target)] > RANK[own]]
    assert not bad, ("imports must run studies -> models/worlds -> engine:\n" + "\n".join(bad))


def test_the_wings_and_the_engine_are_where_the_layout_says():
    engine = sorted(n for n in FILES if wing(n) == "engine")
    for expected in ("distributions", "families", "schemes", "filters", "simulate", "exact",
                     "metrics", "theory", "plotting", "_validate"):
        assert f"collapse_lib.{expected}" in engine
    for w in WINGS:
        assert is_package(f"collapse_lib.{w}"), f"collapse_lib/{w}/__init__.py is missing"
    packages = sorted(n for n in FILES if is_package(n))
    assert packages == ["collapse_lib"] + [f"collapse_lib.{w}" for w in sorted(WINGS)], (
        f"only the three wings are subpackages, found {packages}")


def find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for _, nxt in graph.get(node, ()):
            if nxt == node or nxt not in graph:
                continue
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": [(1, "b")], "b": [(1, "c")], "c": [(1, "a")], "d": [(1, "a")]}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": [(1, "b")], "b": []}) is None


# ----------------------------------------------------------------------------- public names

def test_every_name_in_all_resolves():
    missing = [n for n in cl.__all__ if not hasattr(cl, n)]
    assert not missing, f"collapse_lib.__all__ names that do not resolve: {missing}"
    assert len(cl.__all__) == len(set(cl.__all__)), "collapse_lib.__all__ lists a name twice"


@pytest.mark.parametrize("name", [n for n in IDS if n != "collapse_lib.__main__"])
def test_every_module_has_an_all_that_resolves(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__ list"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names that do not resolve: {missing}"


@pytest.mark.parametrize("name", [f"collapse_lib.{w}" for w in WINGS])
def test_each_wing_says_what_belongs_in_it_and_reexports_its_names(name):
    module = importlib.import_module(name)
    doc = (module.__doc__ or "").strip()
    assert len(doc.split()) >= 30, f"{name}/__init__.py needs a paragraph saying what belongs in the wing"
    assert module.__all__, f"{name} re-exports nothing"


# The module attributes chapters and tests reach (``from collapse_lib import words as W``).
CHAPTER_MODULES = ["plotting", "theory", "metrics", "source", "tails", "taxonomy", "words", "digits",
                   "monitor", "findings"]


@pytest.mark.parametrize("name", CHAPTER_MODULES)
def test_chapter_modules_are_attributes_of_the_package(name):
    module = getattr(cl, name)
    assert type(module).__name__ == "module", f"cl.{name} is {module!r}, not a module"
    exec(f"from collapse_lib import {name}")  # the form the chapters use


def chapter_code():
    """(notebook name, all its code cells joined) for every chapter."""
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
        yield path.name, "\n".join("".join(c) if isinstance(c, list) else c for c in cells)


def test_every_library_name_a_chapter_uses_resolves():
    """``cl.x.y``, ``W.x`` (after ``from collapse_lib import words as W``), ... in chapter code."""
    missing = set()
    for chapter, code in chapter_code():
        aliases = {alias: cl for alias in re.findall(r"^\s*import collapse_lib as (\w+)", code, re.M)}
        for mod, alias in re.findall(r"^\s*from collapse_lib import (\w+)(?: as (\w+))?", code, re.M):
            aliases[alias or mod] = getattr(cl, mod, None)
            if aliases[alias or mod] is None:
                missing.add(f"{chapter}: from collapse_lib import {mod}")
        for alias, chain in re.findall(r"(?<![\w.])(\w+)((?:\.[A-Za-z_]\w*)+)", code):
            obj = aliases.get(alias)
            for attr in chain.strip(".").split("."):
                if type(obj).__name__ != "module":
                    break  # not the library, or an attribute of a library object
                if not hasattr(obj, attr):
                    missing.add(f"{chapter}: {alias}{chain}")
                    break
                obj = getattr(obj, attr)
    assert not missing, "chapter code uses library names that do not exist:\n" + "\n".join(sorted(missing))


def test_library_reference_lists_every_module_under_its_wing():
    """tools/book_ext.py generates the reference page: the engine, then each wing and its modules."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import book_ext
    finally:
        sys.path.remove(str(ROOT / "tools"))
    page = book_ext.submodule_sections()
    headings = re.findall(r"^(#{3,4}) (.+)$", page, re.M)
    sections, current = {}, None
    for level, text in headings:
        if level == "###":
            current = "engine" if text.startswith("Engine") else re.search(r"`collapse_lib\.(\w+)`", text).group(1)
        else:
            sections.setdefault(current, []).append(text.strip("`"))
    expected = {}
    for name in FILES:
        if name in FRONT_DOORS or is_package(name) or name.rpartition(".")[2].startswith("_"):
            continue
        expected.setdefault(wing(name), []).append(name)
    assert [w for w in sections] == ["engine", *WINGS], f"reference sections: {list(sections)}"
    assert {w: sorted(m) for w, m in sections.items()} == {w: sorted(m) for w, m in expected.items()}
    for w in WINGS:
        assert f".. automodule:: collapse_lib.{w}\n   :no-members:" in page, f"wing {w} has no introduction"
