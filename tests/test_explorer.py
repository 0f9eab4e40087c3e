"""The live explorers, without a display: they build, respond, repeat, refuse bad settings and play.

Timing is not asserted here (a shared machine makes it flaky); ``make bench-explorers``
prints each explorer's update time. Statistical checks use fixed seeds; each tolerance is
stated beside it in standard errors computed from the replicates themselves.
"""

import re

import matplotlib
import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import tails, theory
from collapse_lib.studies.explorer import (FAMILIES, FILTERS, METRICS, SCHEMES, AnchorExplorer, Control, Explorer,
                                           GaussianRefitExplorer, RareModeExplorer, RecursionExplorer,
                                           VocabularyExplorer)

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("error")

PNG = b"\x89PNG\r\n\x1a\n"


# Small but honest settings: each chapter explorer with fewer replicates than its default.
@pytest.fixture(scope="module")
def anchor():
    return AnchorExplorer(replicates=200, seed=1, n=100, generations=50)


@pytest.fixture(scope="module")
def rare():
    return RareModeExplorer(replicates=1000, seed=2, fits=100)


@pytest.fixture(scope="module")
def gauss():
    return GaussianRefitExplorer(replicates=400, seed=3, fits=300)


@pytest.fixture(scope="module")
def vocab():
    return VocabularyExplorer(replicates=2, generations=20, seed=4, vocabulary=1000, corpus=10_000)


CHAPTER_EXPLORERS = ["anchor", "rare", "gauss", "vocab"]


# ----------------------------------------------------------------------------- all four

@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_builds_without_a_display(which, request):
    ex = request.getfixturevalue(which)
    assert isinstance(ex, Explorer)
    assert ex.png.startswith(PNG)
    assert ex.result is not None
    assert np.isfinite(ex.last_update_seconds) and ex.last_update_seconds > 0
    assert np.isfinite(ex.last_update_cpu_seconds) and ex.last_update_cpu_seconds >= 0
    assert len(ex.axes) == ex.ncols
    for ax in ex.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), "every panel has labelled axes"
    assert ex.figure.get_suptitle() == ex.title(ex.settings)
    assert ex.settings == ex.initial


@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_the_docstring_names_its_chapter(which, request):
    doc = type(request.getfixturevalue(which)).__doc__
    assert re.search(r"Introduced in chapter \d", doc)


@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_same_settings_same_picture_and_every_control_changes_it(which, request):
    ex = request.getfixturevalue(which)
    start = dict(ex.settings)
    ex.update()
    first = ex.png
    for control in ex.controls:
        other = next(v for v in control.grid() if v != start[control.name])
        ex.update(**{control.name: other})
        assert ex.png != first, f"changing {control.name} did not change the figure"
        ex.update(**{control.name: start[control.name]})
        assert ex.png == first, f"returning {control.name} to {start[control.name]!r} did not restore the figure"
    assert ex.settings == start


@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_bad_settings_are_refused_naming_the_control(which, request):
    ex = request.getfixturevalue(which)
    before = (dict(ex.settings), ex.png)
    for control in ex.controls:
        bad = -12345 if control.numeric else "no such value"
        with pytest.raises(ValueError, match=control.name):
            ex.update(**{control.name: bad})
        wrong_type = "lots" if control.numeric else 3
        with pytest.raises((ValueError, TypeError), match=control.name):
            ex.update(**{control.name: wrong_type})
    with pytest.raises(ValueError, match="unknown control"):
        ex.update(speed=3)
    with pytest.raises(ValueError, match=ex.controls[0].name):
        type(ex)(**{ex.controls[0].name: -12345})
    assert (dict(ex.settings), ex.png) == before, "a refused setting changed the explorer"


@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_player_has_one_frame_per_value_and_alt_text(which, request):
    ex = request.getfixturevalue(which)
    control = ex.controls[0]
    values = control.grid()[:3]
    player = ex.player(control.name, values, alt="What the frames show.", name=f"test_{which}")
    html = player.html
    assert html.count("data:image/png;base64") == len(values)
    assert 'alt="What the frames show."' in html
    assert f'aria-label="{control.label}"' in html
    markup = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html).lower()
    assert "<link" not in markup and "http" not in markup, "the player loads nothing from another host"
    assert ex.settings == ex.initial, "the player leaves the live explorer alone"
    with pytest.raises(ValueError, match="vary"):
        ex.player("speed", alt="x", name="y")
    with pytest.raises(ValueError, match=control.name):
        ex.player(control.name, [-12345], alt="x", name="y")
    with pytest.raises(ValueError, match="alt"):
        ex.player(control.name, values[:1], alt=" ", name="y")


