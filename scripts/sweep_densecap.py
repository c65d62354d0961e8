"""Choose the dense-captioning chapter's learning rate, word-head weight and beam on validation scenes.

    python scripts/sweep_densecap.py                   # quick profile: 4 learning rates + 4 word weights + 2 seeds, ~7 min on 2 cores
    python scripts/sweep_densecap.py --profile full    # the GPU profile's recipe

Trains a DenseCap (cvlib.recipes.densecap.Recipe) for every learning rate on the training scenes
without the auxiliary word head, then at the learning rate of highest validation dense-captioning
mAP one DenseCap per weight of the word head (WORD_WEIGHTS); decodes the validation scenes greedily
and with a beam of 3, and writes every run's validation scores into
chapters/04-captioning/densecap_sweep.json (or --out), replacing the sweep of the same recipe. Last,
the chosen settings from two more seeds ("seed_runs", at the chosen beam): how far a seed moves the
validation scores, which the chapter prints beside its own. The test scenes are never rendered.
The chapter reads it with load_sweep / chosen. Runs go to --workers processes of one thread each.
"""
from __future__ import annotations

import torch

from cvlib import runtime
from cvlib.metrics import detection_map
from cvlib.models.captioning import describe
from cvlib.models.captioning.metrics import caption_accuracy, dense_captioning_map
from cvlib.recipes.densecap import SWEEP, Recipe, chosen, train_densecap
from cvlib.recipes.sweeps import run_sweep, store_sweep, sweep_arguments

LRS = (5e-4, 1e-3, 2e-3, 4e-3)
WORD_WEIGHTS = (1.0, 3.0, 10.0, 30.0)   # the auxiliary word head's loss weight (0: no head, the LRS stage)
BEAMS = (1, 3)


def box_map50(preds: list[dict], targets: list[dict]) -> float:
    """Class-agnostic box mAP@0.5 (every box of class 1)."""
    one = lambda d: {**d, "labels": torch.ones(len(d["boxes"]), dtype=torch.int64)}
    return detection_map([one(p) for p in preds], [one({"boxes": t["boxes"]}) for t in targets])["map_50"]


def scores(model, data) -> dict:
    """Validation scores of a trained DenseCap with its current beam (pose: the accuracy of the
    people's pose word, the attribute the language model finds hardest)."""
    preds, targets = describe(model, data), [t for _, t in data]
    acc = caption_accuracy(preds, targets)
    return {"val_map": round(dense_captioning_map(preds, targets)["map"], 4),
            "val_box_map50": round(box_map50(preds, targets), 4), "val_exact_match": round(acc["exact_match"], 4),
            "val_pose": round(acc["attributes"]["pose"], 4)}


def run(recipe: Recipe, lr: float, word_weight: float, seed: int) -> list[dict]:
    """Train on the training scenes, score every beam on the validation scenes."""
    torch.set_num_threads(1)
    train, val = recipe.scenes("train"), recipe.scenes("validation")
    model, history = train_densecap(recipe, train, recipe.vocabulary(train), lr=lr, seed=seed,
                                    word_weight=word_weight, device=runtime.device(), progress=False)
    runs = []
    for beam in BEAMS:
        model.roi_heads.caption_branch.cfg.beam = beam
        runs.append({"lr": lr, "word_weight": word_weight, "beam": beam, "seed": seed, **scores(model, val),
                     "seconds": round(history.seconds, 1)})
    return runs


def main(argv=None) -> int:
    args = sweep_arguments(__doc__, SWEEP, argv=argv)
    recipe = Recipe.for_profile(args.profile)
    runs = run_sweep(run, [(recipe, lr, 0.0, args.seed) for lr in LRS], recipe, args, store=False)
    lr = chosen({"runs": runs})["lr"]
    runs += run_sweep(run, [(recipe, lr, w, args.seed) for w in WORD_WEIGHTS], recipe, args, store=False)
    best = chosen({"runs": runs})
    seeds = run_sweep(run, [(recipe, best["lr"], best["word_weight"], args.seed + k) for k in (1, 2)], recipe,
                      args, store=False)
    store_sweep(args.out, recipe, runs=runs, seed_runs=[r for r in seeds if r["beam"] == best["beam"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
