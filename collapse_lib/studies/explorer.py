"""Live explorers: a chapter's question, with its knobs, redrawn on every change.

An explorer is a small class. It declares its controls (:class:`Control`: a
name, a label, the values it may take and a default), computes a result from
the current settings (:meth:`Explorer.compute`) and draws that result into one
matplotlib figure (:meth:`Explorer.draw`). The base class :class:`Explorer` does
the rest:

- ``explorer.update(n=500)`` checks the settings (a ValueError or TypeError
  names the control and its accepted values before anything is computed),
  recomputes, redraws, renders the figure to PNG (:attr:`Explorer.png`) and
  returns the result; ``last_update_seconds`` and
  ``last_update_cpu_seconds`` record what that cost;
- displayed as the last line of a notebook cell, an explorer builds its
  ipywidgets controls and shows the figure as an image that is re-rendered on
  every change (a live kernel is needed: JupyterLab, Binder, Colab).
  ipywidgets is imported only then;
- ``explorer.player(vary="anchor", alt=..., name=...)`` precomputes one frame
  per value of one control, the others at the explorer's initial settings,
  and returns a self-contained :func:`collapse_lib.plotting.player`: what the
  static site shows in the explorer's place, since a widget without a kernel
  would be a dead control.

A new explorer needs only the three parts above::

    class MyExplorer(Explorer):
        controls = (Control("n", "points per generation", 100, options=(10, 100, 1000)),)

        def compute(self, n):
            return cl.simulate(world, cl.NormalFit(), n=n, generations=50, replicates=200,
                               seed=self.seed).trajectory("var")

        def draw(self, axes, result, settings):
            axes[0].plot(result.mean(axis=1))

The chapters' explorers, each ending a section of its chapter:
:class:`AnchorExplorer` (chapter 2, "A simulation you can run"),
:class:`RareModeExplorer` (chapter 3, "Why tails go first"),
:class:`GaussianRefitExplorer` (chapter 4, "Recursive Gaussian fitting") and
:class:`VocabularyExplorer` (chapter 5, "Tokens and words"). :func:`explore`
is a general explorer of the recursion (every family, scheme and filter of the
library's menus); no chapter uses it.
"""

from __future__ import annotations

import io
import math
import numbers
import time

import numpy as np

from .._validate import check_int, check_positive, check_real
from ..distributions import Categorical, Normal, NormalMixture
from ..families import CategoricalFit, NormalFit
from ..filters import NoFilter, QualityFilter, Verifier
from ..models.empirical import Empirical, EmpiricalFit
from ..models.kde import KDEFit
from ..models.mixture import GaussianMixtureFit
from ..schemes import Accumulate, Anchor, Replace
from ..simulate import simulate
from .. import theory

__all__ = ["Control", "Explorer", "AnchorExplorer", "RareModeExplorer", "GaussianRefitExplorer",
           "VocabularyExplorer", "RecursionExplorer", "explore", "FAMILIES", "FILTERS", "SCHEMES", "METRICS"]


# ----------------------------------------------------------------------------- the framework

