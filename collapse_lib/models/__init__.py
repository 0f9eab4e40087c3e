"""Model families beyond the Normal and categorical ones.

Each module here holds one family (something with ``fit(data) -> distribution``)
and, where it needs one, the distribution it fits: a Gaussian mixture fitted by
EM (:mod:`~collapse_lib.models.mixture`), a kernel density estimate
(:mod:`~collapse_lib.models.kde`), resampling the data
(:mod:`~collapse_lib.models.empirical`), a two-component mixture fitted with
known labels (:mod:`~collapse_lib.models.labelled`), an adapter for any
model that follows scikit-learn's ``fit``/``sample`` convention
(:mod:`~collapse_lib.models.sklearn_family`) and multivariate normals
(:mod:`~collapse_lib.models.multivariate`). The Gaussian mixture fits
``d``-dimensional data too, among them the codes of chapter 6's handwritten
digits. The Normal and categorical
families the recursion is built on stay in the engine
(:mod:`collapse_lib.families`). Models import only the engine, never a real
data set or a chapter's study. The families are re-exported here, and the
one-dimensional ones are also ``cl.<name>``.
"""

from .empirical import Empirical, EmpiricalFit
from .kde import KDEFit, bandwidth
from .labelled import LabelledMixtureFit
from .mixture import GaussianMixtureFit
from .multivariate import MultivariateNormal, MultivariateNormalFit, MultivariateNormalMixture
from .sklearn_family import SklearnFamily, SklearnModel

__all__ = [
    "GaussianMixtureFit",
    "MultivariateNormal", "MultivariateNormalFit", "MultivariateNormalMixture",
    "KDEFit", "bandwidth",
    "Empirical", "EmpiricalFit",
    "LabelledMixtureFit",
    "SklearnFamily", "SklearnModel",
]

# Part IV: the regression world and least-squares families (chapter 14).
from .regression import LinearModel, LinearRegressionWorld, OLSFit, RidgeFit  # noqa: E402

__all__ += ["LinearModel", "LinearRegressionWorld", "OLSFit", "RidgeFit"]

# Chapter 13: an n-gram language model of token streams, and decoding settings as a filter.
from .ngram import Decoding, NGramFit, NGramModel  # noqa: E402

__all__ += ["Decoding", "NGramFit", "NGramModel"]
