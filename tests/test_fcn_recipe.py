"""The Part 1 recipe: its data seeds, the learning rate chosen from a sweep, and a stale or missing sweep."""
import json
import os
from dataclasses import asdict

import pytest
import torch

from cvlib.recipes.fcn import Recipe, chosen_lr, load_sweep, sweep_run, sweep_table, train_fcn, train_fcns


def sweep_of(recipe, val_miou):
    return {"recipe": asdict(recipe), "lrs": [0.002, 0.004], "seeds": [0, 1], "val_miou": val_miou}


def test_chosen_lr_is_the_best_mean_over_seeds_not_the_best_single_run():
    sweep = sweep_of(Recipe(), {"nearest": {"0.002": [0.90, 0.40], "0.004": [0.70, 0.70]}})
    assert chosen_lr(sweep, "nearest") == 0.004
    table = repr(sweep_table(sweep))
    assert "0.650 (0.40 to 0.90)" in table and "0.700 (0.70 to 0.70)" in table and table.rstrip().endswith("0.004")


def test_load_sweep_finds_its_recipe_and_falls_back_with_a_warning(tmp_path):
    quick, full = Recipe.for_profile("quick"), Recipe.for_profile("full")
    path = tmp_path / "lr_sweep.json"
    path.write_text(json.dumps([sweep_of(quick, {"transpose": {"0.002": [0.5], "0.004": [0.6]}})]))
    assert load_sweep(path, quick)["recipe"] == asdict(quick)
    with pytest.warns(UserWarning, match="no sweep for"):
        assert load_sweep(path, full)["recipe"] == asdict(quick)
    only_full = tmp_path / "only_full.json"
    only_full.write_text(json.dumps([sweep_of(full, {"transpose": {"0.002": [0.5]}})]))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="sweep_fcn_lr.py"):
        load_sweep(only_full, Recipe(steps=1))
    with pytest.raises(FileNotFoundError, match="sweep_fcn_lr.py"):
        load_sweep(tmp_path / "missing.json", quick)
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("medium")
    with pytest.raises(ValueError, match="split"):
        quick.scenes("dev")


def test_the_committed_sweep_matches_the_quick_recipe():
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "chapters" / "01-semantic" / "lr_sweep.json"
    sweep = load_sweep(path, Recipe())
    assert set(sweep["val_miou"]) == {"nearest", "bed_of_nails", "max_unpool", "transpose"}
    for runs in sweep["val_miou"].values():
        assert [float(lr) for lr in runs] == sweep["lrs"]
        assert all(len(v) == len(sweep["seeds"]) and all(0 <= x <= 1 for x in v) for v in runs.values())


def test_train_fcn_repeats_exactly_from_its_seed():
    recipe = Recipe(n_train=32, steps=3, batch=8, width=4)
    train = recipe.scenes("train")
    a, ha = train_fcn("transpose", 1e-3, 0, train, recipe, progress=False)
    b, hb = train_fcn("transpose", 1e-3, 0, train, recipe, progress=False)
    assert ha.losses["total"] == hb.losses["total"] and len(ha.losses["total"]) == 3
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def sweep_script():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "scripts" / "sweep_fcn_lr.py"
    spec = importlib.util.spec_from_file_location("sweep_fcn_lr", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sweep_renders_the_recipes_scenes_in_chunks_and_checks_its_overrides():
    sweep = sweep_script()
    recipe = Recipe(n_train=12)
    whole = recipe.scenes("train")
    chunk = sweep.render_chunk(12, 1, recipe.size, 5, 12)     # seed 1: the train split's
    assert torch.equal(chunk.images, whole.images[5:]) and torch.equal(chunk.labels, whole.labels[5:])
    assert sweep.parse_set(["steps=450", "size=48"]) == {"steps": 450, "size": 48}
    for bad in (["stpes=450"], ["steps=4.5e2"], ["steps"]):
        with pytest.raises(SystemExit, match="FIELD=INT"):
            sweep.parse_set(bad)


def test_train_fcns_side_by_side_equals_train_fcn():
    recipe = Recipe(n_train=32, steps=3, batch=8, width=4)
    train = recipe.scenes("train")
    models, histories = train_fcns({"transpose": 1e-3, "nearest": 2e-3}, 0, train, recipe, jobs=2)
    assert list(models) == ["transpose", "nearest"] and not models["nearest"].training
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))    # the workers' threads
    try:
        for method, lr in (("transpose", 1e-3), ("nearest", 2e-3)):
            model, history = train_fcn(method, lr, 0, train, recipe, progress=False)
            assert history.losses["total"] == histories[method].losses["total"]
            assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(),
                                                         models[method].state_dict().values()))
    finally:
        torch.set_num_threads(threads)


