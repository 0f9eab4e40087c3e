"""Reads the answers a submitted assignment notebook printed with ``cl.course.submit``.

``make check-assignment N=<n> NB=<notebook>`` executes a copy of the notebook
(tools/execute.py) and runs ``test_a<n>.py`` with ``ASSIGNMENT_NB`` pointing at the executed
copy. The answers are the JSON after ``COURSE-ANSWERS A<n>`` in the notebook's outputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

TAG = "COURSE-ANSWERS"


def _stream_text(nb):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield out.get("text", "")


@pytest.fixture(scope="session")
def notebook():
    path = os.environ.get("ASSIGNMENT_NB")
    if not path or not Path(path).is_file():
        pytest.fail("ASSIGNMENT_NB must name the executed notebook: run `make check-assignment N=<n> NB=<file>`")
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")  # module scope: it reads the test module's ASSIGNMENT
def answers(notebook, request):
    assignment = request.module.ASSIGNMENT
    found = {}
    for text in _stream_text(notebook):
        for line in text.splitlines():
            if line.startswith(f"{TAG} {assignment} "):
                found = json.loads(line.split(" ", 2)[2])
    if not found:
        pytest.fail(f"no '{TAG} {assignment}' line in the notebook's outputs: run its last cell "
                    f"(cl.course.submit(\"{assignment}\", {{...}}))")
    return found


def has_figure(nb) -> bool:
    return any("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def pytest_generate_tests(metafunc):
    """``label`` runs over the test module's POINTS (the shared checks in checks.py)."""
    if "label" in metafunc.fixturenames:
        metafunc.parametrize("label", sorted(metafunc.module.POINTS))
