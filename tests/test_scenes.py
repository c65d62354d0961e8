"""Invariants of the Scenes dataset: format, tight boxes, occlusion, determinism, errors."""
import numpy as np
import pytest
import torch

from cvlib.data import CLASSES, JOINTS, Scenes, ScenesConfig
from cvlib.data import photos


@pytest.fixture(scope="module")
def scenes():
    ds = Scenes(40, seed=11)
    return [ds[i] for i in range(len(ds))]


def test_item_format(scenes):
    for image, target in scenes:
        n = len(target["labels"])
        assert image.dtype == torch.float32 and image.shape == (3, 128, 128)
        assert 0 <= image.min() and image.max() <= 1
        assert target["boxes"].shape == (n, 4) and target["boxes"].dtype == torch.float32
        assert target["labels"].dtype == torch.int64 and (target["labels"] > 0).all()
        assert target["masks"].shape == (n, 128, 128) and target["masks"].dtype == torch.uint8
        assert target["keypoints"].shape == (n, len(JOINTS), 3)
        assert len(target["captions"]) == n
        assert target["semantic"].shape == (128, 128) and target["semantic"].dtype == torch.int64
        assert 1 <= n <= 4


def test_box_is_tight_box_of_mask(scenes):
    for _, target in scenes:
        for box, mask in zip(target["boxes"], target["masks"]):
            rows, cols = torch.nonzero(mask, as_tuple=True)
            assert box.tolist() == [cols.min().item(), rows.min().item(), cols.max().item() + 1, rows.max().item() + 1]


def test_masks_are_disjoint_and_make_the_semantic_map(scenes):
    for _, target in scenes:
        masks = target["masks"].bool()
        assert (masks.sum(0) <= 1).all(), "a pixel belongs to two objects"
        semantic = torch.zeros_like(target["semantic"])
        for mask, label in zip(masks, target["labels"]):
            semantic[mask] = label
        assert torch.equal(semantic, target["semantic"])


def test_keypoints_only_for_people_and_visibility_follows_mask(scenes):
    person = CLASSES.index("person")
    seen_person = False
    for _, target in scenes:
        for label, kp, mask in zip(target["labels"], target["keypoints"], target["masks"]):
            if label != person:
                assert (kp == 0).all()
                continue
            seen_person = True
            assert set(kp[:, 2].tolist()) <= {1.0, 2.0}
            ij = kp[:, :2].floor().long()
            inside = mask[ij[:, 1], ij[:, 0]].bool()
            assert torch.equal(inside, kp[:, 2] == 2), "visible joints are exactly those on the visible mask"
    assert seen_person


def test_occluded_joints_are_marked():
    ds = Scenes(200, seed=4, n_objects=(3, 4), classes=("person", "square"))
    assert any((ds[i][1]["keypoints"][..., 2] == 1).any() for i in range(len(ds)))


def test_captions_name_colour_and_class(scenes):
    for _, target in scenes:
        for caption, label in zip(target["captions"], target["labels"]):
            assert CLASSES[label] in caption


def test_deterministic_per_seed():
    a, b, c = Scenes(5, seed=3)[4], Scenes(5, seed=3)[4], Scenes(5, seed=4)[4]
    assert torch.equal(a[0], b[0])
    for key in ("boxes", "labels", "masks", "keypoints", "semantic"):
        assert torch.equal(a[1][key], b[1][key])
    assert a[1]["captions"] == b[1]["captions"]
    assert not torch.equal(a[0], c[0])


def test_single_object_and_class_filter():
    ds = Scenes(30, seed=2, n_objects=(1, 1), classes=("person",))
    for i in range(len(ds)):
        _, target = ds[i]
        assert target["labels"].tolist() == [CLASSES.index("person")]


@pytest.mark.parametrize("background", ["plain", "noise", "texture"])
def test_backgrounds_and_sizes(background):
    image, target = Scenes(3, seed=0, size=64, background=background)[2]
    assert image.shape == (3, 64, 64) and target["semantic"].shape == (64, 64)


def test_collate_gives_lists():
    ds = Scenes(4, seed=0)
    images, targets = Scenes.collate([ds[0], ds[1]])
    assert len(images) == 2 and len(targets) == 2 and images[0].shape == (3, 128, 128)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(size=-5), ValueError, "size"),
    (dict(size=0), ValueError, "size"),
    (dict(n_objects=(0, 3)), ValueError, "at least one object"),
    (dict(n_objects=(3, 1)), ValueError, "n_objects"),
    (dict(classes=("circle", "dragon")), ValueError, "dragon"),
    (dict(background="lava"), ValueError, "background"),
    (dict(seed="7"), TypeError, "seed must be"),
    (dict(seed=1.5), TypeError, "seed must be"),
    (dict(seed=-1), TypeError, "seed must be"),
    (dict(noise=float("nan")), ValueError, r"noise .* got nan: it must be finite"),
    (dict(noise=-0.1), ValueError, r"noise .* 0 <= noise <= 1"),
    (dict(classes="circle"), TypeError, r"got the str 'circle'; for one class write classes=\('circle',\)"),
    (dict(classes=()), ValueError, r"\(none given\)"),
    (dict(size=64.0), TypeError, r"size .* must be an int"),
    (dict(n_objects=(1, 2.5)), TypeError, r"n_objects\[1\] must be an int"),
    (dict(n_objects=3), ValueError, r"n_objects must be a pair"),
    (dict(shape_scale=(0.5, 0.2)), ValueError, r"shape_scale must satisfy 0 < min <= max <= 1"),
    (dict(person_scale=(0.5, float("inf"))), ValueError, r"person_scale\[1\] .* must be finite"),
    (dict(max_occlusion=1.5), ValueError, r"max_occlusion"),
    (dict(colour="red"), TypeError, r"unknown Scenes option\(s\) \['colour'\]"),
    (dict(n=-1), ValueError, r"n \(the number of scenes\) must be an int with 0 <= n"),
    (dict(n=2.5), TypeError, r"n \(the number of scenes\) must be an int"),
])
def test_bad_input_is_a_clear_error(kwargs, error, words):
    n = kwargs.pop("n", 10)
    with pytest.raises(error, match=words):
        Scenes(n, **kwargs)


