"""Independent tasks spread over the cores this process may run on, in forked worker processes."""
from __future__ import annotations

import multiprocessing
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

_JOB: list = [None]  # (function, state) of the map whose workers are running


def cores() -> int:
    """How many cores this process may run on."""
    return len(os.sched_getaffinity(0))


def workers_for(tasks: int, per_worker: int) -> int:
    """Worker processes worth starting for `tasks` tasks (below 2: do them in this process)."""
    return min(cores(), tasks // per_worker)


def _call(task: Any) -> Any:
    function, state = _JOB[0]
    return function(*state, task)


@contextmanager
def forked_map(function: Callable, state: tuple, tasks: Iterable, workers: int) -> Iterator[Iterator]:
    """`function(*state, task)` for each task, in the tasks' order, computed in `workers` forked
    processes: they inherit `state` as it is (only tasks and results are pickled)."""
    _JOB[0] = (function, state)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool.imap(_call, tasks)
    finally:
        pool.terminate()
        _JOB[0] = None
