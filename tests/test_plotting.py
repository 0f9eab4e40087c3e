"""The house figure style: colour-blind-safe palette, opaque light background, helpers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collapse_lib as cl  # noqa: E402


def test_palette_is_okabe_ito_and_distinct():
    assert cl.plotting.PALETTE["blue"] == "#0072B2" and cl.plotting.PALETTE["vermillion"] == "#D55E00"
    rgb = [mcolors.to_rgb(c) for c in cl.plotting.COLORS]
    assert len(set(rgb)) == len(rgb)
    # Yellow is too pale on a white card; it is kept out of the line cycle.
    assert cl.plotting.PALETTE["yellow"] not in cl.plotting.COLORS


def test_figure_has_an_opaque_light_background_for_dark_mode():
    fig, ax = cl.plotting.figure()
    assert mcolors.to_rgba(fig.get_facecolor())[3] == 1.0
    assert np.mean(mcolors.to_rgb(fig.get_facecolor())) > 0.95
    assert np.mean(mcolors.to_rgb(ax.xaxis.label.get_color())) < 0.2
    plt.close(fig)


def test_band_and_summary_band_draw_a_line_and_a_band():
    fig, ax = cl.plotting.figure()
    line = cl.plotting.band(ax, [0, 1, 2], [0, 0, 0], [2, 2, 2], [1, 1, 1], label="mid")
    assert line.get_label() == "mid" and len(ax.collections) == 1
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=20, generations=4, replicates=50, seed=0)
    cl.plotting.summary_band(ax, run.summary("var"), label="variance")
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    assert cl.plotting.finish(fig) is fig
    assert not plt.fignum_exists(fig.number)


def test_figures_made_after_earlier_ones_stay_registered():
    first, _ = cl.plotting.figure()
    second, _ = cl.plotting.figure()
    assert plt.fignum_exists(first.number) and plt.fignum_exists(second.number)
    assert matplotlib.get_backend().lower() == "agg"
    plt.close("all")
