"""Execute chapter notebooks in place, storing code outputs and the prose's numbers.

    python tools/execute.py chapters/02-a-simulation-you-can-run.ipynb [...]

Runs every cell in order in one kernel (working directory: the notebook's folder), as
Jupyter's "Run All" does: a code cell is executed; a markdown cell with ``{eval}``
expressions has them evaluated at that point, exactly as jupyterlab-myst evaluates them
when a learner runs the cell, and the results are stored in the cell's metadata
(``user_expressions``). Those stored outputs are the reference that ``make test``
(nbval, with ``tests/nbval_book.py``) compares a fresh run against. A cell that raises, or
an expression that fails, stops with a non-zero exit and the notebook is not written.
A code cell tagged ``live`` (an ipywidgets explorer) is run, but stored without outputs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.util import run_sync

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbeval  # noqa: E402


async def _evaluate(kc, exprs: list[str], timeout: float) -> dict:
    msg_id = kc.execute("", silent=False, store_history=False, user_expressions=nbeval.request(exprs))
    deadline = time.monotonic() + timeout
    while True:
        msg = await kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            content = msg["content"]
            if content.get("status") != "ok":
                raise RuntimeError(f"expression request failed: {content}")
            return content["user_expressions"]


def evaluate(client: NotebookClient, exprs: list[str], timeout: float = 60) -> list[dict]:
    """Evaluate ``exprs`` in the client's kernel; jupyterlab-myst's stored form."""
    reply = run_sync(_evaluate)(client.kc, exprs, timeout)
    return nbeval.stored_form(exprs, reply)


def execute(path: Path, timeout: int = 600, kernel: str = "python3") -> None:
    nb = nbformat.read(path, as_version=4)
    # Every cell runs, as JupyterLab's Run All does: the 'skip-execution' tag on live explorers
    # is for the site build (myst-nb), not for this tool, so no tag skips a cell here.
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                            skip_cells_with_tag="\x00no-cell-has-this-tag",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
                if "live" in cell.metadata.get("tags", []):
                    # a live explorer's widget cannot be stored usefully: its view needs the
                    # kernel that made it (JupyterLab would show "model not found")
                    cell.outputs = []
            elif cell.cell_type == "markdown":
                exprs = nbeval.expressions(cell.source)
                if not exprs:
                    cell.metadata.pop("user_expressions", None)
                    continue
                stored = evaluate(client, exprs)
                failed = [s for s in stored if s["result"].get("status") != "ok"]
                if failed:
                    r = failed[0]["result"]
                    raise RuntimeError(f"{path.name}, markdown cell {index}: {{eval}}`{failed[0]['expression']}` "
                                       f"raised {r.get('ename')}: {r.get('evalue')}")
                cell.metadata["user_expressions"] = stored
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.monotonic() - start:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            execute(path, timeout=args.timeout, kernel=args.kernel)
        except Exception as exc:  # report and go on with the others
            print(f"{path}: FAILED: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
