"""Independent trainings side by side: one process per training on a CPU, one after the other on a GPU.

    results = side_by_side(worker, {"yolo": args, "ssd": args}, device)   # {name: worker(*args, threads)}
    models, histories = train_models(train_fn, {name: args}, build, device)   # trainings: models back

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
from torch import nn

from ..progress import progress_bar


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
        for future in progress_bar(as_completed(futures), total=len(futures), desc=f"{desc}, {jobs} at a time"):
            results[futures[future]] = future.result()
    return {name: results[name] for name in tasks}


def train_models(train_fn: Callable, tasks: dict[str, tuple], build: Callable[[str], nn.Module],
                 device: torch.device | str = "cpu", jobs: int | None = None, desc: str = "trainings"
                 ) -> tuple[dict[str, nn.Module], dict]:
    """train_fn(*args, progress=...) -> (model, history) for every (name, args) of `tasks`, side by side;
    returns ({name: model in eval mode on `device`}, {name: history}), in the order of `tasks`.

    train_fn must be a module-level function; each worker sends back its model's state_dict (on the
    CPU) and history, loaded here into build(name), a fresh model of the same configuration."""
    done = side_by_side(_trained_state, {name: (train_fn, args) for name, args in tasks.items()}, device,
                        jobs, desc)
    models, histories = {}, {}
    for name, (state, history) in done.items():
        models[name] = build(name).to(device)
        models[name].load_state_dict(state)
        models[name].eval()
        histories[name] = history
    return models, histories


def _trained_state(train_fn: Callable, args: tuple, threads: int | None):
    """train_fn(*args) with `threads` torch threads (None: torch's default, with a progress bar), as a
    side_by_side worker: (state_dict on the CPU, history), which pickle back from a worker process."""
    if threads is not None:
        torch.set_num_threads(threads)
    model, history = train_fn(*args, progress=threads is None)
    return {k: v.cpu() for k, v in model.state_dict().items()}, history
