"""cvlib.recipes.keypoint_rcnn: the keypoint chapter's scenes, the regressor's crops, the side-by-side
training."""
import dataclasses

import pytest
import torch

from cvlib.data import CLASSES
from cvlib.models.instance import KeypointRCNN
from cvlib.models.localization.pose import PoseRegressor
from cvlib.recipes.keypoint_rcnn import (Recipe, person_crops, square_boxes, to_crop, train_side_by_side,
                                         training_crops, uncrop)

PERSON = CLASSES.index("person")


def test_profiles_and_scenes():
    quick, full = Recipe.for_profile("quick"), Recipe.for_profile("full")
    assert quick == Recipe() and full.steps > quick.steps and full.n_train > quick.n_train
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("fast")
    small = dataclasses.replace(Recipe(), n_val=12)
    scenes = small.scenes("validation")
    assert len(scenes) == 12
    people = [int((t["labels"] == PERSON).sum()) for _, t in scenes]
    assert max(people) >= 2 and sum(people) > len(scenes)           # several people per scene
    assert all(len(t["labels"]) >= 3 for _, t in scenes)
    assert scenes[0][1]["boxes"].equal(small.scenes("validation")[0][1]["boxes"])   # repeatable


def test_crops_are_squares_and_uncrop_inverts_to_crop():
    boxes = torch.tensor([[10.0, 20.0, 30.0, 70.0], [50.0, 5.0, 90.0, 25.0]])
    squares = square_boxes(boxes, 1.3)
    sides = squares[:, 2:] - squares[:, :2]
    assert torch.allclose(sides[:, 0], sides[:, 1]) and torch.allclose(sides[:, 0], torch.tensor([65.0, 52.0]))
    assert torch.allclose((squares[:, :2] + squares[:, 2:]) / 2, (boxes[:, :2] + boxes[:, 2:]) / 2)
    kp = torch.rand(2, 14, 3) * 80
    kp[..., 2] = 2
    crop_kp = to_crop(kp, squares, 64)
    torch.testing.assert_close(uncrop(crop_kp, squares, 64), kp)
    image = torch.rand(3, 96, 96)
    crops, got = person_crops(image, boxes, 64, 1.3)
    assert crops.shape == (2, 3, 64, 64) and torch.equal(got, squares)
    # a crop of the whole image at its own size is the image where RoIAlign's samples are exact: a ramp
    ramp = (torch.arange(96.0) / 96).expand(3, 96, 96).contiguous()
    whole, _ = person_crops(ramp, torch.tensor([[0.0, 0.0, 96.0, 96.0]]), 96, 1.0)
    torch.testing.assert_close(whole[0, :, 1:-1, 1:-1], ramp[:, 1:-1, 1:-1], atol=1e-5, rtol=0)


def test_training_crops_count_every_labelled_joint():
    recipe = dataclasses.replace(Recipe(), n_train=3, crop_copies=2)
    scenes = recipe.scenes("train")
    n_people = sum(int((t["labels"] == PERSON).sum()) for _, t in scenes)
    images, kps = training_crops(scenes, recipe)
    assert images.shape == (2 * n_people, 3, 64, 64) and kps.shape == (2 * n_people, 14, 3)
    assert set(kps[..., 2].unique().tolist()) <= {0.0, 2.0}
    assert (kps[..., :2] > -10).all() and (kps[..., :2] < 74).all()   # the joints lie in (or near) the crop


def test_train_side_by_side_returns_both_models_in_eval_mode():
    recipe = dataclasses.replace(Recipe(), n_train=4, steps=2, pose_steps=2, pose_batch=4, crop_copies=1)
    models, histories = train_side_by_side(recipe, 1e-3, 1.25, recipe.scenes("train"), jobs=1)
    assert models["keypoint_rcnn"].cfg.keypoint.box_scale == 1.25
    assert isinstance(models["keypoint_rcnn"], KeypointRCNN) and isinstance(models["regressor"], PoseRegressor)
    assert not models["keypoint_rcnn"].training and not models["regressor"].training
    assert histories["keypoint_rcnn"].steps == 2 and "loss_keypoint" in histories["keypoint_rcnn"].losses
    assert histories["regressor"].steps == 2


def test_chosen_scale_reads_only_the_runs_at_the_recipes_budget():
    from cvlib.recipes.keypoint_rcnn import budget, chosen_scale, scale_runs
    recipe = Recipe()
    same = budget(recipe)
    runs = [{"box_scale": 1.0, **same, "val_ap": 0.5},
            {"box_scale": 1.5, **same, "val_ap": 0.6},
            {"box_scale": 1.5, **same, "heatmap_size": recipe.heatmap_size * 2, "val_ap": 0.9},
            {"box_scale": 2.0, **same, "steps": 1, "val_ap": 0.9},
            {"box_scale": 2.0, **same, "keypoint_channels": 1, "val_ap": 0.9},
            {"box_scale": 2.0, **same, "n_train": 1, "val_ap": 0.9},
            {"box_scale": 2.0, **same, "keypoint_coordinates": not recipe.keypoint_coordinates, "val_ap": 0.9}]
    assert [r["box_scale"] for r in scale_runs({"runs": runs}, recipe)] == [1.0, 1.5]
    assert chosen_scale({"runs": runs}, recipe) == 1.5
    assert recipe.config(1.5).keypoint.heatmap_size == recipe.heatmap_size == 28
    assert recipe.config(1.5).keypoint.coordinates == recipe.keypoint_coordinates
