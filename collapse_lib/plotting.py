"""The book's one figure style: colour-blind-safe, labelled, readable in dark mode.

Figures have an opaque light background, so that in the theme's dark mode
they read as a light card rather than black text on a dark page. Colours come
from the Okabe-Ito palette, which stays distinguishable under the common
colour-vision deficiencies; lines also differ by style where it matters.

Introduced in chapter 2, "A simulation you can run"; used by every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["PALETTE", "COLORS", "use_house_style", "figure", "band", "summary_band", "finish"]

#: Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008), black first.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: Default colour cycle (yellow left out: too pale on a white card).
COLORS = [PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]

_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (7.0, 3.6),
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "text.color": "#1a1a1a",
    "axes.labelcolor": "#1a1a1a",
    "xtick.color": "#1a1a1a",
    "ytick.color": "#1a1a1a",
}


def use_house_style():
    """Apply the book's matplotlib style to every later figure."""
    mpl.rcParams.update(_STYLE)


def figure(ncols=1, nrows=1, width=None, height=None, **kwargs):
    """Create a figure in the house style (applying it); returns ``(fig, axes)``.

    Parameters
    ----------
    ncols, nrows : int
        Grid of axes.
    width, height : float, optional
        Size in inches (defaults scale with the grid).
    """
    # The style is applied globally (not in an rc_context): leaving an rc_context restores
    # the backend setting, after which the inline backend stops showing new figures.
    use_house_style()
    w = width if width is not None else 3.6 * ncols + 0.6
    h = height if height is not None else 3.2 * nrows + 0.3
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)
    return fig, axes


def band(ax, x, lo, hi, mid=None, *, color=None, label=None, alpha=0.22, linestyle="-"):
    """Draw a shaded band from ``lo`` to ``hi`` with an optional centre line.

    Returns the centre line (or the band) so that it can go in a legend.
    """
    if color is None:
        color = COLORS[len(ax.lines) % len(COLORS)]
    patch = ax.fill_between(x, lo, hi, color=color, alpha=alpha, linewidth=0)
    if mid is None:
        patch.set_label(label)
        return patch
    (line,) = ax.plot(x, mid, color=color, label=label, linestyle=linestyle)
    return line


def finish(fig):
    """Close ``fig`` in pyplot's registry and return it (for ``glue``).

    A figure glued with ``display=False`` would otherwise also show inline.
    """
    plt.close(fig)
    return fig


def summary_band(ax, summary, *, color=None, label=None, center="mean"):
    """Plot a :meth:`Run.summary` dict as a centre line with its band."""
    return band(ax, np.asarray(summary["generation"]), summary["lo"], summary["hi"],
                summary[center], color=color, label=label)

