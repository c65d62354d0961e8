"""The sweep store every recipe shares: a JSON list of sweeps, one per recipe (a dataclass).

    sweep = find_sweep(path, recipe, quick=Recipe(), command="python scripts/sweep_x.py")
    store_sweep(path, recipe, runs=[...])          # the scripts: replace the sweep of `recipe`

Each sweep is a dict with "recipe" (the recipe as a dict) and the sweep's results. A sweep script
takes its options from `sweep_arguments` and trains its runs with `run_sweep`.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path


def as_json(recipe) -> dict:
    """The recipe as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(asdict(recipe)))


def find_sweep(path: str | Path, recipe, quick, command: str) -> dict:
    """The sweep of `recipe` in `path`. Without one, warns and returns the sweep of `quick` (the quick
    profile's: a fair start on another profile, but not chosen for it). Raises FileNotFoundError
    (no file) or ValueError (not even the quick profile's sweep), naming `command`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no sweep at {path}: run `{command}`")
    sweeps = json.loads(path.read_text())

    def sweep_of(r) -> dict | None:
        return next((s for s in sweeps if s["recipe"] == as_json(r)), None)

    sweep = sweep_of(recipe)
    if sweep is None and recipe != quick:
        warnings.warn(f"{path} has no sweep for {recipe}; using the quick profile's choice "
                      f"(run `{command} --profile full` to choose for this one)")
        sweep = sweep_of(quick)
    if sweep is None:
        raise ValueError(f"{path} holds no sweep for the quick profile: run `{command}`")
    return sweep


def store_sweep(path: str | Path, recipe, **results) -> None:
    """Write {"recipe": recipe, **results} into the store at `path`, replacing the sweep of the same recipe
    and keeping the others."""
    path = Path(path)
    sweeps = json.loads(path.read_text()) if path.is_file() else []
    sweeps = [s for s in sweeps if s["recipe"] != as_json(recipe)]
    sweeps.append({"recipe": asdict(recipe), **results})
    path.write_text(json.dumps(sweeps, indent=1) + "\n")


def sweep_arguments(doc: str, out: Path, workers: int = 2, argv=None) -> argparse.Namespace:
    """The options of a sweep script (the first line of its docstring `doc` is the help text):
    --profile quick|full, --seed (of every training), --workers (processes), --out (the store)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--profile", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument("--out", type=Path, default=out)
    return parser.parse_args(argv)


def run_sweep(run, tasks: list[tuple], recipe, args: argparse.Namespace, store: bool = True) -> list[dict]:
    """run(*task) of every task in args.workers fresh processes (spawned: safe after torch has started
    its threads; each may open the GPU); prints every run, stores them all as the sweep of `recipe`
    in args.out (store=False: the caller stores what it makes of them) and returns them. A run
    returns one dict, or a list of them."""
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run, *zip(*tasks)))
    runs = [r for result in results for r in (result if isinstance(result, list) else [result])]
    for r in runs:
        print(json.dumps(r), flush=True)
    if store:
        store_sweep(args.out, recipe, runs=runs)
    print(f"{len(runs)} runs in {time.perf_counter() - start:.0f} s" + (f"; written to {args.out}" if store else ""))
    return runs
