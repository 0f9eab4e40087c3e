"""pytest plugin (loaded by `make test` as `-p nbval_store_history`): run nbval's cells the
way Jupyter does, with history stored.

nbval 0.11 executes every cell with ``store_history=False``. IPython decides whether a
trailing ``;`` silences a cell's result by looking at the last *stored* input, so under
nbval ``ax.plot(x);`` returns ``[<Line2D>]`` although the notebook (run by Jupyter, by
``make execute`` and by the book build) shows nothing: strict nbval then fails on an
output nobody sees. Storing history restores Jupyter's behaviour; nbval does not compare
execution counts, so nothing else changes.
"""

from nbval.kernel import RunningKernel


def _execute_cell_input(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_cell_input
