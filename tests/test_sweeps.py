"""The sweep scripts' shared pieces: their options, and runs in processes stored as one sweep."""
import json
from dataclasses import dataclass

from cvlib.recipes.sweeps import find_sweep, run_sweep, sweep_arguments


@dataclass(frozen=True)
class Recipe:
    steps: int = 10


def score(recipe: Recipe, lr: float, seed: int):
    """A stand-in for a training: one run, or (for lr 0) a list of two, as a beam sweep returns."""
    run = {"lr": lr, "seed": seed, "val": recipe.steps * lr}
    return [run, {**run, "beam": 3}] if lr == 0 else run


def test_options_have_the_sweep_defaults(tmp_path):
    args = sweep_arguments("Choose something.\n\nMore text.", tmp_path / "s.json", workers=3, argv=[])
    assert (args.profile, args.seed, args.workers, args.out) == ("quick", 0, 3, tmp_path / "s.json")
    args = sweep_arguments("x", tmp_path / "s.json", argv=["--profile", "full", "--seed", "2", "--workers", "1"])
    assert (args.profile, args.seed, args.workers) == ("full", 2, 1)


def test_runs_in_processes_are_printed_stored_in_order_and_flattened(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    args = sweep_arguments("x", out, argv=["--workers", "2"])
    runs = run_sweep(score, [(Recipe(), lr, 0) for lr in (0.5, 0.0, 2.0)], Recipe(), args)
    assert [r["lr"] for r in runs] == [0.5, 0.0, 0.0, 2.0] and runs[2]["beam"] == 3
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert printed == runs
    assert find_sweep(out, Recipe(), quick=Recipe(), command="x")["runs"] == runs
