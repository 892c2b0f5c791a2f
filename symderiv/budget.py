"""A CPU-time budget for solving one problem: SymPy's limit and simplify can run for hours.

The budget counts the process's CPU time (``ITIMER_PROF``), not wall-clock time, so a verdict
never depends on how busy the machine is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from .errors import SolveTimeout


class _Expired(BaseException):
    """Raised inside SymPy by the alarm; BaseException so that SymPy's ``except Exception`` can't eat it."""


@contextlib.contextmanager
def time_budget(problem_id: str, seconds: float | None):
    """Run the body under a time limit; raise :class:`SolveTimeout` when it is exceeded.

    Uses SIGPROF, so it applies only in the main thread on POSIX; elsewhere it runs unbounded.
    """
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise _Expired()

    # budgets nest (a 3 s simplification inside a 6 s answer): the inner one never outlives
    # the outer one, and the outer timer is re-armed with what is left of it afterwards
    outer_left, _ = signal.getitimer(signal.ITIMER_PROF)
    start = time.process_time()
    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, min(seconds, outer_left) if outer_left else seconds)
    try:
        yield
    except _Expired:
        raise SolveTimeout(problem_id, seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        if outer_left:
            left = outer_left - (time.process_time() - start)
            signal.setitimer(signal.ITIMER_PROF, max(left, 1e-3))
