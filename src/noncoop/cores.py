"""Independent tasks spread over the cores this process may run on, in forked worker processes."""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

AHEAD = 2  # tasks per worker handed out before their results are taken
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
def forked_map(function: Callable, state: tuple, tasks: Iterable, workers: int, ahead: int = AHEAD) -> Iterator[Iterator]:
    """`function(*state, task)` for each task, in the tasks' order, computed in `workers` forked
    processes: they inherit `state` as it is (only tasks and results are pickled). The workers
    start at once; at most `ahead` tasks per worker are under way or waiting to be taken, so
    results that the caller has not consumed yet do not pile up in memory."""
    _JOB[0] = (function, state)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield _in_order(pool, iter(tasks), workers * ahead)
    finally:
        pool.terminate()
        _JOB[0] = None


def _in_order(pool, tasks: Iterator, window: int) -> Iterator:
    pending = deque(pool.apply_async(_call, (task,)) for task in islice(tasks, window))  # (submitted now)
    return _taken(pool, tasks, pending)


def _taken(pool, tasks: Iterator, pending: deque) -> Iterator:
    for task in tasks:
        pending.append(pool.apply_async(_call, (task,)))
        yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()
