"""A live explorer (ipywidgets) for a notebook with a running kernel.

``cl.explore()`` builds sliders and menus for the sample size, the number of
generations, the anchor fraction, the data scheme, the model family and the
filter, and redraws two panels on every change: the trajectory of a chosen
metric (mean over replicates and a 5-95% band) and the fitted density of one
replicate at three generations, against the world.

The explorer needs a running Python kernel: in the static HTML book its
controls would be dead, so chapters tag its cell ``remove-output``.
ipywidgets is imported only when an explorer is built.

No chapter calls it yet: it varies the experiment of chapter 2, "A simulation
you can run", live, for a reader with a kernel (``cl.explore()``).
"""

from __future__ import annotations

import io
import time

import numpy as np

from .._validate import check_int, check_real
from ..distributions import Normal, NormalMixture
from ..models.empirical import Empirical, EmpiricalFit
from ..families import NormalFit
from ..filters import NoFilter, QualityFilter, Verifier
from ..models.kde import KDEFit
from ..models.mixture import GaussianMixtureFit
from ..schemes import Accumulate, Anchor, Replace
from ..simulate import simulate

__all__ = ["explore", "Explorer", "FAMILIES", "FILTERS", "SCHEMES", "METRICS"]

#: model families offered by the menu (name -> factory)
FAMILIES = {
    "Normal (MLE)": lambda: NormalFit(ddof=0),
    "Normal (unbiased)": lambda: NormalFit(ddof=1),
    "Gaussian mixture, K=2": lambda: GaussianMixtureFit(2, n_iter=25, tol=1e-5),
    "KDE (Silverman)": lambda: KDEFit("silverman"),
    "Resampling": lambda: EmpiricalFit(),
}

#: filters offered by the menu
FILTERS = {
    "none": lambda: NoFilter(),
    "quality filter, keep 90%": lambda: QualityFilter(0.9),
    "verifier, accuracy 1": lambda: Verifier(1.0),
    "verifier, accuracy 0.5": lambda: Verifier(0.5),
}

#: data schemes offered by the menu (factory of the anchor fraction)
SCHEMES = {
    "replace": lambda a: Replace(),
    "anchor": lambda a: Anchor(a),
    "accumulate": lambda a: Accumulate(),
}

#: metrics offered by the menu (label -> y-axis label)
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
    if isinstance(model, Normal):
        q = np.asarray(model.mean)[:, None] + np.asarray(model.std)[:, None] * _ndtri(u)
    else:
        q = np.sort(model.sample(u.size, rng), axis=-1)
    return np.sqrt(np.mean(np.square(q - world_q), axis=-1))


def _ndtri(u):
    from scipy import special

    return special.ndtri(u)


