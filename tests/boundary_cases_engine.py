"""Valid calls for the boundary walk in tests/test_boundary.py: the engine part of the library.

Same format as CASES there: qualified public name -> (function returning valid keyword
arguments, {parameter: kind}). NOT_CALLABLE lists public names that are not called
(constants, base classes, records).

Covers the engine modules (distributions, families, simulate, theory, filters, comparison,
course, notebook, plotting, _validate) and models/{empirical, labelled, ngram, regression},
worlds/{digits, shapes, text, words}. Names of those modules already walked in
test_boundary.CASES are not repeated here.

Two conventions used below:

- A parameter that takes a bool is walked with the kind "choice": every value that kind
  draws ("bogus", 3, None) is wrong for a bool, and the library refuses it with
  ``check_bool``, naming the parameter.
- The checks of ``collapse_lib._validate`` name the parameter they are *given* (their
  ``name`` argument), so their valid calls pass ``name`` equal to the walked parameter's
  own name ("value", "values", ...): the walk then asserts that the message names it.
"""

import functools

import numpy as np

import collapse_lib
import collapse_lib.worlds.text
from collapse_lib import _validate

RNG = np.random.default_rng


def _axes():
    """A matplotlib Axes outside pyplot's registry (so that the walk leaves no figure open)."""
    from matplotlib.figure import Figure

    return Figure().add_subplot()