def test_sweep_run_is_the_chosen_runs_score_for_its_own_recipe_only():
    sweep = sweep_of(Recipe(), {"nearest": {"0.002": [0.90, 0.40], "0.004": [0.70, 0.66]}})   # chosen: 0.004
    assert sweep_run(sweep, Recipe(), "nearest", seed=1) == 0.66
    assert sweep_run(sweep, Recipe(), "nearest", seed=5) is None
    assert sweep_run(sweep, Recipe.for_profile("full"), "nearest") is None


def test_the_full_resolution_network_trains_on_the_down_up_networks_compute():
    from cvlib.cost import count_macs
    from cvlib.models.segmentation.fcn import DownUpFCN, FullResFCN
    from cvlib.recipes.fcn import full_res_steps, train_full_res
    recipe = Recipe(n_train=16, steps=30, batch=8, width=4)
    config, image = recipe.fcn_config("transpose"), torch.zeros(1, 3, recipe.size, recipe.size)
    ratio = count_macs(FullResFCN(config), image) / count_macs(DownUpFCN(config), image)
    assert full_res_steps(recipe) == round(30 / ratio) < 30
    model, history = train_full_res(1e-3, 0, recipe.scenes("train"), recipe, progress=False)
    assert isinstance(model, FullResFCN) and history.steps == full_res_steps(recipe)
    again, _ = train_full_res(1e-3, 0, recipe.scenes("train"), recipe, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), again.state_dict().values()))


def test_full_res_sweep_and_seed_runs_name_their_scripts(tmp_path):
    from cvlib.recipes.fcn import chosen_full_res_lr, load_full_res_sweep, seed_runs
    with pytest.raises(FileNotFoundError, match="sweep_full_res_lr.py"):
        load_full_res_sweep(Recipe(), tmp_path / "none.json")
    with pytest.raises(FileNotFoundError, match="upsampling_seeds.py"):
        seed_runs(Recipe(), tmp_path / "none.json")
    runs = [{"lr": 0.002, "val_miou": 0.5}, {"lr": 0.004, "val_miou": 0.7}, {"lr": 0.008, "val_miou": 0.7}]
    assert chosen_full_res_lr({"runs": runs}) == 0.004


def test_the_committed_full_res_sweep_and_seed_runs_are_of_the_quick_recipe():
    from cvlib.models.segmentation.fcn import UPSAMPLING
    from cvlib.recipes.fcn import chosen_lr, full_res_steps, load_full_res_sweep, seed_runs
    sweep = load_full_res_sweep(Recipe())
    assert sweep["steps"] == full_res_steps(Recipe()) and len(sweep["runs"]) >= 3
    seeds = seed_runs(Recipe())
    lr_sweep = load_sweep(os.path.join(os.path.dirname(__file__), "..", "chapters", "01-semantic", "lr_sweep.json"), Recipe())
    assert seeds["lrs"] == {m: chosen_lr(lr_sweep, m) for m in UPSAMPLING}
    assert all(set(seeds["test_miou"][m]) == {str(s) for s in lr_sweep["seeds"] if s != 0} for m in UPSAMPLING)