class Control:
    """One knob of an explorer: a name, a label, the values it accepts and a default.

    Give either ``options`` (a short list of values: numbers become a slider
    over them, strings a menu or toggle buttons) or ``low`` and ``high`` (a
    range: an integer or a float slider, with ``step``).

    Parameters
    ----------
    name : str
        The keyword of :meth:`Explorer.update` and :meth:`Explorer.compute`.
    label : str
        What the reader sees beside the control (and the player's slider).
    default : object
        The initial value; must be accepted by the control.
    options : sequence, optional
        The accepted values.
    low, high, step : number, optional
        The accepted range (inclusive) and the slider's step (default: 1 for
        integers, a twentieth of the range for floats).
    fmt : str
        Format of a value in titles, e.g. ``"{:g}"`` or ``"{:.0%}"``.

    Introduced in chapter 2, "A simulation you can run" (with :class:`Explorer`).
    """

    def __init__(self, name, label, default, options=None, *, low=None, high=None, step=None, fmt="{}"):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name must be a Python identifier, got {name!r}")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"label of control {name!r} must be a non-empty string")
        self.name, self.label, self.fmt = name, label, fmt
        if options is not None:
            if low is not None or high is not None:
                raise ValueError(f"control {name!r}: give options or low/high, not both")
            options = tuple(options)
            if not options:
                raise ValueError(f"control {name!r}: options must not be empty")
            self.options, self.low, self.high, self.step = options, None, None, None
            self.numeric = all(_is_number(o) for o in options)
            self.integer = self.numeric and all(isinstance(o, numbers.Integral) for o in options)
        else:
            if low is None or high is None:
                raise ValueError(f"control {name!r}: give options, or both low and high")
            self.options = None
            check_real("low", low)
            check_real("high", high)
            if step is not None:
                check_positive("step", step)
            self.integer = all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                               for v in (low, high) + (() if step is None else (step,)))
            self.numeric = True
            self.low, self.high = (int(low), int(high)) if self.integer else (float(low), float(high))
            if not self.low < self.high:
                raise ValueError(f"control {name!r}: low must be below high, got {low} and {high}")
            self.step = step if step is not None else (1 if self.integer else (self.high - self.low) / 20)
        self.default = self.check(default)

    def accepted(self):
        """The accepted values, in words (used in error messages)."""
        if self.options is not None:
            return "one of " + ", ".join(repr(o) for o in self.options)
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in [{self.low}, {self.high}]"

    def check(self, value):
        """``value`` in the control's own type, or a ValueError/TypeError naming the control."""
        where = f"{self.name} ({self.label})"
        if self.options is not None:
            if self.numeric:
                if not _is_number(value):
                    raise TypeError(f"{where} must be {self.accepted()}; got {type(value).__name__} {value!r}")
                for option in self.options:
                    if math.isclose(float(value), float(option), rel_tol=1e-9, abs_tol=1e-12):
                        return option
            elif value in self.options:
                return value
            raise ValueError(f"{where} must be {self.accepted()}; got {value!r}")
        if not _is_number(value):
            raise TypeError(f"{where} must be {self.accepted()}; got {type(value).__name__} {value!r}")
        if self.integer and not (isinstance(value, numbers.Integral) or float(value).is_integer()):
            raise ValueError(f"{where} must be {self.accepted()}; got {value!r}")
        number = int(value) if self.integer else float(value)
        if not (math.isfinite(number) and self.low <= number <= self.high):
            raise ValueError(f"{where} must be {self.accepted()}; got {value!r}")
        return number

    def show(self, value):
        """``value`` formatted for a title."""
        return self.fmt.format(value)

    def grid(self):
        """The values a player steps through by default: the options, or six points of the range."""
        if self.options is not None:
            return list(self.options)
        if self.integer:
            return sorted({int(round(v)) for v in np.linspace(self.low, self.high, 6)})
        return [float(v) for v in np.linspace(self.low, self.high, 6)]

    def widget(self, value):
        """The ipywidgets control showing ``value`` (ipywidgets is imported here)."""
        import ipywidgets as widgets

        common = dict(description=self.label, style={"description_width": "initial"},
                      layout=widgets.Layout(width="auto", min_width="300px"))
        if self.options is not None:
            if self.numeric:
                return widgets.SelectionSlider(options=[(self.show(o), o) for o in self.options], value=value,
                                               continuous_update=False, **common)
            if len(self.options) <= 3:
                return widgets.ToggleButtons(options=list(self.options), value=value, **common)
            return widgets.Dropdown(options=list(self.options), value=value, **common)
        if self.integer:
            return widgets.IntSlider(value=value, min=self.low, max=self.high, step=self.step,
                                     continuous_update=False, **common)
        return widgets.FloatSlider(value=value, min=self.low, max=self.high, step=self.step,
                                   continuous_update=False, readout_format=".2f", **common)

    def __repr__(self):
        return f"Control({self.name!r}, {self.label!r}, default={self.default!r}, {self.accepted()})"


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Explorer:
    """Base class of the live explorers (see the module's introduction).

    A subclass sets :attr:`controls` (a tuple of :class:`Control`) and
    implements :meth:`compute` and :meth:`draw`; it may set :attr:`ncols`,
    ``figsize`` and ``dpi``, and override :meth:`title`.

    Parameters
    ----------
    seed : int >= 0
        Seed of every computation: the same settings give the same result and
        the same picture.
    **settings
        Initial values of the controls (the others take their defaults).

    Attributes
    ----------
    settings : dict
        The current value of every control.
    initial : dict
        The settings the explorer was built with (the player's fixed values).
    result : object
        What :meth:`compute` returned for the current settings.
    figure : matplotlib.figure.Figure
        The figure, redrawn in place (not registered with pyplot: it never
        shows by itself).
    axes : list of matplotlib axes
    png : bytes
        The current figure rendered as PNG (what the live view shows).
    last_update_seconds, last_update_cpu_seconds : float
        Wall and CPU time of the last update: computing, drawing and rendering.

    Introduced in chapter 2, "A simulation you can run"; chapters 3, 4 and 5
    end a section with one of its subclasses.
    """

    #: the controls, in the order they are shown (a subclass sets this)
    controls: tuple = ()
    #: number of panels side by side, the figure's size in inches and its resolution
    ncols = 2
    figsize = (9.0, 3.3)
    dpi = 72
    #: resolution of a player's frames (the static site's copy)
    player_dpi = 85
    #: the figure's margins (``Figure.subplots_adjust`` arguments, fractions of the figure)
    margins = {"left": 0.09, "right": 0.985, "bottom": 0.15, "top": 0.83, "wspace": 0.3}

    def __init__(self, seed=0, **settings):
        if not self.controls:
            raise TypeError(f"{type(self).__name__} declares no controls")
        self.seed = check_int("seed", seed, minimum=0)
        self._by_name = {c.name: c for c in self.controls}
        start = {c.name: c.default for c in self.controls}
        start.update(self._checked(settings))
        self.initial = dict(start)
        self.settings = dict(start)
        self.result = None
        self.png = b""
        self.last_update_seconds = float("nan")
        self.last_update_cpu_seconds = float("nan")
        self._view = None
        self._syncing = False
        self.figure, self.axes = self._new_figure()
        self.update()

    # ------------------------------------------------------------- what a subclass provides
    def compute(self, **settings):
        """The result for ``settings`` (every control by name). A subclass implements it."""
        raise NotImplementedError

    def draw(self, axes, result, settings):
        """Draw ``result`` into ``axes`` (cleared before the call). A subclass implements it."""
        raise NotImplementedError

    def title(self, settings):
        """The figure's title: every control's label and value."""
        return ";  ".join(f"{c.label} {c.show(settings[c.name])}" for c in self.controls)

    # ------------------------------------------------------------------------ the machinery
    def _checked(self, settings):
        unknown = sorted(set(settings) - set(self._by_name))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown} for {type(self).__name__}; "
                             f"its controls are {sorted(self._by_name)}")
        return {k: self._by_name[k].check(v) for k, v in settings.items()}

    def _new_figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .. import plotting

        plotting.use_house_style()
        # fixed margins, not a layout engine: constrained layout would lay out every text twice per
        # render, most of an update's cost
        fig = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, self.ncols, squeeze=False)[0]
        fig.subplots_adjust(**self.margins)
        return fig, list(axes)

    def _paint(self, fig, axes, result, settings):
        for ax in axes:
            _clear(ax)
        self.draw(axes, result, settings)
        fig.suptitle(self.title(settings), fontsize=9.5)

    def _render(self, fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()

    def update(self, **settings):
        """Set the given controls, recompute, redraw and return the result.

        Every setting is checked first: an unknown control or a value it does
        not accept raises (naming the control) and changes nothing. Calling
        ``update()`` with no arguments redraws the current settings.
        """
        new = {**self.settings, **self._checked(settings)}
        wall, cpu = time.perf_counter(), time.process_time()
        result = self.compute(**new)
        self._paint(self.figure, self.axes, result, new)
        png = self._render(self.figure)
        self.last_update_seconds = time.perf_counter() - wall
        self.last_update_cpu_seconds = time.process_time() - cpu
        self.settings, self.result, self.png = new, result, png
        if self._view is not None:
            self._show()
        return result

    # --------------------------------------------------------------------------- live view
    @property
    def widget(self):
        """The live view: controls above the figure (built on first use; needs ipywidgets)."""
        if self._view is None:
            import ipywidgets as widgets

            inputs = {c.name: c.widget(self.settings[c.name]) for c in self.controls}
            for name, w in inputs.items():
                w.observe(self._on_change(name), names="value")
            image = widgets.Image(value=self.png, format="png",
                                  layout=widgets.Layout(max_width="100%", height="auto"))
            status = widgets.HTML()
            box = widgets.VBox([widgets.HBox(list(inputs.values()), layout=widgets.Layout(flex_flow="row wrap")),
                                image, status])
            self._view = {"inputs": inputs, "image": image, "status": status, "box": box}
            self._show()
        return self._view["box"]

    @property
    def inputs(self):
        """The ipywidgets controls by name (building the live view if needed)."""
        self.widget  # noqa: B018  (builds the view)
        return self._view["inputs"]

    def _on_change(self, name):
        def handler(change):
            if self._syncing:
                return
            try:
                self.update(**{name: change["new"]})
            except Exception as exc:  # a live control must say what went wrong, not die silently
                self._view["status"].value = f"<b>update failed</b>: {type(exc).__name__}: {exc}"
        return handler

    def _show(self):
        view = self._view
        self._syncing = True
        try:
            for name, w in view["inputs"].items():
                if w.value != self.settings[name]:
                    w.value = self.settings[name]
        finally:
            self._syncing = False
        view["image"].value = self.png
        view["status"].value = (f"<small>last update: {self.last_update_seconds:.2f} s "
                                f"({self.last_update_cpu_seconds:.2f} s CPU)</small>")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------------------ player
    def player(self, vary, values=None, *, alt, name, same_axes=True, interval=900):
        """A self-contained player over one control's values, the others at :attr:`initial`.

        Parameters
        ----------
        vary : str
            The control that changes from frame to frame.
        values : sequence, optional
            Its values, one frame each (default: the control's options, or six
            points of its range). Each is checked like a setting.
        alt : str
            What the player shows, for readers who cannot see it.
        name : str
            Identifier of the player, unique on the page.
        same_axes : bool
            Give every frame the same axis limits (the union over the frames),
            so that frames compare at a glance. Turn off when the values
            change the scale so much that one frame would squash the others.
        interval : int
            Milliseconds per frame when playing.

        Returns
        -------
        collapse_lib.plotting.Player
            Shows itself in a notebook; works without a kernel.
        """
        from matplotlib import animation

        from .. import plotting

        import re

        if not isinstance(alt, str) or not alt.strip():
            raise ValueError("alt must be a non-empty description of what the player shows")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ValueError(f"name must be letters, digits and underscores starting with a letter, got {name!r}")
        if vary not in self._by_name:
            raise ValueError(f"vary must be one of the controls {sorted(self._by_name)}, got {vary!r}")
        control = self._by_name[vary]
        values = control.grid() if values is None else [control.check(v) for v in values]
        if not values:
            raise ValueError("values must not be empty")
        frames = [{**self.initial, vary: v} for v in values]
        results = [self.compute(**s) for s in frames]
        fig, axes = self._new_figure()
        limits = None
        if same_axes:
            spans = []
            for result, s in zip(results, frames):
                self._paint(fig, axes, result, s)
                spans.append([(ax.get_xlim(), ax.get_ylim()) for ax in axes])
            limits = [((min(f[i][0][0] for f in spans), max(f[i][0][1] for f in spans)),
                       (min(f[i][1][0] for f in spans), max(f[i][1][1] for f in spans)))
                      for i in range(len(axes))]

        def frame(i):
            self._paint(fig, axes, results[i], frames[i])
            if limits is not None:
                for ax, (xlim, ylim) in zip(axes, limits):
                    ax.set_xlim(xlim)
                    ax.set_ylim(ylim)
            return []

        # The animation asks the canvas for an idle redraw after every frame, which an
        # off-screen Agg canvas performs at once: a second full drawing of each frame that
        # nothing shows. The frames are saved (drawn) anyway.
        fig.canvas.draw_idle = lambda *args, **kwargs: None
        anim = animation.FuncAnimation(fig, frame, frames=len(values), interval=interval, blit=False)
        import matplotlib as mpl

        saved = mpl.rcParams["savefig.dpi"]
        mpl.rcParams["savefig.dpi"] = self.player_dpi   # the frames' resolution (to_jshtml takes none)
        try:
            return plotting.player(anim, alt=alt, name=name, label=control.label)
        finally:
            mpl.rcParams["savefig.dpi"] = saved

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.settings.items())})"


