"""The Faster R-CNN chapter's recipe and sweep store (cvlib.recipes.faster_rcnn)."""
import json
from dataclasses import asdict

import pytest

from cvlib.models.detection import FasterRCNN
from cvlib.recipes.faster_rcnn import SWEEP, Recipe, chosen, load_sweep


def test_recipe_builds_the_configured_model():
    cfg = Recipe().config("roi_align")
    model = FasterRCNN(cfg)
    assert model.roi_heads.pooler.kind == "roi_align"
    assert model.proposal_generator.anchor_generator.sizes == Recipe().anchor_sizes
    assert cfg.rpn.post_nms_top_n_test == Recipe().post_nms_top_n
    assert Recipe.for_profile("full").steps > Recipe.for_profile("quick").steps
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("medium")
    with pytest.raises(ValueError, match="pooler"):
        Recipe().config("max")


def test_load_sweep_and_chosen(tmp_path):
    path = tmp_path / "sweep.json"
    with pytest.raises(FileNotFoundError, match="scripts/sweep_faster_rcnn.py"):
        load_sweep(path, Recipe())
    runs = [{"pooler": "roi_pool", "lr": 1e-3, "val_map50": 0.7}, {"pooler": "roi_align", "lr": 1e-3, "val_map50": 0.8}]
    path.write_text(json.dumps([{"recipe": asdict(Recipe()), "runs": runs}]))
    assert chosen(load_sweep(path, Recipe()))["pooler"] == "roi_align"
    with pytest.warns(UserWarning, match="--profile full"):
        assert load_sweep(path, Recipe.for_profile("full"))["runs"] == runs   # the quick profile's choice
    path.write_text("[]")
    with pytest.raises(ValueError, match="scripts/sweep_faster_rcnn.py"):
        load_sweep(path, Recipe())


def test_the_committed_sweep_holds_the_quick_recipe():
    sweep = load_sweep(SWEEP, Recipe())
    assert {(r["pooler"], r["lr"]) for r in sweep["runs"]} >= {("roi_pool", 1e-3), ("roi_align", 1e-3)}
