"""The numbers a chapter's prose quotes, kept by name.

Every chapter computes the numbers its prose quotes in code and stores them on one
:class:`Numbers` object, called ``N`` by convention::

    N = cl.notebook.Numbers()
    N.world_tail = world.tail_mass(5.0)

The prose shows them with MyST inline expressions, which format at the point of use::

    a fraction {eval}`f"{N.world_tail:.4f}"` of it lies above 5

The same expression is evaluated by JupyterLab (through ``jupyterlab-myst``, when the
markdown cell runs), by the book's build (myst-nb's inline execution) and by the book's
notebook checks (``tests/nbval_book.py``), so the number a learner sees, the number on the
site and the number the tests compare are one computation. Nothing here needs Jupyter:
on Colab, where markdown is shown as written, the chapter still runs.

Introduced in chapter 1, "What collapse is"; used by every chapter.
"""

from __future__ import annotations

import keyword
import numbers

import numpy as np

__all__ = ["Numbers"]


def _as_quotable(name, value):
    """A plain Python scalar (or str) for ``value``, or a TypeError naming ``name``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(
        f"Numbers.{name}: a quoted number must be an int, a float, a bool or a str "
        f"(a numpy scalar is converted), got {type(value).__name__}; "
        "reduce an array to the one value the prose quotes first")


class Numbers:
    """A namespace of the numbers a chapter quotes, each a plain Python scalar.

    Attribute and item access are the same: ``N.tail = x`` and ``N["tail"] = x`` both
    store ``x`` (converted from a numpy scalar to a Python ``int``/``float``/``bool``, so
    the prose can format it with any format spec). Names are Python identifiers that do
    not start with an underscore; reading a name that was never set raises an
    AttributeError (or KeyError) that lists the names that exist.

    Examples
    --------
    >>> N = Numbers()
    >>> N.tail = np.float64(0.03)
    >>> N["half_life_100"] = 8
    >>> f"{N.tail:.3f} and {N.half_life_100}"
    '0.030 and 8'
    """

    __slots__ = ("_values",)

    def __init__(self, **values):
        object.__setattr__(self, "_values", {})
        for name, value in values.items():
            self[name] = value

    # storing -------------------------------------------------------------------------
    def __setitem__(self, name, value):
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"Numbers: name must be a Python identifier, got {name!r}")
        if name.startswith("_"):
            raise ValueError(f"Numbers: name must not start with an underscore, got {name!r}")
        self._values[name] = _as_quotable(name, value)

    def __setattr__(self, name, value):
        self[name] = value

    def set(self, **values):
        """Store several numbers at once; returns ``self``."""
        for name, value in values.items():
            self[name] = value
        return self

    # reading -------------------------------------------------------------------------
    def __getitem__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"Numbers: no number called {name!r}; known: {', '.join(self._values) or 'none'}") from None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"Numbers: no number called {name!r}; known: {', '.join(self._values) or 'none'}") from None

    def __contains__(self, name):
        return name in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def as_dict(self):
        """A copy of every stored number, by name."""
        return dict(self._values)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._values))

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in list(self._values.items())[:6])
        more = f", ... ({len(self._values)} in all)" if len(self._values) > 6 else ""
        return f"Numbers({shown}{more})"