@functools.lru_cache(maxsize=1)
def _animation():
    """A two-frame animation on a figure outside pyplot's registry.

    Made once and kept: an animation deleted before it is rendered (every call the walk
    refuses) makes matplotlib warn.
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.0, 1.0), dpi=20)
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])
    return FuncAnimation(fig, lambda i: (line.set_ydata([0, i]),), frames=2)


def _paragraphs():
    """Ten paragraphs of two sentences each: enough for a training and a held-out part."""
    sentence = ["the", "model", "sees", "the", "data"]
    return [[sentence, sentence[::-1]] for _ in range(10)]


def _corpus():
    return collapse_lib.worlds.text.TextCorpus(_paragraphs(), min_count=1, held_out_every=5)


def _summary():
    g = np.arange(3.0)
    return {"generation": g, "mean": g, "median": g, "lo": g - 1, "hi": g + 1, "se": g * 0}


# A cheap registered exercise (its reference is a closed form, computed once and cached).
_LABEL = "ps-no-tail"

CASES = {
    # filters ---------------------------------------------------------------------------
    # NoFilter takes no argument: nothing to check (the walk only confirms the valid call).
    "collapse_lib.filters.NoFilter": (lambda: dict(), {}),
    "collapse_lib.filters.QualityFilter": (lambda: dict(keep=0.9), {"keep": "frac"}),
    "collapse_lib.filters.OracleVerifier": (lambda: dict(accuracy=0.5, pool=4),
                                            {"accuracy": "frac", "pool": "size:2"}),
    "collapse_lib.filters.Verifier": (lambda: dict(accuracy=0.5, pool=4),
                                      {"accuracy": "frac", "pool": "size:2"}),
    "collapse_lib.filters.DensityVerifier": (lambda: dict(m=50, family=collapse_lib.NormalFit(), pool=4,
                                                          holdout=100),
                                             {"m": "size:2", "family": "model", "pool": "size:2",
                                              "holdout": "size:0"}),
    "collapse_lib.filters.ClassifierVerifier": (lambda: dict(m=50, pool=4, bumps=8, ridge=1.0, holdout=100),
                                                {"m": "size:2", "pool": "size:2", "bumps": "size:0",
                                                 "ridge": "pos", "holdout": "size:0"}),
    # positive and negative are scores that may be -inf or +inf (a verifier's log ratio where
    # one density is 0), so the walk's "array" kind, which draws inf as a wrong value, does
    # not fit them: their checks (strings, bools, NaN, shapes) are tested in test_filters.py.
    "collapse_lib.filters.auc": (lambda: dict(positive=[[0.1, 0.9]], negative=[[0.2, 0.3]]), {}),
    "collapse_lib.filters.central_normal_variance": (lambda: dict(keep=0.5), {"keep": "frac"}),
    # comparison ------------------------------------------------------------------------
    # se and n are walked with the kinds that fit part of their range (se >= 0, n >= 1).
    "collapse_lib.comparison.Estimate": (lambda: dict(mean=1.0, se=0.1, n=10),
                                         {"mean": "real", "se": "real", "n": "int:1"}),
    "collapse_lib.comparison.compare": (lambda: dict(a=[1.0, 2.0, 3.0], b=[2.0, 3.0, 4.0], paired=False,
                                                     threshold=3.0),
                                        {"a": "array", "b": "array", "paired": "choice", "threshold": "pos"}),
    # course ----------------------------------------------------------------------------
    # register returns the decorator; nothing is registered until it is applied, so the
    # label stays free. where and question are free text; a blank or already registered label
    # is refused (tested in test_course.py).
    "collapse_lib.course.register": (lambda: dict(label="boundary-walk-unused", where="nowhere",
                                                  question="nothing", sig=3, slack=0.5),
                                     {"sig": "int:1:8", "slack": "real"}),
    # prefix is free text (any string selects labels starting with it): nothing to range-check.
    "collapse_lib.course.labels": (lambda: dict(prefix="ps-"), {}),
    "collapse_lib.course.entry": (lambda: dict(label=_LABEL), {"label": "choice"}),
    "collapse_lib.course.reference": (lambda: dict(label=_LABEL), {"label": "choice"}),
    "collapse_lib.course.tolerance": (lambda: dict(label=_LABEL), {"label": "choice"}),
    "collapse_lib.course.check": (lambda: dict(label=_LABEL, answer=0.5, reveal=False, quiet=True),
                                  {"label": "choice", "answer": "real", "reveal": "choice", "quiet": "choice"}),
    # answers is a dict of label -> number: walked with the kind "model", whose values (3, a
    # string, a bare object) are each not such a dict (its labels and numbers: test_course.py).
    "collapse_lib.course.submit": (lambda: dict(assignment="A1", answers={"a1-model0-tail": 0.01}),
                                   {"assignment": "choice", "answers": "model"}),
    "collapse_lib.course.mean_se": (lambda: dict(x=[1.0, 2.0, 4.0]), {"x": "array"}),
    "collapse_lib.course.median_se": (lambda: dict(x=[1.0, 2.0, 4.0]), {"x": "array"}),
    "collapse_lib.course.share_se": (lambda: dict(flags=[True, False, True]), {"flags": "choice"}),
    # notebook --------------------------------------------------------------------------
    # Numbers stores any quotable scalar under any identifier, strings and bools included:
    # no value is out of range (arrays are refused; tested in test_notebook_tools.py).
    "collapse_lib.notebook.Numbers": (lambda: dict(tail=0.03, label="text"), {}),
    # plotting --------------------------------------------------------------------------
    # use_house_style takes no argument.
    "collapse_lib.plotting.use_house_style": (lambda: dict(), {}),
    "collapse_lib.plotting.figure": (lambda: dict(ncols=1, nrows=1, width=2.0, height=1.5),
                                     {"ncols": "int:1", "nrows": "int:1", "width": "pos", "height": "pos"}),
    # band passes NaN and inf on to matplotlib (a NaN leaves a gap), so the walk's [nan] and
    # [inf] are refused here only because their length (1) differs from x's (2); strings,
    # bools, objects and 3-D arrays are refused as such.
    "collapse_lib.plotting.band": (lambda: dict(ax=_axes(), x=[0.0, 1.0], lo=[0.0, 0.5], hi=[1.0, 2.0],
                                                mid=[0.5, 1.0], alpha=0.2),
                                   {"ax": "model", "x": "array", "lo": "array", "hi": "array", "mid": "array",
                                    "alpha": "frac"}),
    # summary (a dict from Run.summary) is walked with the kind "model": 3, a string or a bare
    # object are each not such a dict.
    "collapse_lib.plotting.summary_band": (lambda: dict(ax=_axes(), summary=_summary(), center="median"),
                                           {"ax": "model", "summary": "model", "center": "choice"}),
    "collapse_lib.plotting.finish": (lambda: dict(fig=_axes().figure), {"fig": "model"}),
    "collapse_lib.plotting.player": (lambda: dict(animation=_animation(), alt="a line", name="walk",
                                                  label="frame", default_mode="once"),
                                     {"animation": "model", "default_mode": "choice"}),
    # Player only wraps the markup player() made (a string): nothing numeric to check.
    "collapse_lib.plotting.Player": (lambda: dict(html="<div></div>"), {}),
    # _validate -------------------------------------------------------------------------
    # element_budget takes no argument.
    "collapse_lib._validate.element_budget": (lambda: dict(), {}),
    # sets the budget to its current value, so the walk changes nothing
    "collapse_lib._validate.set_element_budget": (lambda: dict(elements=_validate.element_budget()),
                                                  {"elements": "int:1"}),
    "collapse_lib._validate.check_budget": (lambda: dict(name="elements", elements=10), {"elements": "size:0"}),
    "collapse_lib._validate.check_bool": (lambda: dict(name="value", value=True), {"value": "choice"}),
    "collapse_lib._validate.check_choice": (lambda: dict(name="value", value="a", choices=("a", "b")),
                                            {"value": "choice"}),
    "collapse_lib._validate.check_int": (lambda: dict(name="value", value=3, minimum=0, maximum=5),
                                         {"value": "int:0:5", "minimum": "ints", "maximum": "ints"}),
    "collapse_lib._validate.check_fraction": (lambda: dict(name="value", value=0.5), {"value": "frac"}),
    "collapse_lib._validate.check_real": (lambda: dict(name="value", value=1.5), {"value": "real"}),
    "collapse_lib._validate.check_positive": (lambda: dict(name="value", value=1.5), {"value": "pos"}),
    "collapse_lib._validate.check_finite_array": (lambda: dict(name="values", values=[1.0, 2.0], min_size=1,
                                                               ndim=(1,)),
                                                  {"values": "array", "min_size": "int:0"}),
    "collapse_lib._validate.check_probabilities": (lambda: dict(name="values", values=[0.5, 0.5], atol=1e-8),
                                                   {"values": "probs", "atol": "pos"}),
    "collapse_lib._validate.check_rng": (lambda: dict(rng=RNG(0)), {"rng": "rng"}),
    "collapse_lib._validate.check_int_array": (lambda: dict(name="values", values=[1, 2], minimum=0, maximum=5),
                                               {"values": "ints", "minimum": "ints", "maximum": "ints"}),
    # fractions may have any shape, so the kind is "frac" (scalars out of [0, 1], NaN, text, bools)
    "collapse_lib._validate.check_fraction_array": (lambda: dict(name="values", values=[0.5, 1.0]),
                                                    {"values": "frac"}),
    "collapse_lib._validate.check_bool_array": (lambda: dict(name="values", values=[True, False], ndim=(1,)),
                                                {"values": "choice"}),
    # the arrays are positional (*arrays); the walk passes keywords only, so it checks axis
    "collapse_lib._validate.check_same_length": (lambda: dict(names="a and b", axis=0), {"axis": "ints"}),
    # models ----------------------------------------------------------------------------
    # EmpiricalFit and NGramModel take no argument (a model is made by its family's fit).
    "collapse_lib.models.empirical.EmpiricalFit": (lambda: dict(), {}),
    "collapse_lib.models.ngram.NGramModel": (lambda: dict(), {}),
    "collapse_lib.models.ngram.Decoding": (lambda: dict(temperature=0.8, top_k=5, top_p=0.9),
                                           {"temperature": "real", "top_k": "int:1", "top_p": "frac"}),
    "collapse_lib.models.ngram.NGramFit": (lambda: dict(order=2, smoothing="witten-bell", floor=1e-3,
                                                        vocab_size=100),
                                           {"order": "int:1:3", "smoothing": "choice", "floor": "frac",
                                            "vocab_size": "int:2:65536"}),
    "collapse_lib.models.regression.LinearModel": (lambda: dict(coef=[1.0, 2.0], noise=1.0,
                                                                cov=[[1.0, 0.0], [0.0, 1.0]]),
                                                   {"coef": "array", "noise": "real", "cov": "array"}),
    "collapse_lib.models.regression.LinearRegressionWorld": (lambda: dict(coef=[1.0, 2.0], noise=1.0,
                                                                          cov=[[1.0, 0.0], [0.0, 1.0]]),
                                                             {"coef": "array", "noise": "real", "cov": "array"}),
    "collapse_lib.models.regression.OLSFit": (lambda: dict(noise=1.0), {"noise": "real"}),
    # worlds ----------------------------------------------------------------------------
    "collapse_lib.worlds.digits.load_digit_world": (lambda: dict(n_components=20), {"n_components": "int:1:64"}),
    "collapse_lib.worlds.digits.digit_mosaic": (lambda: dict(images=np.zeros((3, 64)), ncols=2, pad=1),
                                                {"images": "array", "ncols": "size:1", "pad": "size:0"}),
    "collapse_lib.worlds.shapes.Blobs": (lambda: dict(centers=[[0.0, 0.0], [3.0, 3.0]], std=1.0),
                                         {"centers": "array", "std": "pos"}),
    # text is free text: any string is valid (a non-string is refused; tested in test_language.py).
    "collapse_lib.worlds.text.tokenize": (lambda: dict(text="One sentence. Another one."), {}),
    # words are free text (non-empty, distinct strings; tested in test_language.py).
    "collapse_lib.worlds.text.Vocabulary": (lambda: dict(words=["a", "b"]), {}),
    "collapse_lib.worlds.text.TextCorpus": (lambda: dict(paragraphs=_paragraphs(), min_count=1, held_out_every=5),
                                            {"min_count": "int:1", "held_out_every": "int:2"}),
    "collapse_lib.worlds.text.TextWorld": (lambda: dict(corpus=_corpus(), replicates=3),
                                           {"corpus": "model", "replicates": "size:1"}),
    "collapse_lib.worlds.text.python_docs": (lambda: dict(min_count=2, held_out_every=5),
                                             {"min_count": "int:1", "held_out_every": "int:2"}),
}

NOT_CALLABLE = {
    # records (dataclasses or plain holders filled by the library, not entry points)
    "collapse_lib.simulate.Run",             # the result of simulate()
    "collapse_lib.comparison.Comparison",    # the result of compare()
    "collapse_lib.course.Entry",             # a registry record made by register()
    "collapse_lib.course.Result",            # the result of check()
    "collapse_lib.worlds.digits.DigitWorld",  # built by load_digit_world()
    # base classes
    "collapse_lib.filters.Filter",
    # constants
    "collapse_lib.comparison.THRESHOLD",
    "collapse_lib.course.SIGMAS",
    "collapse_lib.plotting.PALETTE",
    "collapse_lib.plotting.COLORS",
    "collapse_lib.models.ngram.END",
    "collapse_lib.worlds.text.END",
    "collapse_lib.worlds.text.UNK",
    "collapse_lib.worlds.text.LICENCE",
}