def _clear(ax):
    """Remove what was drawn on ``ax`` but keep its axis machinery (cheaper than ``ax.cla()``).

    ``cla()`` rebuilds every tick, gridline and formatter, a good part of an update's
    cost. Scales and labels are left as they are: every ``draw`` sets the ones it uses.
    """
    for container in list(ax.containers):
        container.remove()
    for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images):
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_title("")
    ax.set_prop_cycle(None)
    ax.relim()
    ax.set_autoscale_on(True)


def _band(ax, x, values, color, label, center="mean", quantiles=(0.05, 0.95)):
    """Mean (or median) across replicates and a quantile band; values ``(rows, replicates)``."""
    from .. import plotting

    lo, hi = np.quantile(values, quantiles, axis=1)
    mid = values.mean(axis=1) if center == "mean" else np.median(values, axis=1)
    return plotting.band(ax, x, lo, hi, mid, color=color, label=label)


# ----------------------------------------------------------------------------- chapter 2

class AnchorExplorer(Explorer):
    """Chapter 2's experiment with its three knobs: what the source prints, and what the model is.

    The world is the source's, 97% N(0, 1) and 3% N(8, 1); a single Gaussian
    is refitted by maximum likelihood every generation on ``n`` points, of
    which a fraction ``anchor`` are fresh real draws (:class:`~collapse_lib.Anchor`)
    and the rest samples of the previous fit. Left: the fraction of each
    generation's *training data* above 5, the number the source prints. Right:
    the fitted *model's* P(X > 5). Each panel shows the median over
    replicates, the band where 90% of them lie and the mean (which rare wide
    runs pull up, chapter 4); the left panel marks the source's
    claimed numbers when the settings are the source's (n = 5000, anchor 0 or
    0.1). The model's tail is drawn on a log scale, values below
    :attr:`TAIL_FLOOR` at the floor.

    Parameters
    ----------
    replicates : int >= 1
        Independent runs behind each mean and band.
    seed : int >= 0
    **settings
        ``n`` (points per generation), ``generations``, ``anchor`` (share of
        fresh real points).

    Notes
    -----
    The models are simulated on the exact path of :func:`~collapse_lib.simulate`
    (same law as drawing every point). The training-data fraction of
    generation ``t`` is then drawn from its exact law given the previous model:
    a binomial count of the model's samples above 5 plus a binomial count of
    the real points above 5, divided by ``n`` (generation 0: the real sample
    alone). Per generation this is the law of the fraction the source's
    procedure prints; it only skips drawing the ``n`` points themselves.
    ``tests/test_explorer.py`` checks it against the points path.

    Introduced in chapter 2, "A simulation you can run".
    """

    THRESHOLD = 5.0
    #: model tails below this are drawn at it (a collapsed model's tail underflows towards 0)
    TAIL_FLOOR = 1e-6
    controls = (
        Control("n", "points per generation", 200, options=(20, 50, 100, 200, 500, 1000, 5000)),
        Control("generations", "generations", 100, options=(8, 20, 50, 100, 200)),
        Control("anchor", "fresh real share", 0.1, options=(0.0, 0.02, 0.05, 0.1, 0.2, 0.5), fmt="{:.0%}"),
    )

    def __init__(self, replicates=400, seed=0, **settings):
        from .source import moment_matched_tail, source_world

        self.replicates = check_int("replicates", replicates, minimum=1, maximum=100_000)
        self.world = source_world()
        self.world_tail = float(self.world.tail_mass(self.THRESHOLD))
        self.mm_tail = float(moment_matched_tail(self.THRESHOLD)["model_tail"])
        super().__init__(seed=seed, **settings)

    def compute(self, n, generations, anchor):
        """Per generation: the training-data fraction above 5 and the model's P(X > 5), ``(G + 1, R)`` each."""
        scheme = Anchor(anchor) if anchor > 0 else Replace()
        run = simulate(self.world, NormalFit(ddof=0), n=n, generations=generations, scheme=scheme,
                       replicates=self.replicates, seed=self.seed,
                       metrics={"tail": lambda m: m.tail_mass(self.THRESHOLD)}, keep=[])
        model_tail = np.asarray(run.metrics["tail"])
        n_syn, n_real = Anchor(anchor).split(n)
        rng = np.random.default_rng([self.seed, 2])
        data = np.empty_like(model_tail)
        data[0] = rng.binomial(n, self.world_tail, size=self.replicates) / n
        for t in range(1, generations + 1):
            count = rng.binomial(n_syn, np.clip(model_tail[t - 1], 0.0, 1.0))
            if n_real:
                count = count + rng.binomial(n_real, self.world_tail, size=self.replicates)
            data[t] = count / n
        return {"generation": np.asarray(run.generations), "data_tail": data, "model_tail": model_tail}

    def draw(self, axes, result, settings):
        from .. import plotting
        from .source import SOURCE_CLAIMED_ANCHOR_10, SOURCE_CLAIMED_NO_ANCHOR

        ax_d, ax_m = axes
        g = result["generation"]
        blue, verm, black = plotting.PALETTE["blue"], plotting.PALETTE["vermillion"], plotting.PALETTE["black"]
        floor = self.TAIL_FLOOR
        for ax, values in ((ax_d, result["data_tail"]), (ax_m, np.maximum(result["model_tail"], floor))):
            _band(ax, g, values, blue, "median, 5-95% of runs", center="median")
            ax.plot(g, values.mean(axis=1), color=verm, linestyle="--", linewidth=1.2, label="mean")
        ax_d.axhline(self.world_tail, color=black, linestyle=":", label="world")
        claims = {0.0: SOURCE_CLAIMED_NO_ANCHOR, 0.1: SOURCE_CLAIMED_ANCHOR_10}.get(settings["anchor"])
        if settings["n"] == 5000 and claims is not None:
            k = min(len(claims), settings["generations"] + 1)
            ax_d.plot(np.arange(k), claims[:k], "x", color=verm, label="the source's claim")
        ax_d.set_title("training data above 5 (what the source prints)", fontsize=9.5)
        ax_d.set_ylabel("fraction of the training data")
        ax_m.axhline(self.mm_tail, color=black, linestyle="--", linewidth=1.2,
                     label="best single Gaussian (moment-matched)")
        ax_m.set_title("the fitted model's P(X > 5)", fontsize=9.5)
        ax_m.set_ylabel(f"model tail mass (log; floor {floor:g})")
        ax_m.set_yscale("log")
        ax_m.set_ylim(floor / 2, 0.2)
        ax_d.set_ylim(bottom=0)
        ax_d.legend(fontsize=7.5, loc="upper right")
        ax_m.legend(fontsize=7.5, loc="lower left")
        for ax in axes:
            ax.set_xlabel("generation")


