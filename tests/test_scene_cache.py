"""The disk cache of rendered scenes: the same scenes as the renderer, never stale, never half-read."""
import pytest
import torch

from cvlib.data import Scenes, cache
from cvlib.data.scenes import _render_range
from cvlib.models.segmentation.semantic import SemanticData


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CVLIB_CACHE", str(tmp_path / "scenes"))
    return tmp_path / "scenes"


def assert_same(a, b):
    """Two lists of (image, target): every tensor equal in dtype and value, every caption the same."""
    assert len(a) == len(b)
    for (image_a, target_a), (image_b, target_b) in zip(a, b):
        assert image_a.dtype == image_b.dtype and torch.equal(image_a, image_b)
        assert list(target_a) == list(target_b)
        for key, value in target_a.items():
            if torch.is_tensor(value):
                assert value.dtype == target_b[key].dtype and torch.equal(value, target_b[key]), key
            else:
                assert value == target_b[key], key


def rendered(scenes, indices):
    """The renderer itself, scene by scene (what Scenes did before the cache)."""
    return [scenes[i] for i in indices]


@pytest.mark.parametrize("options", [dict(size=64), dict(size=48, background="texture"),
                                     dict(size=64, n_objects=(1, 1), classes=("person",))])
def test_cached_scenes_equal_the_renderer(cache_dir, options):
    scenes = Scenes(120, seed=4, **options)
    first, again = scenes[:], scenes[:]                    # rendered and stored, then read back
    assert len(list(cache_dir.iterdir())) == 1
    assert_same(first, rendered(scenes, range(120)))
    assert_same(again, rendered(scenes, range(120)))
    assert_same(scenes[40:100], rendered(scenes, range(40, 100)))


def test_a_stored_checksum_of_the_cached_pixels(cache_dir):
    """The renderer's output for one split, pinned: a change to any pixel, box or caption fails here."""
    scenes = Scenes(64, seed=0, size=64)
    first, again = scenes[:], scenes[:]                  # the second read comes from the file
    assert cache.digest(first) == cache.digest(again) == cache.digest(rendered(scenes, range(64)))
    # scene by scene, before the cache existed; the captions lost "partly hidden" since (the pixels,
    # boxes, masks and keypoints did not change: test_scenes pins them alone)
    assert cache.digest(again)[:16] == "d348b7df29307849"


def test_the_name_changes_with_everything_that_decides_the_pixels(cache_dir, monkeypatch):
    scenes = Scenes(100, seed=1, size=32)
    name = cache.split_file(scenes.cfg, 1, range(100))
    assert cache.split_file(scenes.cfg, 2, range(100)) != name
    assert cache.split_file(scenes.cfg, 1, range(1, 100)) != name
    assert cache.split_file(Scenes(100, seed=1, size=32, noise=0.05).cfg, 1, range(100)) != name
    monkeypatch.setattr(cache, "renderer_digest", lambda: "another renderer")
    assert cache.split_file(scenes.cfg, 1, range(100)) != name


def test_an_edited_renderer_source_is_a_new_name(cache_dir, monkeypatch, tmp_path):
    before = cache.renderer_digest()
    fake = tmp_path / "data"
    fake.mkdir()
    for path in cache.Path(cache.__file__).parent.glob("*.py"):
        (fake / path.name).write_bytes(path.read_bytes())
    (fake / "scenes.py").write_bytes((fake / "scenes.py").read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(cache, "__file__", str(fake / "cache.py"))
    assert cache.renderer_digest() != before


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_file_is_rendered_again_and_replaced(cache_dir, damage):
    scenes = Scenes(80, seed=3, size=32)
    scenes[:]
    path = cache.split_file(scenes.cfg, 3, range(80))
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not scenes" * 100, "empty": b""}[damage])
    assert_same(scenes[:], rendered(scenes, range(80)))
    assert path.read_bytes() == data                      # rendered again and stored whole


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CVLIB_CACHE", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    scenes = Scenes(70, seed=0, size=32)
    assert_same(scenes[:], rendered(scenes, range(70)))
    assert cache.split_file(scenes.cfg, 0, range(70)) is None and not any(tmp_path.rglob("*"))


def test_small_slices_write_no_file(cache_dir):
    Scenes(200, seed=0, size=32)[:cache.MIN_SCENES - 1]
    assert not cache_dir.exists()


def test_no_temporary_file_is_left(cache_dir):
    Scenes(64, seed=0, size=32)[:]
    assert [p.suffix for p in cache_dir.iterdir()] == [".npys"]


def test_an_unwritable_folder_warns_and_still_gives_the_scenes(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CVLIB_CACHE", str(blocker / "scenes"))
    scenes = Scenes(64, seed=0, size=32)
    with pytest.warns(UserWarning, match="could not keep the rendered scenes"):
        items = scenes[:]
    assert_same(items, rendered(scenes, range(64)))


def test_rendering_in_processes_gives_the_same_scenes_in_order():
    scenes = Scenes(30, seed=2, size=32)
    assert_same(_render_range(30, 2, scenes.cfg, range(3, 30, 2), workers=3), rendered(scenes, range(3, 30, 2)))


def test_semantic_data_reads_the_cache_and_refuses_scattered_indices(cache_dir):
    data = SemanticData.from_scenes(100, seed=1, size=32, indices=range(10, 90))
    scenes = Scenes(100, seed=1, size=32)
    assert torch.equal(data.images, torch.stack([scenes[i][0] for i in range(10, 90)]))
    assert torch.equal(data.labels, torch.stack([scenes[i][1]["semantic"] for i in range(10, 90)]))
    for bad in (range(0, 100, 2), range(50, 120), [1, 2, 3]):
        with pytest.raises(ValueError, match="indices must be a range of consecutive scenes"):
            SemanticData.from_scenes(100, seed=1, size=32, indices=bad)
