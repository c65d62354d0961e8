"""The train / validation / test scenes of a recipe: each split from its own seed.

    items = split_scenes(recipe, "validation", SPLIT_SEEDS, n_objects=(1, 1))   # [(image, target), ...]

`recipe` has size and the n_train, n_val or n_test of the splits `seeds` names; the scenes are
rendered once per machine, then read from the disk cache (`cvlib.data.cache`).
"""
from __future__ import annotations

from ..data import Scenes


def split_scenes(recipe, split: str, seeds: dict[str, int], **options) -> list:
    """The (image, target) pairs of `split` ("train", "validation" or "test"): recipe.n_train, n_val or
    n_test scenes of recipe.size pixels from seeds[split], drawn with the Scenes `options`."""
    if split not in seeds:
        raise ValueError(f"split must be one of {tuple(seeds)}, got {split!r}")
    n = getattr(recipe, {"train": "n_train", "validation": "n_val", "test": "n_test"}[split])
    return Scenes(n, seed=seeds[split], size=recipe.size, **options)[:]
