"""The live explorer builds and updates without a display (no timing asserted here: see the report)."""

import matplotlib
import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.studies.explorer import FAMILIES, FILTERS, METRICS, SCHEMES, Explorer

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def explorer():
    return cl.explore(replicates=4, n=50, generations=6)


def test_builds_with_every_control(explorer):
    assert isinstance(explorer, Explorer)
    assert set(explorer.controls) == {"n", "generations", "anchor", "scheme", "family", "filter", "metric", "at"}
    assert explorer.run.replicates == 4 and len(explorer.run.models) == 7
    assert explorer.controls["anchor"].disabled  # replace: the anchor slider does nothing
    assert np.isfinite(explorer.last_update_seconds) and explorer.last_update_seconds > 0
    assert explorer.png.startswith(b"\x89PNG")  # the rendered figure


def test_every_menu_entry_updates(explorer):
    # five updates cover every family, filter, scheme and metric at least once
    fams, filts, schemes, metrics = list(FAMILIES), list(FILTERS), list(SCHEMES), list(METRICS)
    for i in range(max(map(len, (fams, filts, schemes, metrics)))):
        settings = dict(family=fams[i % len(fams)], filter=filts[i % len(filts)],
                        scheme=schemes[i % len(schemes)], metric=metrics[i % len(metrics)], anchor=0.3)
        run = explorer.update(**settings)
        assert run.models[-1].batch_shape == (4,)
        assert type(run.filter) is type(FILTERS[settings["filter"]]())
        assert type(run.scheme) is type(SCHEMES[settings["scheme"]](0.3))
        assert explorer.controls["anchor"].disabled == (settings["scheme"] != "anchor")
        assert explorer.axes[0].get_ylabel()
        assert np.all(np.isfinite(explorer._values(settings["metric"])))
    explorer.update(family="Normal (MLE)", filter="none", scheme="replace", metric="tail mass")


def test_moving_a_slider_redraws_once_and_clamps_the_density_generation(explorer):
    explorer.update(generations=10, at=9)
    explorer.controls["generations"].value = 4   # as a reader would: the observer runs the update
    assert len(explorer.run.models) == 5
    assert explorer.controls["at"].max == 4 and explorer.controls["at"].value <= 4
    labels = [t.get_text() for t in explorer.axes[1].get_legend().get_texts()]
    assert labels[0] == "world" and labels[-1] == "generation 4"


def test_same_settings_same_picture(explorer):
    a = explorer.update(n=100).trajectory("var")
    b = explorer.update(n=50).trajectory("var")
    c = explorer.update(n=100).trajectory("var")
    np.testing.assert_array_equal(a, c)
    assert a.shape == b.shape


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(n=7), ValueError, "n"), (dict(generations=0), ValueError, "generations"),
    (dict(family="GAN"), ValueError, "family"), (dict(anchor=1.5), ValueError, "anchor"),
    (dict(replicates=0), ValueError, "replicates"), (dict(threshold=float("nan")), ValueError, "threshold"),
    (dict(world=cl.Categorical([0.5, 0.5])), TypeError, "world"),
])
def test_bad_arguments(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        cl.explore(**kwargs)


def test_unknown_control(explorer):
    with pytest.raises(ValueError, match="unknown control"):
        explorer.update(speed=3)