class Explorer:
    """The live explorer built by :func:`explore` (see there).

    No chapter calls it yet; it varies chapter 2's experiment live.
    

    Attributes
    ----------
    controls : dict of str -> widget
        ``n``, ``generations``, ``anchor``, ``scheme``, ``family``, ``filter``,
        ``metric``, ``at`` (the middle generation whose density is drawn).
    widget : ipywidgets.VBox
        The whole explorer; displaying the Explorer displays it.
    figure : matplotlib Figure
        The two panels, redrawn in place.
    run : Run
        The last simulation.
    png : bytes
        The last rendered figure (PNG).
    last_update_seconds : float
        Wall time of the last update (simulation and drawing).
    last_update_cpu_seconds : float
        CPU time of the last update (what it costs on an otherwise idle core).
    """

    def __init__(self, world, threshold, replicates, seed, n, generations, family, scheme, filter, metric,
                 anchor):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        from .. import plotting

        self.world = world
        self.threshold = threshold
        self.replicates = replicates
        self.seed = seed
        self.run = None
        self.last_update_seconds = float("nan")
        style = {"description_width": "initial"}
        c = self.controls = {
            "n": widgets.SelectionSlider(options=_N_OPTIONS, value=n, description="n per generation", style=style),
            "generations": widgets.IntSlider(value=generations, min=1, max=100, description="generations",
                                             style=style),
            "anchor": widgets.FloatSlider(value=anchor, min=0.0, max=1.0, step=0.05, description="anchor fraction",
                                          style=style, readout_format=".2f"),
            "scheme": widgets.Dropdown(options=list(SCHEMES), value=scheme, description="scheme", style=style),
            "family": widgets.Dropdown(options=list(FAMILIES), value=family, description="family", style=style),
            "filter": widgets.Dropdown(options=list(FILTERS), value=filter, description="filter", style=style),
            "metric": widgets.Dropdown(options=list(METRICS), value=metric, description="metric", style=style),
            "at": widgets.IntSlider(value=max(1, generations // 2), min=0, max=generations,
                                    description="density at generation", style=style),
        }
        self.status = widgets.Label(value="")
        self.output = widgets.Output()
        with plt.ioff():
            self.figure, self.axes = plotting.figure(ncols=2, width=10.0, height=3.6)
        for w in c.values():
            w.observe(self._on_change, names="value")
        left = widgets.VBox([c["n"], c["generations"], c["anchor"], c["at"]])
        right = widgets.VBox([c["scheme"], c["family"], c["filter"], c["metric"]])
        self.widget = widgets.VBox([widgets.HBox([left, right]), self.status, self.output])
        self.update()

    # ------------------------------------------------------------------ logic
    def _on_change(self, change):
        self.update()

    def settings(self):
        """Current control values as a dict."""
        return {k: w.value for k, w in self.controls.items()}

    def update(self, **changes):
        """Set any controls given as keyword arguments, then simulate and redraw.

        Returns the :class:`Run`. Setting several controls triggers a single
        redraw.
        """
        unknown = set(changes) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; choose from {sorted(self.controls)}")
        if changes:
            self._quiet = True
            try:
                for key, value in changes.items():
                    self.controls[key].value = value
            finally:
                self._quiet = False
        if getattr(self, "_quiet", False):
            return self.run
        start, start_cpu = time.perf_counter(), time.process_time()
        s = self.settings()
        c = self.controls
        if c["at"].max != s["generations"]:
            self._quiet = True
            c["at"].max = s["generations"]
            self._quiet = False
            s["at"] = c["at"].value
        c["anchor"].disabled = s["scheme"] != "anchor"
        self.run = simulate(self.world, FAMILIES[s["family"]](), n=s["n"], generations=s["generations"],
                            scheme=SCHEMES[s["scheme"]](s["anchor"]), filter=FILTERS[s["filter"]](),
                            replicates=self.replicates, seed=self.seed)
        self._draw(s)
        self.last_update_seconds = time.perf_counter() - start
        self.last_update_cpu_seconds = time.process_time() - start_cpu
        self.status.value = (f"{self.replicates} replicates; last update took "
                             f"{self.last_update_seconds:.2f} s")
        return self.run

    def _values(self, metric):
        run = self.run
        if metric == "tail mass":
            return run.trajectory(lambda m: m.tail_mass(self.threshold))
        if metric == "standard deviation":
            return run.trajectory("std")
        u = (np.arange(256) + 0.5) / 256
        from ..metrics import quantile

        world_q = quantile(self.world, u)
        rng = np.random.default_rng(self.seed)
        return np.stack([_w2_fast(m, world_q, u, rng) for m in run.models])

    def _draw(self, s):
        from .. import plotting

        ax_t, ax_d = self.axes
        ax_t.cla()
        ax_d.cla()
        values = self._values(s["metric"])
        gens = np.asarray(self.run.generations)
        lo, hi = np.quantile(values, [0.05, 0.95], axis=1)
        plotting.band(ax_t, gens, lo, hi, values.mean(axis=1), color=plotting.COLORS[0],
                      label="mean, 5-95% band")
        if s["metric"] == "tail mass":
            ax_t.axhline(float(self.world.tail_mass(self.threshold)), color=plotting.PALETTE["black"],
                         linestyle=":", label="world")
        ax_t.set_xlabel("generation")
        ax_t.set_ylabel(METRICS[s["metric"]].replace("threshold", f"{self.threshold:g}"))
        ax_t.legend(loc="best")
        lo_x, hi_x = self._x_range()
        x = np.linspace(lo_x, hi_x, 400)
        ax_d.plot(x, np.exp(self.world.logpdf(x)), color=plotting.PALETTE["black"], linestyle=":", label="world")
        shown = sorted({0, min(s["at"], s["generations"]), s["generations"]})
        for j, g in enumerate(shown):
            model = _replicate(self.run.models[list(gens).index(g)], 0)
            color = plotting.COLORS[(j + 1) % len(plotting.COLORS)]
            if isinstance(model, Empirical):
                ax_d.hist(model.points, bins=60, range=(lo_x, hi_x), density=True, histtype="step",
                          color=color, label=f"generation {g}")
            else:
                ax_d.plot(x, np.exp(model.logpdf(x)), color=color, label=f"generation {g}")
        ax_d.set_xlabel("x")
        ax_d.set_ylabel("density (replicate 1)")
        ax_d.set_ylim(bottom=0)
        ax_d.legend(loc="best")
        # render once to PNG here (counted in the update time), then show it
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png")
        self.png = buf.getvalue()
        self.output.clear_output(wait=True)
        with self.output:
            from IPython.display import Image, display

            display(Image(data=self.png, format="png"))

    def _x_range(self):
        mean, std = float(np.mean(self.world.mean)), float(np.mean(self.world.std))
        return mean - 4.5 * std, mean + 4.5 * std

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self):
        return f"Explorer({self.settings()})"


