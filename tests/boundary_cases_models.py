"""Valid calls for the boundary walk in tests/test_boundary.py: the models part of the library.

Same format as CASES there: qualified public name -> (function returning valid keyword
arguments, {parameter: kind}). NOT_CALLABLE lists public names that are not called
(constants, base classes, records).
"""

import numpy as np  # noqa: F401

import collapse_lib  # noqa: F401

CASES = {}

NOT_CALLABLE = set()
