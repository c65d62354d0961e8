"""The YOLO / SSD chapter's recipe, its sweep store, the side-by-side runner and the R-CNN family's weights."""
import operator
import os

import pytest
import torch

from cvlib.models.detection import SSD, YOLO, SSDConfig, YOLOConfig
from cvlib.recipes import one_stage, rcnn_family
from cvlib.recipes.one_stage import SWEEP, Recipe, build, chosen, load_sweep
from cvlib.recipes.parallel import side_by_side


def test_profiles_and_configs():
    assert Recipe.for_profile("quick") == Recipe()
    assert Recipe.for_profile("full").steps > Recipe().steps
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("fast")
    assert Recipe().config({"model": "yolo", "cell": 8}) == YOLOConfig(cell=8)
    assert Recipe().config({"model": "ssd", "cell": None}) == SSDConfig()
    with pytest.raises(ValueError, match="run\\['model'\\]"):
        Recipe().config({"model": "retinanet"})
    assert isinstance(build(YOLOConfig()), YOLO) and isinstance(build(SSDConfig()), SSD)
    with pytest.raises(TypeError, match="YOLOConfig or an SSDConfig"):
        build({"cell": 8})


def test_the_committed_sweep_chooses_on_validation_for_both_models():
    sweep = load_sweep(SWEEP, Recipe())
    for model in one_stage.MODELS:
        runs = [r for r in sweep["runs"] if r["model"] == model and r["n_train"] == Recipe().n_train]
        best = chosen(sweep, model, Recipe().n_train)
        assert best["val_map50"] == max(r["val_map50"] for r in runs)
        assert chosen(sweep, model, 120)["n_train"] == 120          # the few-scenes run of the same choice
    with pytest.raises(ValueError, match="no run"):
        chosen(sweep, "yolo", 7)


def test_side_by_side_keeps_the_order_and_gives_each_its_threads():
    tasks = {"b": (2,), "a": (10,)}
    threads = max(1, (os.cpu_count() or 1) // 2)
    assert list(side_by_side(operator.add, tasks, jobs=2)) == ["b", "a"]
    assert side_by_side(operator.add, tasks, jobs=2) == {"b": 2 + threads, "a": 10 + threads}
    assert side_by_side(operator.add, tasks, jobs=1) == {"b": 2 + (os.cpu_count() or 1), "a": 10 + (os.cpu_count() or 1)}
    with pytest.raises(ValueError, match="empty"):
        side_by_side(operator.add, {})


def test_missing_family_weights_name_the_script(tmp_path, monkeypatch):
    monkeypatch.setattr(rcnn_family, "WEIGHTS", tmp_path)
    with pytest.raises(FileNotFoundError, match="train_rcnn_family.py"):
        rcnn_family.load_family()


def test_the_committed_family_weights_load():
    family, map50 = rcnn_family.load_family()
    assert list(family) == list(map50) == ["sliding window", "R-CNN", "Fast R-CNN", "Faster R-CNN"]
    for name, model in family.items():
        assert not model.training
        assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in model.parameters())
        assert 0 < map50[name] <= 1


def test_store_sweep_replaces_only_the_sweep_of_the_same_recipe(tmp_path):
    from cvlib.recipes.sweeps import find_sweep, store_sweep
    path = tmp_path / "sweep.json"
    store_sweep(path, Recipe(), runs=[1])
    store_sweep(path, Recipe(steps=5), runs=[2])
    store_sweep(path, Recipe(), runs=[3])
    assert find_sweep(path, Recipe(), Recipe(), "cmd")["runs"] == [3]
    assert find_sweep(path, Recipe(steps=5), Recipe(), "cmd")["runs"] == [2]


def test_train_side_by_side_equals_train_one():
    from dataclasses import replace
    from cvlib.data import Scenes
    from cvlib.recipes.one_stage import train_one, train_side_by_side
    recipe = replace(Recipe(), n_train=8, steps=2)
    train = [Scenes(8, seed=1, size=96)[i] for i in range(8)]
    runs = {"yolo": (YOLOConfig(cell=8), 3e-3), "ssd": (SSDConfig(), 1e-3)}
    models, histories = train_side_by_side(runs, 0, train, recipe)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
        alone = {name: train_one(cfg, lr, 0, train, recipe, progress=False) for name, (cfg, lr) in runs.items()}
    finally:
        torch.set_num_threads(threads)
    for name, (model, history) in alone.items():
        assert not models[name].training and histories[name].losses == history.losses
        for a, b in zip(models[name].state_dict().values(), model.state_dict().values()):
            torch.testing.assert_close(a, b)
