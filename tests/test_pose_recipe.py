"""cvlib.recipes.pose: the pose chapter's profiles, people, training step, and its learning-rate sweep."""
import dataclasses

import pytest
import torch

from cvlib.models.localization.pose import PoseRegressor, pose_step
from cvlib.recipes.pose import HEADS, LRS, Recipe, chosen, load_sweep, predict, train_pose
from cvlib.recipes.sweeps import store_sweep


def test_profiles():
    quick, full = Recipe.for_profile("quick"), Recipe.for_profile("full")
    assert quick == Recipe() and full.size > quick.size and full.steps > quick.steps
    assert (quick.n_val, quick.n_test) == (full.n_val, full.n_test) == (500, 500)
    with pytest.raises(ValueError, match="profile must be 'quick' or 'full'"):
        Recipe.for_profile("fast")
    assert set(LRS) == set(HEADS) and all(len(LRS[h]) == 3 for h in HEADS)


def test_people_one_per_image_and_repeatable():
    small = dataclasses.replace(Recipe(), n_val=6)
    images, keypoints, poses = small.people("validation")
    assert images.shape == (6, 3, 64, 64) and keypoints.shape == (6, 14, 3) and len(poses) == 6
    assert small.people("validation")[1].equal(keypoints)
    with pytest.raises(ValueError, match="split must be one of"):
        small.people("val")


def test_pose_step_and_train_pose():
    torch.manual_seed(0)
    images = torch.rand(8, 3, 32, 32)
    keypoints = torch.cat([torch.rand(8, 14, 2) * 32, torch.full((8, 14, 1), 2.0)], -1)
    model = PoseRegressor(Recipe().config("fc")).train()
    loss = pose_step(model, (images[:4], keypoints[:4]), "cpu")
    assert set(loss) == {"loss_keypoint"} and loss["loss_keypoint"].requires_grad
    recipe = dataclasses.replace(Recipe(), size=32, steps=2, batch=4)
    model, history = train_pose(recipe, "soft-argmax", 1e-3, (images, keypoints), progress=False)
    again, _ = train_pose(recipe, "soft-argmax", 1e-3, (images, keypoints), progress=False)
    assert history.steps == 2 and model.cfg.head == "soft-argmax"
    joints = predict(model, images)
    assert joints.shape == (8, 14, 2) and not model.training
    torch.testing.assert_close(predict(again, images), joints)        # seeded


def test_load_sweep_names_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/sweep_pose.py"):
        load_sweep(Recipe(), tmp_path / "missing.json")
    path = tmp_path / "sweep.json"
    store_sweep(path, Recipe(), runs=[{"head": "fc", "lr": 1e-3, "seed": 0, "val_pck": 0.5, "seconds": 1.0}])
    assert load_sweep(Recipe(), path)["runs"][0]["val_pck"] == 0.5
    with pytest.warns(UserWarning, match="quick profile"):
        load_sweep(Recipe.for_profile("full"), path)
    path.write_text("[]")
    with pytest.raises(ValueError, match="scripts/sweep_pose.py"):
        load_sweep(Recipe(), path)


def test_the_committed_sweep_holds_the_quick_recipes_grid():
    runs = load_sweep(Recipe())["runs"]
    assert {(run["head"], run["lr"]) for run in runs} == {(h, lr) for h in HEADS for lr in LRS[h]}
    assert set(chosen({"runs": runs})[0]) == set(HEADS)


def test_chosen_takes_each_heads_best_rate_and_the_better_head():
    runs = [("fc", 3e-4, 0.3), ("fc", 1e-3, 0.5), ("fc", 3e-3, 0.5),                  # tie: the first
            ("soft-argmax", 3e-3, 0.8), ("soft-argmax", 1e-2, 0.9), ("soft-argmax", 3e-2, 0.7)]
    sweep = {"runs": [{"head": h, "lr": lr, "seed": 0, "val_pck": v} for h, lr, v in runs]}
    assert chosen(sweep) == ({"fc": 1e-3, "soft-argmax": 1e-2}, "soft-argmax")
    sweep["runs"][1]["val_pck"] = 0.9                              # the heads tie: the first head
    assert chosen(sweep) == ({"fc": 1e-3, "soft-argmax": 1e-2}, "fc")
    with pytest.raises(ValueError, match="no runs"):
        chosen({"runs": []})
