"""Independent trainings side by side: one process per training on a CPU, one after the other on a GPU.

    results = side_by_side(worker, {"yolo": args, "ssd": args}, device)   # {name: worker(*args, threads)}

One training of a small model uses several CPU cores poorly, so two trainings in two processes of
one torch thread each finish sooner than one after the other with every core. `worker` must be a
module-level function (it is pickled into the worker processes) that sets nothing global but its
thread count and returns something that pickles (a state_dict and a History, not a model on a GPU).
A training's numbers depend on its thread count, so each worker gets the same count whether it runs
here or in a process: `threads` (None on a GPU: torch's default).
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable

import torch
from tqdm.auto import tqdm


def side_by_side(worker: Callable, tasks: dict[str, tuple], device: torch.device | str = "cpu",
                 jobs: int | None = None, desc: str = "trainings") -> dict:
    """{name: worker(*args, threads)} for every (name, args) of `tasks`, in the order of `tasks`.

    On a CPU, `jobs` processes (default one per core, at most one per task) with cores // jobs threads
    each; on a GPU, or with jobs=1, one task after the other in this process."""
    if not tasks:
        raise ValueError("tasks is empty: give at least one {name: args}")
    if torch.device(device).type != "cpu":
        return {name: worker(*args, None) for name, args in tasks.items()}
    jobs = jobs or min(len(tasks), os.cpu_count() or 1)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    if jobs == 1:
        return {name: worker(*args, threads) for name, args in tasks.items()}
    results = {}
    # spawn: fresh processes, safe after torch has started its threads
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(worker, *args, threads): name for name, args in tasks.items()}
        for future in tqdm(as_completed(futures), total=len(futures), desc=f"{desc}, {jobs} at a time"):
            results[futures[future]] = future.result()
    return {name: results[name] for name in tasks}