@pytest.mark.parametrize("which", CHAPTER_EXPLORERS)
def test_live_view_redraws_when_a_control_moves(which, request):
    import ipywidgets as widgets

    ex = request.getfixturevalue(which)
    box = ex.widget
    assert isinstance(box, widgets.VBox)
    image = ex._view["image"]
    assert image.value == ex.png
    control = ex.controls[0]
    w = ex.inputs[control.name]
    start = ex.settings[control.name]
    other = next(v for v in control.grid() if v != start)
    w.value = other                        # as a reader would: the observer runs the update
    assert ex.settings[control.name] == other
    assert image.value == ex.png and image.value != b""
    ex.update(**{control.name: start})     # from code: the control follows
    assert w.value == start and image.value == ex.png
    assert "last update" in ex._view["status"].value


def test_chapter_4_explorer_starts_with_a_slider(gauss):
    """The JupyterLab browser test moves the first slider of chapter 4's explorer."""
    import ipywidgets as widgets

    first = gauss.widget.children[0].children[0]
    assert isinstance(first, widgets.SelectionSlider)
    options = [value for _, value in first.options]
    assert options.index(first.value) < len(options) - 1, "ArrowRight must have somewhere to go"


# ----------------------------------------------------------------------------- chapter 2

def test_anchor_keeps_more_tail(anchor):
    """A larger fresh-real share keeps more tail in the model and in the printed training data."""
    low = anchor.update(anchor=0.0)
    high = anchor.update(anchor=0.5)
    anchor.update(anchor=anchor.initial["anchor"])
    # the model: share of runs that keep at least half of the moment-matched Gaussian's tail
    # (binomial standard errors; the tail itself is too skewed for a mean or sd to mean much)
    keep_hi, keep_lo = (np.mean(r["model_tail"][-1] >= anchor.mm_tail / 2) for r in (high, low))
    se = np.sqrt((keep_hi * (1 - keep_hi) + keep_lo * (1 - keep_lo)) / anchor.replicates)
    assert keep_hi - keep_lo > 4 * se, (keep_hi, keep_lo, se)
    # the printed number: share of runs whose training data still holds a point above 5
    seen_hi, seen_lo = (np.mean(r["data_tail"][-1] > 0) for r in (high, low))
    se = np.sqrt((seen_hi * (1 - seen_hi) + seen_lo * (1 - seen_lo)) / anchor.replicates)
    assert seen_hi - seen_lo > 4 * se, (seen_hi, seen_lo, se)


def test_anchor_explorer_data_tail_has_the_law_of_counted_points():
    """The binomial shortcut against drawing every point (chapter 2's own method)."""
    reps, n, gens, a = 3000, 100, 6, 0.2
    ex = AnchorExplorer(replicates=reps, seed=11, n=n, generations=8, anchor=a)
    fast = ex.compute(n=n, generations=8, anchor=a)["data_tail"][: gens + 1]
    run = cl.simulate(ex.world, cl.NormalFit(ddof=0), n=n, generations=gens, scheme=cl.Anchor(a),
                      replicates=reps, seed=12, data_metrics={"d": lambda x: (x > 5.0).mean(axis=-1)})
    slow = run.data_metrics["d"]
    for t in range(gens + 1):
        se = np.hypot(fast[t].std(ddof=1), slow[t].std(ddof=1)) / np.sqrt(reps)
        # independent runs: the two means differ by a normal with this SE; 4 SE over 7 checks
        assert abs(fast[t].mean() - slow[t].mean()) < 4 * se, t
        # and their spreads agree within 15% (the sd of a sample sd is about sd / sqrt(2 R) = 1.3% here)
        assert fast[t].std() == pytest.approx(slow[t].std(), rel=0.15), t


def test_anchor_explorer_marks_the_claims_only_at_the_source_settings(anchor):
    def crosses():
        return [ln for ln in anchor.axes[0].lines if ln.get_label() == "the source's claim"]

    anchor.update(n=5000, anchor=0.1)
    assert len(crosses()) == 1
    anchor.update(n=100)
    assert not crosses()
    anchor.update(**anchor.initial)


# ----------------------------------------------------------------------------- chapter 3