def test_index_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        Scenes(3)[3]


@pytest.mark.parametrize("index", [1.7, "1", True, None, torch.tensor(1.0)], ids=["float", "str", "bool", "none",
                                                                             "float_tensor"])
def test_index_that_is_not_an_int_is_a_type_error(index):
    with pytest.raises(TypeError, match="scene index must be an int or a slice"):
        Scenes(3)[index]


def test_integer_indices_of_any_kind_and_slices():
    data = Scenes(5, seed=2, size=32)
    for index in (np.int64(3), torch.tensor(3), -2):
        assert data[index][1]["image_id"] == 3
    items = data[1:4]
    assert [t["image_id"] for _, t in items] == [1, 2, 3] and torch.equal(items[0][0], data[1][0])
    assert data[4:10] and len(data[4:10]) == 1 and data[::2][2][1]["image_id"] == 4


def test_texture_background_larger_than_the_photos():
    image, target = Scenes(1, seed=0, size=600, background="texture", n_objects=(1, 1))[0]
    assert image.shape == (3, 600, 600) and torch.isfinite(image).all() and 0 <= image.min() <= image.max() <= 1
    small = Scenes(2, seed=0, size=64, background="texture")      # sizes the photos cover: unchanged draws
    assert torch.equal(small[1][0], Scenes(2, seed=0, size=64, background="texture")[1][0])


def test_config_is_frozen_dataclass():
    cfg = ScenesConfig(size=64)
    with pytest.raises(Exception):
        cfg.size = 32


def test_photos_are_bundled_and_in_image_layout():
    for name in ("astronaut", "coins", "grace_hopper"):
        image = photos.load(name, size=64)
        assert image.shape[0] == 3 and max(image.shape[1:]) == 64 and 0 <= image.min() and image.max() <= 1
    patches, labels = photos.lfw_faces()
    assert patches.shape == (200, 1, 25, 25) and labels.sum() == 100
    with pytest.raises(ValueError, match="unknown photo"):
        photos.load("mona_lisa")


# Checksums of images, boxes, masks, keypoints and labels taken before the captions got their grammar
# (issue 13): the captions changed, the rendered scenes must not.
RENDER_SHA256 = {
    "default": ((120, 0, {}), "104209c1774cdf0b3182c3f2dba452aead9ebf77d54fc340fcea4771c6c3644e"),
    "crowded": ((80, 5, dict(n_objects=(3, 4), classes=("person", "square"))),
                "e18f5df0e3672eae25ccd9e2c80dc3d0885de2f2fd0d8eb0952b56b30e858fb6"),
    "single_person_96": ((60, 2, dict(size=96, n_objects=(1, 1), classes=("person",))),
                         "a9b5f316dc327b64da26fc3c725a1b757bcd58bef6d89b0bb86127aa4caa3df5"),
    "plain_64": ((60, 7, dict(size=64, background="plain")),
                 "c99feb295d66cf6ec9dbd2e55ce496aa8c5f9e7ab6d4768d21234bd031e97cd7"),
}


@pytest.mark.parametrize("name", sorted(RENDER_SHA256))
def test_rendering_unchanged_by_the_captions(name):
    import hashlib
    (n, seed, kw), expected = RENDER_SHA256[name]
    h = hashlib.sha256()
    for image, t in Scenes(n, seed=seed, **kw):
        for x in (image, t["boxes"], t["masks"], t["keypoints"], t["labels"]):
            h.update(x.contiguous().numpy().tobytes())
    assert h.hexdigest() == expected


def test_captions_follow_the_grammar_and_say_what_is_drawn():
    from cvlib.data.captions import parse, where
    ds = Scenes(60, seed=4, n_objects=(3, 4))
    for i in range(len(ds)):
        _, t = ds[i]
        for caption, label, box in zip(t["captions"], t["labels"], t["boxes"]):
            attrs = parse(caption)
            assert attrs["shape"] == CLASSES[label]
            assert attrs["where"] == where(box, 128)
            assert (attrs["pose"] is not None) == (CLASSES[label] == "person")


def test_parse_refuses_a_caption_outside_the_grammar():
    from cvlib.data.captions import parse
    with pytest.raises(ValueError, match="not a caption of the Scenes grammar"):
        parse("a purple dog")
    assert parse("small red circle at", strict=False)["where"] is None
    assert parse("person in red kicking at the top left") == dict(
        size=None, colour="red", shape="person", pose="kicking", where="at the top left")
