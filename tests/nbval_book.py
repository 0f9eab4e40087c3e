"""pytest plugin for the chapters (``make test`` loads it as ``-p nbval_book``): strict nbval,
made to check what a reader sees, on any CPU.

Three changes to nbval 0.11, each small:

1. **History stored.** nbval executes every cell with ``store_history=False``; IPython
   decides whether a trailing ``;`` silences a cell's result by looking at the last
   *stored* input, so under nbval ``ax.plot(x);`` returns ``[<Line2D>]`` although Jupyter
   shows nothing. Storing history restores Jupyter's behaviour (execution counts are not
   compared).
2. **The prose's numbers are checked.** Every markdown cell with ``{eval}`` expressions
   becomes a test item, run in order in the same kernel: its expressions are evaluated at
   that point, as jupyterlab-myst does when a learner runs the cell, and compared with the
   results stored by ``make execute`` (``user_expressions`` in the cell's metadata). A
   missing stored result, an expression that raises, or a different value fails.
3. **Cross-CPU tolerance.** Stored and recomputed outputs (and expression results) are
   compared with :func:`nbeval.values_match`: identical words, numbers equal to a relative
   1e-9 (the reasons are in ``tools/nbeval.py``). Everything else about strict nbval
   (``--nbval``, sanitizing, which MIME types are compared) is unchanged.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from queue import Empty

import pytest
from nbval import plugin as nbval_plugin
from nbval.kernel import RunningKernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import nbeval  # noqa: E402


# 1. history ---------------------------------------------------------------------------
def _execute_cell_input(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_cell_input


# 3. tolerant comparison -----------------------------------------------------------------
def _flatten(item, outputs, skip):
    flat = defaultdict(list)
    for out in outputs:
        for key, value in out.items():
            if key in skip:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in skip:
                        flat[mime].append(item.sanitize(data))
            else:
                flat[key].append(item.sanitize(value))
    return flat


def _compare_outputs(self, test, ref, skip_compare=None):
    skip = skip_compare or self.parent.skip_compare
    testing = _flatten(self, nbval_plugin.transform_streams_for_comparison(test), skip)
    reference = _flatten(self, nbval_plugin.transform_streams_for_comparison(ref), skip)
    self.comparison_traceback = []
    if set(reference) != set(testing):
        missing, extra = set(reference) - set(testing), set(testing) - set(reference)
        self.comparison_traceback.append(
            f"Output fields differ: missing from the run {sorted(missing)}, unexpected {sorted(extra)}")
        return False
    for key, ref_values in reference.items():
        test_values = testing[key]
        if len(ref_values) != len(test_values):
            self.comparison_traceback.append(
                f'dissimilar number of outputs for key "{key}": stored {len(ref_values)}, '
                f"computed {len(test_values)}")
            return False
        for ref_out, test_out in zip(ref_values, test_values):
            if not nbeval.values_match(ref_out, test_out):
                self.format_output_compare(key, ref_out, test_out)
                return False
    return True


nbval_plugin.IPyNbCell.compare_outputs = _compare_outputs


# 2. markdown expressions ----------------------------------------------------------------
class ExpressionCell(pytest.Item):
    """The ``{eval}`` expressions of one markdown cell, checked against their stored results."""

    def __init__(self, *, cell_index, cell, expressions, **kwargs):
        super().__init__(**kwargs)
        self.cell_index = cell_index
        self.cell = cell
        self.expressions = expressions

    def runtest(self):
        kernel = self.parent.kernel
        if not kernel.is_alive():
            raise RuntimeError("Kernel dead on test start")
        msg_id = kernel.kc.execute("", silent=False, store_history=False,
                                   user_expressions=nbeval.request(self.expressions))
        timeout = self.config.option.nbval_cell_timeout or 60
        try:
            while True:
                msg = kernel.get_message(stream="shell", timeout=timeout)
                if msg["parent_header"].get("msg_id") == msg_id:
                    break
            kernel.await_idle(msg_id, timeout)
        except Empty:
            raise ExpressionMismatch(self, ["the kernel did not answer the expression request in time"])
        reply = msg["content"].get("user_expressions", {})
        computed = nbeval.stored_form(self.expressions, reply)
        stored = self.cell.metadata.get("user_expressions")
        problems = []
        for i, now in enumerate(computed):
            text = nbeval.shown_text(now["result"])
            if now["result"].get("status") != "ok":
                problems.append(f"{{eval}}`{now['expression']}` raised {text}")
                continue
            if stored is None or i >= len(stored) or stored[i].get("expression") != now["expression"]:
                problems.append(f"{{eval}}`{now['expression']}` has no stored result: run `make execute`")
                continue
            before = nbeval.shown_text(stored[i]["result"])
            if not nbeval.texts_match(before, text):
                problems.append(f"{{eval}}`{now['expression']}`: stored {before!r}, computed {text!r}")
        if stored is not None and len(stored) > len(computed):
            problems.append(f"{len(stored) - len(computed)} stored expression results have no expression")
        if problems:
            raise ExpressionMismatch(self, problems)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ExpressionMismatch):
            head = self.cell.source.strip().splitlines()[0][:100]
            return (f"Markdown cell {self.cell_index} ({head!r}):\n  "
                    + "\n  ".join(excinfo.value.problems))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"{self.name}"


class ExpressionMismatch(Exception):
    def __init__(self, item, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


_collect = nbval_plugin.IPyNbFile.collect


def _collect_with_markdown(self):
    code_items = iter(_collect(self))   # reads self.nb and yields one item per code cell
    first = next(code_items, None)
    pending = [first] if first is not None else []
    for index, cell in enumerate(self.nb.cells):
        if cell.cell_type == "code":
            if pending:
                yield pending.pop()
            else:
                yield next(code_items)
        elif cell.cell_type == "markdown":
            exprs = nbeval.expressions(cell.source)
            if exprs:
                yield ExpressionCell.from_parent(self, name=f"Markdown {index}", cell_index=index,
                                                 cell=cell, expressions=exprs)
    for rest in pending:
        yield rest
    yield from code_items


nbval_plugin.IPyNbFile.collect = _collect_with_markdown