def test_rare_mode_exact_curves_and_simulation(rare):
    r = rare.update(p=0.03, n=100, fits=100)
    np.testing.assert_array_equal(r["exact"], tails.rare_mode_survival(0.03, 100, 100))
    assert r["exact"][1] == pytest.approx(1 - 0.97 ** 100)
    np.testing.assert_allclose(r["naive"], (1 - 0.97 ** 100) ** np.arange(101))
    e = r["exact"][r["sim_fits"]]
    se = np.sqrt(np.maximum(e * (1 - e), 1e-4) / rare.replicates)   # binomial SE, floored at one hit
    assert np.max(np.abs(r["sim"] - e) / se) < 4.5   # about 60 correlated checks
    ok = np.isfinite(r["cond"])
    np.testing.assert_allclose(r["exact_cond"], 0.03 / r["exact"])
    assert np.all(r["cond"][ok] >= 0) and np.all(r["cond"][ok] <= 1)


def test_rare_mode_survives_longer_with_more_points_and_larger_p(rare):
    small = rare.update(n=30)
    large = rare.update(n=300)
    more = rare.update(n=300, p=0.1)
    rare.update(**rare.initial)
    assert np.all(large["exact"][1:] >= small["exact"][1:]) and large["exact"][-1] > small["exact"][-1]
    assert more["exact"][-1] > large["exact"][-1]
    se = np.sqrt((large["sim"][-1] * (1 - large["sim"][-1]) + small["sim"][-1] * (1 - small["sim"][-1]))
                 / rare.replicates)
    assert large["sim"][-1] - small["sim"][-1] > 4 * se


# ----------------------------------------------------------------------------- chapter 4

def test_gaussian_explorer_matches_the_closed_forms(gauss):
    for estimator, ddof in GaussianRefitExplorer.ESTIMATORS.items():
        r = gauss.update(estimator=estimator)
        t = r["fits"]
        np.testing.assert_allclose(r["logvar_exact"], theory.normal_log_var(t, 100, ddof)[0])
        np.testing.assert_allclose(r["w2_exact"], theory.normal_expected_w2sq(t, 100, ddof))
        # the chapter's tolerance: the log-variance is light-tailed, 4 SE at every recorded fit
        assert r["logvar_max_z"] < 4.0, estimator
        early = t <= 100   # W2^2 before the rare-path shortfall (chapter 4): 4 SE
        assert np.all(np.abs(r["w2"][early].mean(axis=1) - r["w2_exact"][early]) < 4 * r["w2_se"][early])
    gauss.update(**gauss.initial)


def test_gaussian_explorer_directions(gauss):
    small = gauss.update(n=20)["logvar"][-1]
    large = gauss.update(n=500)["logvar"][-1]
    mle = gauss.update(n=100, estimator="MLE (ddof=0)")["logvar"][-1]
    unb = gauss.update(estimator="unbiased (ddof=1)")["logvar"][-1]
    gauss.update(**gauss.initial)

    def gap(a, b):   # difference of means in standard errors
        return (a.mean() - b.mean()) / np.hypot(a.std(ddof=1), b.std(ddof=1)) * np.sqrt(a.size)

    assert gap(large, small) > 10, "more points per fit: less collapse"
    assert gap(unb, mle) > 10, "the unbiased estimator drifts half as fast"


# ----------------------------------------------------------------------------- chapter 5

def test_vocabulary_anchor_keeps_words_and_perplexity(vocab):
    none = vocab.update(anchor=0.0)
    much = vocab.update(anchor=0.5)
    vocab.update(**vocab.initial)
    assert np.all(none["surviving"][-1] < much["surviving"][-1])
    assert np.all(none["perplexity"][-1] > much["perplexity"][-1])
    assert np.all(none["surviving"] <= 1000) and np.all(np.diff(none["surviving"], axis=0) <= 0), \
        "without real text a lost word never returns"
    assert none["perplexity"][0].min() > none["perplexity_world"] * 0.99


def test_vocabulary_explorer_caches_each_world(vocab):
    vocab.update(vocabulary=2000)
    vocab.update(vocabulary=1000)
    assert {1000, 2000} <= set(vocab._worlds)
    world, text, ppl = vocab._worlds[1000]
    assert world.n_categories == 1000 and text.size == VocabularyExplorer.HELD_OUT and ppl > 1


# ----------------------------------------------------------------------------- the framework

class Tiny(Explorer):
    """The smallest explorer: the module docstring's example."""

    ncols = 1
    figsize = (4.0, 3.0)
    controls = (Control("n", "points per generation", 100, options=(10, 100, 1000)),
                Control("k", "a range", 3, low=1, high=9))

    def compute(self, n, k):
        return cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=k, replicates=50,
                           seed=self.seed).trajectory("var")

    def draw(self, axes, result, settings):
        axes[0].plot(result.mean(axis=1))
        axes[0].set_xlabel("generation")
        axes[0].set_ylabel("variance")


