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
from matplotlib.figure import Figure

from ._validate import _numeric_array, check_choice, check_fraction, check_int, check_positive

__all__ = ["PALETTE", "COLORS", "use_house_style", "figure", "band", "summary_band", "finish", "player", "Player"]

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
    ncols, nrows = check_int("ncols", ncols, minimum=1), check_int("nrows", nrows, minimum=1)
    if width is not None:
        width = check_positive("width", width)
    if height is not None:
        height = check_positive("height", height)
    # The style is applied globally (not in an rc_context): leaving an rc_context restores
    # the backend setting, after which the inline backend stops showing new figures.
    use_house_style()
    w = width if width is not None else 3.6 * ncols + 0.6
    h = height if height is not None else 3.2 * nrows + 0.3
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)
    return fig, axes


def _check_axes(ax):
    """Raise TypeError naming ``ax`` unless it is a matplotlib Axes (fill_between and plot)."""
    if not (callable(getattr(ax, "fill_between", None)) and callable(getattr(ax, "plot", None))):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")


def _curve(name, values):
    """``values`` as a float scalar or 1-D array of real numbers (NaN and inf allowed: matplotlib leaves gaps)."""
    raw = _numeric_array(name, values)
    arr = np.asarray(raw, dtype=float)
    if arr.ndim > 1 or (name == "x" and arr.ndim != 1):
        raise ValueError(f"{name} must be a 1-D array{'' if name == 'x' else ' or a number'}, got shape {arr.shape}")
    return arr


def band(ax, x, lo, hi, mid=None, *, color=None, label=None, alpha=0.22, linestyle="-"):
    """Draw a shaded band from ``lo`` to ``hi`` with an optional centre line.

    Returns the centre line (or the band) so that it can go in a legend.

    ``x``, ``lo``, ``hi`` (and ``mid``) are 1-D arrays of real numbers of one length
    (``lo``, ``hi`` and ``mid`` may also be single numbers); a NaN leaves a gap in the
    band, as in matplotlib. ``ax`` must be a matplotlib Axes and
    ``alpha`` in [0, 1]; anything else raises ValueError or TypeError naming it.
    """
    _check_axes(ax)
    alpha = check_fraction("alpha", alpha)
    names = ("x", "lo", "hi") + (() if mid is None else ("mid",))
    values = (x, lo, hi) + (() if mid is None else (mid,))
    arrays = [_curve(n, v) for n, v in zip(names, values)]
    lengths = [a.size for a in arrays if a.ndim == 1]   # a scalar lo, hi or mid is broadcast
    if len(set(lengths)) > 1:
        raise ValueError(f"{', '.join(names)} must have the same length, got lengths {lengths}")
    if mid is None:
        x, lo, hi = arrays
    else:
        x, lo, hi, mid = arrays
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
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    plt.close(fig)
    return fig


def summary_band(ax, summary, *, color=None, label=None, center="mean"):
    """Plot a :meth:`Run.summary` dict as a centre line with its band.

    ``center`` is ``"mean"`` or ``"median"``; ``summary`` must hold ``generation``,
    ``lo``, ``hi`` and the centre.
    """
    _check_axes(ax)
    center = check_choice("center", center, ("mean", "median"))
    if not hasattr(summary, "keys") or not all(k in summary for k in ("generation", "lo", "hi", center)):
        raise TypeError(f"summary must be a dict from Run.summary with keys generation, lo, hi and {center}, "
                        f"got {type(summary).__name__}")
    return band(ax, np.asarray(summary["generation"]), summary["lo"], summary["hi"],
                summary[center], color=color, label=label)



# ----------------------------------------------------------------------------- players
_ICONS = {  # matplotlib's Font Awesome 4 icons, as characters that need no web font
    "fa fa-minus": "\u2212", "fa fa-fast-backward": "\u23ee", "fa fa-step-backward": "\u23f4\u2759",
    "fa fa-play fa-flip-horizontal": "\u25c0", "fa fa-pause": "\u23f8", "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u2759\u23f5", "fa fa-fast-forward": "\u23ed", "fa fa-plus": "+",
}


class Player:
    """A self-contained animation player: HTML with its frames inline, nothing fetched.

    Returned by :func:`player`; shows itself in a notebook (``_repr_html_``) and keeps
    its markup in ``html``.
    """

    def __init__(self, html):
        self.html = html

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"<Player: {self.html.count('data:image/png;base64')} frames>"


def player(animation, *, alt, name, label="frame", default_mode="once"):
    """An offline, accessible HTML player for a matplotlib ``FuncAnimation``.

    matplotlib's ``to_jshtml()`` links Font Awesome from a CDN for its button icons,
    gives its slider no label and its frame image no alt text, and draws a random id into
    every element. This keeps its player and fixes all four: the icons become plain
    characters (no request to another host, in JupyterLab as on the site), the slider is
    labelled, the frame image carries ``alt``, and the id is ``name`` (stable outputs).

    Parameters
    ----------
    animation : matplotlib.animation.Animation
        The animation (its figure is closed afterwards).
    alt : str
        What the animation shows, for readers who cannot see it.
    name : str
        A short identifier, unique on the page (letters, digits, underscores).
    label : str
        What one step of the slider is (read out by screen readers), e.g. "generation".
    default_mode : {"once", "loop", "reflect"}

    Returns
    -------
    Player

    Introduced in chapter 1, "What collapse is"; used for every animation in the book.
    """
    import re

    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of the animation")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be letters, digits and underscores starting with a letter, got {name!r}")
    if default_mode not in ("once", "loop", "reflect"):
        raise ValueError(f"default_mode must be 'once', 'loop' or 'reflect', got {default_mode!r}")
    if not callable(getattr(animation, "to_jshtml", None)):
        raise TypeError(f"animation must be a matplotlib Animation (with to_jshtml), got {type(animation).__name__}")
    html = animation.to_jshtml(default_mode=default_mode)
    plt.close(animation._fig)
    found = re.search(r"_anim_img([0-9a-f]{32})", html)
    if found:
        html = html.replace(found.group(1), name)
    html = html.replace("\\\n", "")  # frames on one line each
    html = re.sub(r"<link\b[^>]*font-?awesome[^>]*>\s*", "", html, flags=re.I)
    for cls, char in _ICONS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{char}</span>')
    quoted = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    html = html.replace(f'<img id="_anim_img{name}"', f'<img id="_anim_img{name}" alt="{quoted}"')
    html = html.replace(f'<input id="_anim_slider{name}" type="range"',
                        f'<input id="_anim_slider{name}" type="range" aria-label="{label}"')
    return Player(html)
