"""Real data as worlds: English word frequencies and handwritten digits, offline.

A world is the real data a recursion starts from and is measured against, with
the loading and the representation it needs: the most frequent English words
and their frequencies from ``wordfreq`` (:mod:`~collapse_lib.worlds.words`),
and scikit-learn's handwritten digits in a fixed PCA space with a classifier
fitted once on them (:mod:`~collapse_lib.worlds.digits`). Both ship inside
their packages, so nothing is downloaded. The 2-D toy worlds of scikit-learn's
generators (blobs, moons, circles, a swiss roll) are distributions with exact
log densities (:mod:`~collapse_lib.worlds.shapes`). Other synthetic worlds are
plain distributions of the engine (``cl.NormalMixture``). Worlds import only the
engine; what a chapter measures on them lives in :mod:`collapse_lib.studies`.
"""

from . import digits, words
from .digits import DigitWorld, digit_mosaic, load_digit_world
from .words import english_words
from .shapes import Blobs, Circles, Moons, SwissRoll

__all__ = ["words", "english_words", "digits", "DigitWorld", "load_digit_world", "digit_mosaic"]
__all__ += ["Blobs", "Circles", "Moons", "SwissRoll"]
