"""Sphinx extension local to this book (loaded through `sphinx.local_extensions` in _config.yml).

- Library reference: expands the marker ``<!-- collapse_lib submodules -->`` in
  chapters/library-reference.md into one autodoc section per public submodule of
  collapse_lib, found at build time, so a module added to the library appears in the
  reference without editing the page. Names re-exported in ``collapse_lib.__all__`` are
  documented once, under ``collapse_lib.<name>``, and excluded from their module section.
- Short names: a docstring may write :func:`simulate` or :class:`Normal` from any module;
  a Python reference that Sphinx cannot resolve is retried as ``collapse_lib.<name>`` and
  then as the one documented ``collapse_lib`` object whose dotted name ends with it. A
  reference that matches nothing (or several things) still fails the -n build.
- One copy of each script: sphinx-thebe (loaded by Jupyter Book) adds its inline
  configuration after the builder started, Sphinx 7.4 then lists it twice (filename None
  and ''), and the second `const THEBE_JS_URL` is a console error on every page.
  Identical scripts are kept once.
"""

from __future__ import annotations

import importlib
import pkgutil

SUBMODULES_MARKER = "<!-- collapse_lib submodules -->"


def public_submodules(package_name: str = "collapse_lib") -> list[str]:
    package = importlib.import_module(package_name)
    return sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )


def submodule_sections(package_name: str = "collapse_lib") -> str:
    package = importlib.import_module(package_name)
    exported = set(getattr(package, "__all__", []))
    parts = []
    for name in public_submodules(package_name):
        module = importlib.import_module(f"{package_name}.{name}")
        again = sorted(
            n for n in exported
            if getattr(getattr(module, n, None), "__module__", None) == module.__name__
        )
        options = "   :members:\n"
        if getattr(package, name, module) is not module:
            # the module shares its name with an exported object (collapse_lib.simulate)
            options += "   :no-index:\n"
        if again:
            options += f"   :exclude-members: {', '.join(again)}\n"
        parts.append(
            f"### `{package_name}.{name}`\n\n```{{eval-rst}}\n"
            f".. automodule:: {package_name}.{name}\n{options}```\n"
        )
    return "\n".join(parts)


def _expand_markers(app, docname, source):
    if SUBMODULES_MARKER in source[0]:
        source[0] = source[0].replace(SUBMODULES_MARKER, submodule_sections())


def _resolve_short_names(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    domain = env.get_domain("py")
    names = set(domain.objects)
    if target.startswith("collapse_lib."):
        # collapse_lib.<module>.<name> where <name> is documented at the top level
        parts = target.split(".")
        candidates = [f"collapse_lib.{parts[-1]}"] if len(parts) == 3 else []
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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("source-read", _expand_markers)
    app.connect("missing-reference", _resolve_short_names)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