def explore(world=None, *, threshold=5.0, replicates=32, seed=0, n=100, generations=20,
            family="Normal (MLE)", scheme="replace", filter="none", metric="tail mass", anchor=0.1):
    """Build a live explorer of the recursion (needs a running kernel and ipywidgets).

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
    seed : int
        Seed of every simulation (an update with the same settings redraws
        the same picture).
    n, generations, family, scheme, filter, metric, anchor
        Initial control values (menus: :data:`FAMILIES`, :data:`SCHEMES`,
        :data:`FILTERS`, :data:`METRICS`; ``n`` one of 20, 50, ..., 5000).

    Returns
    -------
    Explorer
        Displaying it (last line of a cell) shows the controls and panels;
        ``explorer.update(n=500, family="KDE (Silverman)")`` changes controls
        from code.

    Notes
    -----
    An update is a simulation plus one drawing of the figure. With the
    normal families at the defaults the simulation takes about 0.1 s (the
    exact fast path) and the drawing dominates; the mixture (EM), KDE and
    resampling families refit every replicate on ``n`` points each
    generation, so large ``n`` with many generations takes seconds. The
    status line shows the measured time of the last update.

    No chapter calls it yet; it varies chapter 2's experiment live.
    """
    if world is None:
        world = NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    if not (callable(getattr(world, "logpdf", None)) and callable(getattr(world, "tail_mass", None))):
        raise TypeError("world must be a one-dimensional distribution with logpdf and tail_mass")
    threshold = check_real("threshold", threshold)
    replicates = check_int("replicates", replicates, minimum=1, maximum=10_000)
    seed = check_int("seed", seed, minimum=0)
    n = check_int("n", n)
    if n not in _N_OPTIONS:
        raise ValueError(f"n must be one of {list(_N_OPTIONS)}, got {n}")
    generations = check_int("generations", generations, minimum=1, maximum=100)
    for name, value, menu in (("family", family, FAMILIES), ("scheme", scheme, SCHEMES),
                              ("filter", filter, FILTERS), ("metric", metric, METRICS)):
        if value not in menu:
            raise ValueError(f"{name} must be one of {list(menu)}, got {value!r}")
    anchor = check_real("anchor", anchor)
    if not 0.0 <= anchor <= 1.0:
        raise ValueError(f"anchor must be in [0, 1], got {anchor}")
    return Explorer(world, threshold, replicates, seed, n, generations, family, scheme, filter, metric, anchor)
