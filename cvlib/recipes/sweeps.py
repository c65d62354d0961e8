"""The sweep store both recipes share: a JSON list of sweeps, one per recipe (a dataclass).

    sweep = find_sweep(path, recipe, quick=Recipe(), command="python scripts/sweep_x.py")
    store_sweep(path, recipe, runs=[...])          # the scripts: replace the sweep of `recipe`

Each sweep is a dict with "recipe" (the recipe as a dict) and the sweep's results.
"""
from __future__ import annotations

import json
import warnings
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