def test_a_subclass_needs_only_controls_compute_and_draw():
    ex = Tiny(seed=5)
    assert ex.result.shape == (4, 50)
    assert ex.update(k=5).shape == (6, 50)
    assert "points per generation 100" in ex.title(ex.settings)
    with pytest.raises(ValueError, match=r"k \(a range\).*\[1, 9\]"):
        ex.update(k=10)
    with pytest.raises(ValueError, match="k"):
        ex.update(k=2.5)
    assert ex.update(k=4.0).shape == (5, 50)   # an integral float is accepted for an integer range
    assert ex.player("k", alt="k frames", name="tiny").html.count("data:image/png;base64") == 6
    with pytest.raises(TypeError, match="no controls"):
        type("Empty", (Explorer,), {})()
    with pytest.raises(ValueError, match="seed"):
        Tiny(seed=-1)


def test_control_checks_and_widgets():
    import ipywidgets as widgets

    c = Control("anchor", "fresh real share", 0.1, options=(0.0, 0.1, 0.5), fmt="{:.0%}")
    assert c.check(0.1 + 1e-15) == 0.1 and c.show(0.5) == "50%" and c.grid() == [0.0, 0.1, 0.5]
    with pytest.raises(ValueError, match=r"anchor \(fresh real share\) must be one of 0.0, 0.1, 0.5"):
        c.check(0.2)
    with pytest.raises(TypeError, match="anchor"):
        c.check(True)
    assert isinstance(c.widget(0.1), widgets.SelectionSlider)
    m = Control("kind", "estimator", "a", options=("a", "b"))
    assert isinstance(m.widget("a"), widgets.ToggleButtons)
    assert isinstance(Control("f", "family", "a", options=tuple("abcd")).widget("a"), widgets.Dropdown)
    r = Control("x", "a float", 0.5, low=0.0, high=1.0)
    assert isinstance(r.widget(0.5), widgets.FloatSlider) and len(r.grid()) == 6
    assert isinstance(Control("i", "an int", 2, low=1, high=5).widget(2), widgets.IntSlider)
    for kwargs, match in ((dict(options=()), "empty"), (dict(options=(1,), low=0, high=1), "not both"),
                          (dict(), "low and high"), (dict(low=2, high=1), "below")):
        with pytest.raises(ValueError, match=match):
            Control("z", "zed", 1, **kwargs)
    with pytest.raises(ValueError, match="z"):
        Control("z", "zed", 7, options=(1, 2))
    with pytest.raises(ValueError, match="identifier"):
        Control("two words", "zed", 1, options=(1,))


# ----------------------------------------------------------------------------- cl.explore (no chapter)

@pytest.fixture(scope="module")
def general():
    return cl.explore(replicates=4, n=50, generations=6)


def test_explore_builds_with_every_control(general):
    assert isinstance(general, RecursionExplorer)
    assert set(general.settings) == {"n", "generations", "anchor", "scheme", "family", "filter", "metric", "at"}
    assert general.run.replicates == 4 and len(general.run.models) == 7
    assert general.png.startswith(PNG)
    assert "no chapter" in cl.explore.__doc__


def test_explore_every_menu_entry_updates(general):
    fams, filts, schemes, metrics = list(FAMILIES), list(FILTERS), list(SCHEMES), list(METRICS)
    for i in range(max(map(len, (fams, filts, schemes, metrics)))):
        settings = dict(family=fams[i % len(fams)], filter=filts[i % len(filts)],
                        scheme=schemes[i % len(schemes)], metric=metrics[i % len(metrics)], anchor=0.3)
        run = general.update(**settings)
        assert run.models[-1].batch_shape == (4,)
        assert type(run.filter) is type(FILTERS[settings["filter"]]())
        assert type(run.scheme) is type(SCHEMES[settings["scheme"]](0.3))
        assert np.all(np.isfinite(general._values(settings["metric"])))
    general.update(family="Normal (MLE)", filter="none", scheme="replace", metric="tail mass")


def test_explore_clamps_the_density_generation(general):
    general.update(generations=4, at=9)
    labels = [t.get_text() for t in general.axes[1].get_legend().get_texts()]
    assert labels[0] == "world" and labels[-1] == "generation 4"
    general.update(generations=6, at=3)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(n=7), ValueError, "n"), (dict(generations=0), ValueError, "generations"),
    (dict(family="GAN"), ValueError, "family"), (dict(anchor=1.5), ValueError, "anchor"),
    (dict(replicates=0), ValueError, "replicates"), (dict(threshold=float("nan")), ValueError, "threshold"),
    (dict(world=cl.Categorical([0.5, 0.5])), TypeError, "world"),
])
def test_explore_bad_arguments(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        cl.explore(**kwargs)
