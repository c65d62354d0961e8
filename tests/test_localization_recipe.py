"""cvlib.recipes.localization: the localization chapter's profiles, scenes, training step, and its
box-loss weight sweep."""
import dataclasses

import pytest
import torch

from cvlib.models.localization.localizer import Localizer, LocalizerConfig, localizer_step
from cvlib.recipes.localization import (WEIGHTS, Recipe, chosen, evaluate, load_sweep, loss_curve,
                                        train_localizer)
from cvlib.recipes.sweeps import store_sweep
from cvlib.train import History


def test_profiles():
    quick, full = Recipe.for_profile("quick"), Recipe.for_profile("full")
    assert quick == Recipe() and full.size > quick.size and full.steps > quick.steps
    assert (quick.n_val, quick.n_test) == (full.n_val, full.n_test) == (500, 500)
    with pytest.raises(ValueError, match="profile must be 'quick' or 'full'"):
        Recipe.for_profile("fast")


def test_scenes_one_object_each_and_repeatable():
    small = dataclasses.replace(Recipe(), n_val=6)
    images, labels, boxes = small.scenes("validation")
    assert images.shape == (6, 3, 64, 64) and labels.shape == (6,) and boxes.shape == (6, 4)
    assert small.scenes("validation")[2].equal(boxes)
    with pytest.raises(ValueError, match="split must be one of"):
        small.scenes("val")


def test_step_train_and_evaluate():
    torch.manual_seed(0)
    images = torch.rand(8, 3, 32, 32)
    labels = torch.randint(1, 6, (8,))
    xy = torch.rand(8, 2) * 16
    boxes = torch.cat([xy, xy + 8 + torch.rand(8, 2) * 8], -1)
    model = Localizer(LocalizerConfig(widths=(4, 8))).train()
    loss = localizer_step(model, (images[:4], labels[:4], boxes[:4]), "cpu")
    assert set(loss) == {"loss_classifier", "loss_box_reg"} and loss["loss_box_reg"].requires_grad
    recipe = dataclasses.replace(Recipe(), size=32, steps=2, batch=4, widths=(4, 8))
    model, history = train_localizer(recipe, 10, (images, labels, boxes), progress=False)
    again, _ = train_localizer(recipe, 10, (images, labels, boxes), progress=False)
    assert history.steps == 2 and model.cfg.box_weight == 10 and model.num_boxes == 6
    scores = evaluate(model, (images, labels, boxes))
    assert set(scores) == {"accuracy", "mean_iou", "iou_50", "correct", "total_loss", "class_loss", "l2"}
    assert scores["total_loss"] == pytest.approx(scores["class_loss"] + 10 * scores["l2"], rel=1e-5)
    assert evaluate(again, (images, labels, boxes)) == scores                       # seeded
    agnostic, _ = train_localizer(recipe, 1, (images, labels, boxes), class_specific=False, progress=False)
    assert agnostic.num_boxes == 1


def test_loss_curve_is_the_20_step_mean_every_10th_point():
    history = History(losses={"total": [float(i) for i in range(100)]})
    curve = loss_curve(history)
    assert len(curve) == 9 and curve[0] == 9.5 and curve[1] == 19.5            # steps 1..20, 11..30
    assert loss_curve(History(losses={"total": [1 / 3] * 20}))[0] == 0.33333   # 5 significant digits


def test_load_sweep_names_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/sweep_localization.py"):
        load_sweep(Recipe(), tmp_path / "missing.json")
    path = tmp_path / "sweep.json"
    store_sweep(path, Recipe(), runs=[{"weight": 1, "seed": 0, "accuracy": 0.9, "mean_iou": 0.7}])
    assert load_sweep(Recipe(), path)["runs"][0]["accuracy"] == 0.9
    with pytest.warns(UserWarning, match="quick profile"):
        load_sweep(Recipe.for_profile("full"), path)
    path.write_text("[]")
    with pytest.raises(ValueError, match="scripts/sweep_localization.py"):
        load_sweep(Recipe(), path)


def test_chosen_takes_the_highest_accuracy_plus_mean_iou():
    runs = [(1, 0.875, 0.5), (10, 0.875, 0.75), (30, 0.75, 0.875), (100, 0.5, 0.875)]   # exact in binary
    sweep = {"runs": [{"weight": w, "seed": 0, "accuracy": a, "mean_iou": m} for w, a, m in runs]}
    assert chosen(sweep) == 10                                          # 30 ties with it: the first
    sweep["runs"][3]["accuracy"] = 1.0                                  # 100 is the best now
    assert chosen(sweep) == 100
    with pytest.raises(ValueError, match="no runs"):
        chosen({"runs": []})


def test_the_committed_sweep_holds_every_weight():
    runs = load_sweep(Recipe())["runs"]
    assert [run["weight"] for run in runs] == list(WEIGHTS)
    assert chosen({"runs": runs}) in WEIGHTS
    steps = Recipe().steps
    assert all(len(run["train_loss"]) == len(range(0, steps - 19, 10)) for run in runs)
