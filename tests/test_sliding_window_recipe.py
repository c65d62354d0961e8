"""The detection sliding-window chapter's recipe: profiles, scenes, a seeded training, the seeds file."""
import pytest
import torch

from cvlib.models.detection import SlidingWindowDetector
from cvlib.recipes.sliding_window import Recipe, seed_runs, train_detector


def test_profiles_configs_and_scenes():
    assert Recipe.for_profile("quick") == Recipe()
    full = Recipe.for_profile("full")
    assert full.size == 128 and full.config().patch == 24 and Recipe().config().patch == 16
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("fast")
    small = Recipe(n_train=3, n_val=1, n_test=2)
    train, val, test = (small.scenes(split) for split in ("train", "validation", "test"))
    assert len(train) == 3 and len(val) == 1 and len(test) == 2 and train[0][0].shape == (3, 64, 64)
    assert not torch.equal(val[0][0], test[0][0])          # each split from its own seed
    with pytest.raises(ValueError, match="split"):
        small.scenes("val")


def test_training_from_a_seed_repeats():
    recipe = Recipe(n_train=4, steps=2, batch=2)
    train = recipe.scenes("train")
    a, history = train_detector(recipe, 0, train, progress=False)
    b, _ = train_detector(recipe, 0, train, progress=False)
    assert isinstance(a, SlidingWindowDetector) and history.steps == 2
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_seed_runs_name_their_script_and_the_committed_file_holds_seeds_1_and_2(tmp_path):
    with pytest.raises(FileNotFoundError, match="sliding_window_seeds.py"):
        seed_runs(Recipe(), tmp_path / "none.json")
    assert set(seed_runs(Recipe())["test_map50"]) == {"1", "2"}