# ----------------------------------------------------------------------------- chapter 3

class RareModeExplorer(Explorer):
    """Chapter 3's rare mode refitted from its own samples: how long it survives, and with what share.

    A model that represents the world exactly (two categories, counted) is
    refitted on ``n`` of its own samples per fit; the rare category starts
    with probability ``p``. Left: the share of runs in which the mode is still
    present after each number of fits, against the exact Wright-Fisher curve
    (:func:`collapse_lib.studies.tails.rare_mode_survival`, whose first fit is
    ``1 - (1 - p)^n``) and against the naive curve ``(1 - (1 - p)^n)^k`` that
    would hold if every fit drew from the world's ``p`` again. Right: the
    mode's mean share among the runs that still have it, against its exact
    value ``p / S_k`` (the share is a martingale, so the runs that keep the
    mode hold more of it).

    Parameters
    ----------
    replicates : int >= 1
    seed : int >= 0
    **settings
        ``p`` (the rare mode's probability), ``n`` (points per fit),
        ``fits`` (how many fits to follow).

    Introduced in chapter 3, "Why tails go first".
    """

    controls = (
        Control("p", "rare mode probability p", 0.03, options=(0.003, 0.01, 0.03, 0.1, 0.3), fmt="{:g}"),
        Control("n", "points per fit n", 100, options=(10, 30, 100, 300, 500)),
        Control("fits", "fits followed", 300, options=(30, 100, 300, 1000)),
    )

    def __init__(self, replicates=2000, seed=0, **settings):
        self.replicates = check_int("replicates", replicates, minimum=1, maximum=1_000_000)
        super().__init__(seed=seed, **settings)

    def compute(self, p, n, fits):
        """Exact and simulated survival and conditional share for fits ``0..fits``."""
        from .tails import rare_mode_survival

        exact = rare_mode_survival(p, n, fits)
        step = max(1, fits // 60)
        run = simulate(Categorical([p, 1.0 - p]), CategoricalFit(), n=n, generations=fits - 1,
                       replicates=self.replicates, seed=self.seed, record_every=step,
                       metrics={"share": lambda m: m.probs[:, 0]}, keep=[])
        share = np.asarray(run.metrics["share"])
        alive = share > 0
        k = np.asarray(run.generations) + 1          # run.models[t] has had t + 1 fits
        n_alive = alive.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(n_alive > 0, (share * alive).sum(axis=1) / np.maximum(n_alive, 1), np.nan)
            exact_cond = np.where(exact > 1e-12, p / exact, np.nan)
        survived = alive.mean(axis=1)
        return {"fits": np.arange(fits + 1), "exact": exact, "naive": (1 - (1 - p) ** n) ** np.arange(fits + 1),
                "sim_fits": k, "sim": survived, "sim_se": np.sqrt(survived * (1 - survived) / self.replicates),
                "cond": cond, "exact_cond": exact_cond, "p": p,
                "half_life": int(np.argmax(exact < 0.5)) if np.any(exact < 0.5) else None}

    def draw(self, axes, result, settings):
        from .. import plotting

        ax_s, ax_c = axes
        blue, verm, black = plotting.PALETTE["blue"], plotting.PALETTE["vermillion"], plotting.PALETTE["black"]
        x = result["fits"]
        ax_s.plot(x, result["exact"], color=blue, label="exact (Wright-Fisher)")
        ax_s.plot(x, result["naive"], color=verm, linestyle="--", label=r"naive $(1-(1-p)^n)^k$")
        ax_s.errorbar(result["sim_fits"], result["sim"], yerr=2 * result["sim_se"], fmt="o", markersize=2.5,
                      color=black, elinewidth=0.8, label=f"simulated ({self.replicates} runs, 2 SE)")
        ax_s.axhline(result["p"], color="0.4", linestyle=":", label="eventual survival p")
        if result["half_life"] is not None:
            ax_s.axvline(result["half_life"], color="0.6", linewidth=0.8)
        ax_s.set_ylim(0, 1.05)
        ax_s.set_ylabel("P(rare mode still present)")
        ax_s.legend(fontsize=7.5, loc="best")
        ax_c.plot(x, result["exact_cond"], color=blue, label=r"exact $p / S_k$")
        ax_c.plot(result["sim_fits"], result["cond"], "o", markersize=2.5, color=black, label="simulated")
        ax_c.axhline(result["p"], color="0.4", linestyle=":", label="the world's p (the mean over all runs)")
        ax_c.set_ylim(0, 1.05)
        ax_c.set_ylabel("mode's share, runs that keep it")
        ax_c.legend(fontsize=7.5, loc="best")
        for ax in axes:
            ax.set_xlabel("number of fits k")


# ----------------------------------------------------------------------------- chapter 4

class GaussianRefitExplorer(Explorer):
    """Chapter 4's recursive Gaussian fit: the log-variance and the distance to the world, against the closed forms.

    A normal distribution, starting from the world N(0, 1), is refitted on
    ``n`` of its own samples per fit, by maximum likelihood (ddof 0) or with
    the unbiased variance (ddof 1). Left: ln of the fitted variance, mean and
    5-95% band over replicates, against the exact mean ``t * delta_d`` and the
    normal approximation of its band (:func:`collapse_lib.theory.normal_log_var`).
    Right: the squared Wasserstein-2 distance to the world, the replicates'
    mean and median, against the exact expectation
    (:func:`collapse_lib.theory.normal_expected_w2sq`).

    Parameters
    ----------
    replicates : int >= 1
    seed : int >= 0
    **settings
        ``n`` (points per fit), ``estimator`` ("MLE (ddof=0)" or
        "unbiased (ddof=1)"), ``fits`` (how many fits to follow).

    Introduced in chapter 4, "Recursive Gaussian fitting".
    """

    ESTIMATORS = {"MLE (ddof=0)": 0, "unbiased (ddof=1)": 1}
    controls = (
        Control("n", "points per fit n", 100, options=(10, 20, 50, 100, 200, 500, 1000)),
        Control("estimator", "estimator", "MLE (ddof=0)", options=tuple(ESTIMATORS)),
        Control("fits", "fits followed", 1000, options=(100, 300, 1000, 3000)),
    )

    def __init__(self, replicates=1000, seed=0, **settings):
        self.replicates = check_int("replicates", replicates, minimum=2, maximum=1_000_000)
        super().__init__(seed=seed, **settings)

    def compute(self, n, estimator, fits):
        """Log-variance and W2^2 per recorded fit, simulated and exact."""
        from scipy import stats

        ddof = self.ESTIMATORS[estimator]
        run = simulate(Normal(0.0, 1.0), NormalFit(ddof=ddof), n=n, generations=fits - 1,
                       replicates=self.replicates, seed=self.seed, record_every=max(1, fits // 100),
                       metrics=["mean", "var"], keep=[])
        t = np.asarray(run.generations) + 1          # run.models[t] has had t + 1 fits
        var = np.asarray(run.metrics["var"])
        mean = np.asarray(run.metrics["mean"])
        logv = np.log(np.maximum(var, np.finfo(float).tiny))
        w2 = mean ** 2 + (np.sqrt(var) - 1.0) ** 2
        m_exact, v_exact = theory.normal_log_var(t, n, ddof)
        se = logv.std(axis=1, ddof=1) / np.sqrt(self.replicates)
        z = np.abs(logv.mean(axis=1) - m_exact) / se
        half = stats.norm.ppf(0.95) * np.sqrt(v_exact)
        return {"fits": t, "logvar": logv, "logvar_exact": m_exact, "logvar_lo": m_exact - half,
                "logvar_hi": m_exact + half, "logvar_max_z": float(np.max(z)),
                "w2": w2, "w2_exact": theory.normal_expected_w2sq(t, n, ddof),
                "w2_se": w2.std(axis=1, ddof=1) / np.sqrt(self.replicates)}

    def draw(self, axes, result, settings):
        from .. import plotting

        ax_v, ax_w = axes
        color = plotting.PALETTE["vermillion" if settings["estimator"].startswith("MLE") else "blue"]
        black = plotting.PALETTE["black"]
        t = result["fits"]
        _band(ax_v, t, result["logvar"], color, "simulated mean, 5-95%")
        ax_v.plot(t, result["logvar_exact"], color=black, linestyle="--", linewidth=1.2,
                  label=r"exact mean $t\,\delta_d$")
        ax_v.plot(t, result["logvar_lo"], color=black, linestyle=":", linewidth=1.0, label="exact 5-95% (normal)")
        ax_v.plot(t, result["logvar_hi"], color=black, linestyle=":", linewidth=1.0)
        ax_v.set_ylabel(r"$\ln \sigma_t^2$")
        ax_v.set_title(f"largest gap, mean vs exact: {result['logvar_max_z']:.1f} SE", fontsize=9)
        ax_v.legend(fontsize=7.5, loc="lower left")
        w2 = result["w2"]
        m = w2.mean(axis=1)
        plotting.band(ax_w, t, m - 2 * result["w2_se"], m + 2 * result["w2_se"], m, color=color,
                      label=r"simulated mean, $\pm 2$ SE")
        ax_w.plot(t, np.median(w2, axis=1), color=color, linestyle="-.", label="simulated median")
        ax_w.plot(t, result["w2_exact"], color=black, linestyle="--", linewidth=1.2, label=r"exact $E[W_2^2]$")
        ax_w.set_ylabel(r"$W_2^2$ to the world N(0, 1)")
        ax_w.set_ylim(bottom=0)
        # MLE: the curves rise to a plateau near the top; unbiased: the exact line climbs to the top right
        ax_w.legend(fontsize=7.5, loc="lower right" if settings["estimator"].startswith("MLE") else "upper left")
        for ax in axes:
            ax.set_xlabel("number of fits t")


# ----------------------------------------------------------------------------- chapter 5

class VocabularyExplorer(Explorer):
    """Chapter 5's word-count model on real English: surviving words and held-out perplexity.

    The world is the ``vocabulary`` most frequent English words
    (:func:`collapse_lib.english_words`); each generation a categorical model
    is fitted by counting a corpus of ``corpus`` words, of which a share
    ``anchor`` is fresh real text (:class:`~collapse_lib.Anchor`) and the rest
    the previous model's own text. Left: the words still in the vocabulary
    (mean and range over replicates). Right: the perplexity of held-out real
    text (100,000 words drawn once), with a uniform floor of weight 0.01 so
    that it stays finite (:func:`collapse_lib.studies.vocabulary.held_out_perplexity`),
    against the perplexity of the real frequencies themselves.

    Parameters
    ----------
    replicates : int >= 1
    generations : int >= 1
    seed : int >= 0
    **settings
        ``vocabulary`` (number of words in the world), ``anchor`` (share of
        fresh real text), ``corpus`` (words per generation).

    Introduced in chapter 5, "Tokens and words".
    """

    SMOOTHING = 0.01
    HELD_OUT = 100_000
    controls = (
        Control("vocabulary", "words in the world", 5000, options=(1000, 2000, 5000, 10000), fmt="{:,}"),
        Control("anchor", "fresh real text", 0.05, options=(0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5), fmt="{:.0%}"),
        Control("corpus", "words per generation", 100_000, options=(10_000, 30_000, 100_000, 300_000, 1_000_000),
                fmt="{:,}"),
    )

    def __init__(self, replicates=3, generations=60, seed=0, **settings):
        self.replicates = check_int("replicates", replicates, minimum=1, maximum=1000)
        self.generations = check_int("generations", generations, minimum=1, maximum=10_000)
        self._worlds = {}
        super().__init__(seed=seed, **settings)

    def _world(self, k):
        """(world, held-out text, perplexity of the world itself), cached per vocabulary size."""
        if k not in self._worlds:
            from ..worlds.words import english_words
            from .vocabulary import held_out_perplexity

            _, world = english_words(k)
            text = world.sample(self.HELD_OUT, np.random.default_rng([self.seed, k]))
            self._worlds[k] = (world, text, float(held_out_perplexity(world, text)))
        return self._worlds[k]

    def compute(self, vocabulary, anchor, corpus):
        """Surviving words and smoothed held-out perplexity per recorded generation ``(rows, R)``."""
        from .vocabulary import held_out_perplexity

        world, text, ppl_world = self._world(vocabulary)
        scheme = Anchor(anchor) if anchor > 0 else Replace()
        run = simulate(world, CategoricalFit(), n=corpus, generations=self.generations, scheme=scheme,
                       replicates=self.replicates, seed=self.seed, record_every=max(1, self.generations // 20),
                       metrics={"surviving": "surviving",
                                "perplexity": lambda m: held_out_perplexity(m, text, smoothing=self.SMOOTHING)},
                       keep=[])
        return {"generation": np.asarray(run.generations), "surviving": np.asarray(run.metrics["surviving"]),
                "perplexity": np.asarray(run.metrics["perplexity"]), "perplexity_world": ppl_world,
                "vocabulary": vocabulary}

    def draw(self, axes, result, settings):
        from .. import plotting

        ax_s, ax_p = axes
        color, black = plotting.PALETTE["blue"], plotting.PALETTE["black"]
        g = result["generation"]
        s = result["surviving"]
        plotting.band(ax_s, g, s.min(axis=1), s.max(axis=1), s.mean(axis=1), color=color,
                      label=f"mean, range of {self.replicates} runs")
        ax_s.axhline(result["vocabulary"], color=black, linestyle=":", label="the world's vocabulary")
        ax_s.set_ylim(0, 1.08 * result["vocabulary"])
        ax_s.set_ylabel("words still in the vocabulary")
        ax_s.legend(fontsize=7.5, loc="lower left")
        p = result["perplexity"]
        plotting.band(ax_p, g, p.min(axis=1), p.max(axis=1), p.mean(axis=1), color=color,
                      label=f"mean, range of {self.replicates} runs")
        ax_p.axhline(result["perplexity_world"], color=black, linestyle=":", label="the real frequencies")
        ax_p.set_ylabel(f"held-out perplexity (floor {self.SMOOTHING:g})")
        ax_p.legend(fontsize=7.5, loc="upper left")
        for ax in axes:
            ax.set_xlabel("generation")


# ----------------------------------------------------------------------------- the general explorer

#: model families offered by the general explorer's menu (name -> factory)
FAMILIES = {
    "Normal (MLE)": lambda: NormalFit(ddof=0),
    "Normal (unbiased)": lambda: NormalFit(ddof=1),
    "Gaussian mixture, K=2": lambda: GaussianMixtureFit(2, n_iter=25, tol=1e-5),
    "KDE (Silverman)": lambda: KDEFit("silverman"),
    "Resampling": lambda: EmpiricalFit(),
}

#: filters offered by the general explorer's menu
FILTERS = {
    "none": lambda: NoFilter(),
    "quality filter, keep 90%": lambda: QualityFilter(0.9),
    "verifier, accuracy 1": lambda: Verifier(1.0),
    "verifier, accuracy 0.5": lambda: Verifier(0.5),
}

#: data schemes offered by the general explorer's menu (factory of the anchor fraction)
SCHEMES = {
    "replace": lambda a: Replace(),
    "anchor": lambda a: Anchor(a),
    "accumulate": lambda a: Accumulate(),
}

#: metrics offered by the general explorer's menu (label -> y-axis label)
METRICS = {
    "tail mass": "P(X > threshold) of the fitted model",
    "standard deviation": "std of the fitted model",
    "W2 to the world": "W2 distance to the world",
}

_N_OPTIONS = (20, 50, 100, 200, 500, 1000, 2000, 5000)


def _replicate(model, i=0):
    """Replicate ``i`` of a batched model as an unbatched one."""
    if hasattr(model, "_take"):
        return model._take(i)
    raise TypeError(f"cannot take a replicate of {type(model).__name__}")


def _w2_fast(model, world_q, u, rng):
    """W2 to the world: exact for a normal model, else from 256 model draws per replicate."""
    from scipy import special

    if isinstance(model, Normal):
        q = np.asarray(model.mean)[:, None] + np.asarray(model.std)[:, None] * special.ndtri(u)
    else:
        q = np.sort(model.sample(u.size, rng), axis=-1)
    return np.sqrt(np.mean(np.square(q - world_q), axis=-1))


class RecursionExplorer(Explorer):
    """The general explorer built by :func:`explore` (see there); no chapter uses it.

    Controls: ``n``, ``generations``, ``anchor`` (used by the anchor scheme
    only), ``scheme``, ``family``, ``filter``, ``metric`` and ``at`` (the
    middle generation whose density is drawn; clamped to ``generations``).
    ``run`` is the last simulation.
    """

    ncols = 2
    figsize = (10.0, 3.6)
    controls = (
        Control("n", "n per generation", 100, options=_N_OPTIONS),
        Control("generations", "generations", 20, low=1, high=100),
        Control("anchor", "anchor fraction", 0.1, low=0.0, high=1.0, step=0.05, fmt="{:.2f}"),
        Control("at", "density at generation", 10, low=0, high=100),
        Control("scheme", "scheme", "replace", options=tuple(SCHEMES)),
        Control("family", "family", "Normal (MLE)", options=tuple(FAMILIES)),
        Control("filter", "filter", "none", options=tuple(FILTERS)),
        Control("metric", "metric", "tail mass", options=tuple(METRICS)),
    )

    def __init__(self, world, threshold, replicates, seed=0, **settings):
        if not (callable(getattr(world, "logpdf", None)) and callable(getattr(world, "tail_mass", None))):
            raise TypeError(f"world must be a one-dimensional distribution with logpdf and tail_mass, "
                            f"got {type(world).__name__}")
        self.world = world
        self.threshold = check_real("threshold", threshold)
        self.replicates = check_int("replicates", replicates, minimum=1, maximum=10_000)
        self.run = None
        super().__init__(seed=seed, **settings)

    def title(self, settings):
        return (f"{settings['family']}, {settings['scheme']}"
                + (f" {settings['anchor']:.2f}" if settings["scheme"] == "anchor" else "")
                + f", filter {settings['filter']}; n = {settings['n']}, {self.replicates} replicates")

    def compute(self, n, generations, anchor, at, scheme, family, filter, metric):
        self.run = simulate(self.world, FAMILIES[family](), n=n, generations=generations,
                            scheme=SCHEMES[scheme](anchor), filter=FILTERS[filter](),
                            replicates=self.replicates, seed=self.seed)
        return self.run

    def _values(self, metric):
        run = self.run
        if metric == "tail mass":
            return run.trajectory(lambda m: m.tail_mass(self.threshold))
        if metric == "standard deviation":
            return run.trajectory("std")
        from ..metrics import quantile

        u = (np.arange(256) + 0.5) / 256
        world_q = quantile(self.world, u)
        rng = np.random.default_rng(self.seed)
        return np.stack([_w2_fast(m, world_q, u, rng) for m in run.models])

    def draw(self, axes, result, settings):
        from .. import plotting

        ax_t, ax_d = axes
        values = self._values(settings["metric"])
        gens = np.asarray(result.generations)
        _band(ax_t, gens, values, plotting.COLORS[0], "mean, 5-95% band")
        if settings["metric"] == "tail mass":
            ax_t.axhline(float(self.world.tail_mass(self.threshold)), color=plotting.PALETTE["black"],
                         linestyle=":", label="world")
        ax_t.set_xlabel("generation")
        ax_t.set_ylabel(METRICS[settings["metric"]].replace("threshold", f"{self.threshold:g}"))
        ax_t.legend(loc="best", fontsize=8)
        mean, std = float(np.mean(self.world.mean)), float(np.mean(self.world.std))
        x = np.linspace(mean - 4.5 * std, mean + 4.5 * std, 400)
        ax_d.plot(x, np.exp(self.world.logpdf(x)), color=plotting.PALETTE["black"], linestyle=":", label="world")
        last = settings["generations"]
        shown = sorted({0, min(settings["at"], last), last})
        for j, g in enumerate(shown):
            model = _replicate(result.models[list(gens).index(g)], 0)
            color = plotting.COLORS[(j + 1) % len(plotting.COLORS)]
            if isinstance(model, Empirical):
                ax_d.hist(model.points, bins=60, range=(x[0], x[-1]), density=True, histtype="step",
                          color=color, label=f"generation {g}")
            else:
                ax_d.plot(x, np.exp(model.logpdf(x)), color=color, label=f"generation {g}")
        ax_d.set_xlabel("x")
        ax_d.set_ylabel("density (replicate 1)")
        ax_d.set_ylim(bottom=0)
        ax_d.legend(loc="best", fontsize=8)


def explore(world=None, *, threshold=5.0, replicates=32, seed=0, n=100, generations=20,
            family="Normal (MLE)", scheme="replace", filter="none", metric="tail mass", anchor=0.1, at=None):
    """Build a general explorer of the recursion (live in a kernel; no chapter uses it).

    Every family, scheme and filter of the library's menus, for a reader who
    wants to vary more than one chapter's question: the left panel follows a
    metric over generations (mean and 5-95% band over replicates), the right
    one the fitted density of the first replicate at three generations,
    against the world. The chapters' own explorers (:class:`AnchorExplorer`,
    :class:`RareModeExplorer`, :class:`GaussianRefitExplorer`,
    :class:`VocabularyExplorer`) are built on the same :class:`Explorer` base.

    Parameters
    ----------
    world : distribution, optional
        One-dimensional world with ``logpdf`` and ``tail_mass``; by default
        the book's running world, 97% N(0, 1) and 3% N(8, 1).
    threshold : float
        Threshold of the tail-mass metric.
    replicates : int >= 1
        Independent runs behind the mean and band (modest, so that updates
        stay fast).
    seed : int >= 0
        Seed of every simulation (the same settings redraw the same picture).
    n, generations, family, scheme, filter, metric, anchor, at
        Initial control values (menus: ``FAMILIES``, ``SCHEMES``,
        :data:`FILTERS`, :data:`METRICS`; ``n`` one of 20, 50, ..., 5000;
        ``generations`` 1 to 100; ``at`` defaults to half of ``generations``).

    Returns
    -------
    RecursionExplorer
        Displaying it (last line of a cell) shows the controls and panels;
        ``explorer.update(n=500, family="KDE (Silverman)")`` changes controls
        from code.

    Notes
    -----
    With the normal families the simulation takes the exact path and the
    drawing dominates an update; the mixture (EM), KDE and resampling
    families refit every replicate on ``n`` points each generation, so large
    ``n`` with many generations takes seconds. The status line under the
    figure shows the measured time of the last update.
    """
    if world is None:
        world = NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    if not (callable(getattr(world, "logpdf", None)) and callable(getattr(world, "tail_mass", None))):
        raise TypeError("world must be a one-dimensional distribution with logpdf and tail_mass")
    threshold = check_real("threshold", threshold)
    replicates = check_int("replicates", replicates, minimum=1, maximum=10_000)
    at = max(1, generations // 2) if at is None and isinstance(generations, int) else at
    return RecursionExplorer(world, threshold, replicates, seed=seed, n=n, generations=generations,
                             family=family, scheme=scheme, filter=filter, metric=metric, anchor=anchor,
                             at=at if at is not None else 10)
