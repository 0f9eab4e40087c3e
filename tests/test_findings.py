"""Tests of collapse_lib.studies.findings: chapter 12 can never drift from the chapters it summarises.

Each function in ``findings`` repeats a chapter's library calls and seeds. Here every value
it returns is formatted the way the chapter's prose formats it (the ``{eval}`` expression
that quotes ``num.<name>``) and compared with the text that chapter stores for that
expression, with the notebook checks' cross-CPU tolerance (``tools/nbeval.py``). A second
test does the same for chapter 12's own stored prose, so a chapter 12 executed before a
chapter changed fails too.
"""

import json
import pathlib
import re

import pytest

import nbeval

from collapse_lib import findings

CHAPTERS = pathlib.Path(__file__).resolve().parent.parent / "chapters"
SUMMARY = "12-honest-summary"

# findings function -> (group prefix used by chapter 12, chapter, {result key: num name in it})
SOURCES = {
    "source_procedure": ("source", "02-a-simulation-you-can-run", {"measured_lo": "meas_plain_lo", "measured_hi": "meas_plain_hi",
                                    "gaussian_tail": "mm_tail", "world_tail": "world_tail"}),
    "rare_mode": ("rare", "03-why-tails-go-first", {"p_mode": "p_mode", "half_life_100": "half_life_100",
                           "half_life_1000": "half_life_1000", "loss_probability": "loss_prob"}),
    "gaussian_collapse": ("gauss", "04-recursive-gaussian-fitting", {"ratio_mle": "collapse_ratio_mle",
                                    "ratio_unbiased": "collapse_ratio_unb"}),
    "words": ("words", "05-tokens-and-words", {"surv_first": "surv0_100000", "surv_last": "surv_end_100000",
                        "ppl_first": "ppl0_100000", "ppl_last": "ppl_end_100000",
                        "surv_anchor10": "a_surv_end_2"}),
    "digits_seen": ("digits", "06-collapse-you-can-see", {"vanished_mean": "vanished_replace_mean",
                               "rel_spread_last": "rel_spread_replace_end"}),
    "workflows_compared": ("workflows", "07-nature-vs-phi", {"rel_replace": "rel_replace", "rel_accumulate": "rel_accumulate",
                                         "lost_replace": "lost_replace"}),
    "filtering": ("filter", "08-filtering-measured", {"generations": "generations", "lost_none": "lost_none",
                             "lost_quality99": "lost_qf99"}),
    "taxonomy_rows": ("taxonomy", "10-risk-taxonomy-measured", {"collapse_tail": "own_tail", "collapse_lost": "own_lost",
                                   "collapse_level": "own_level", "phi_tail": "aug_tail",
                                   "phi_level": "aug_level"}),
    "watch": ("watch", "11-monitoring-collapse", {"alpha": "alpha", "false_alarm": "fa", "false_alarm_se": "fa_se",
                        "batch_halved": "need_half"}),
}
# Keys that are not a chapter's measurement (a constant quoted from the source).
NOT_QUOTED = {("source_procedure", "claimed")}


QUOTE = re.compile(r'^(?:f"\{num\.(\w+)(?::([^}"]*))?\}"|num\.(\w+))$')


def quoted(stem):
    """name -> [(format spec or None, stored text)] for every simple quote of num.<name> in a chapter."""
    nb = json.loads((CHAPTERS / f"{stem}.ipynb").read_text())
    out = {}
    for cell in nb["cells"]:
        for e in cell.get("metadata", {}).get("user_expressions", []):
            m = QUOTE.match(e["expression"])
            if m:
                name = m.group(1) or m.group(3)
                spec = m.group(2) if m.group(1) else None
                out.setdefault(name, []).append((spec, nbeval.shown_text(e["result"])))
    return out


def shown(value, spec):
    """How the prose shows ``value``: format(value, spec), or the repr a bare expression gives."""
    return repr(value) if spec is None and not isinstance(value, str) else format(value, spec or "")


def check(value, quotes, where):
    assert quotes, f"{where} is not quoted in the prose"
    for spec, text in quotes:
        assert nbeval.texts_match(text, shown(value, spec)), (
            f"{where} shows {text!r} but findings gives {shown(value, spec)!r}")


def test_every_function_is_checked():
    assert set(SOURCES) == set(findings.__all__) - {"running_world"}


@pytest.mark.parametrize("name", list(SOURCES))
def test_findings_match_the_chapter(name):
    _, stem, keys = SOURCES[name]
    result = getattr(findings, name)()
    assert result["chapter"] == stem
    assert set(keys) | {k for f, k in NOT_QUOTED if f == name} | {"chapter"} == set(result)
    quotes = quoted(stem)
    for key, num_name in keys.items():
        check(result[key], quotes.get(num_name), f"{stem}: num.{num_name}")


@pytest.mark.parametrize("name", list(SOURCES))
def test_summary_shows_what_the_chapters_show(name):
    group, stem, keys = SOURCES[name]
    result = getattr(findings, name)()
    quotes = quoted(SUMMARY)
    assert any(f"{group}_{key}" in quotes for key in keys), f"{SUMMARY} quotes nothing of {name}"
    for key in keys:
        if f"{group}_{key}" in quotes:
            check(result[key], quotes[f"{group}_{key}"], f"{SUMMARY}: num.{group}_{key}")
