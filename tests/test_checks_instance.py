"""cvlib.checks on instance targets: the value rules of masks and keypoints in check_targets, the keys
check_detector_inputs passes on, the keys a two-stage detector asks for (from its branches), and
detection_loader keeping masks or keypoints."""
import pytest
import torch

from cvlib.checks import check_detector_inputs, check_targets
from cvlib.data import CLASSES, JOINTS, Scenes
from cvlib.models.detection import FasterRCNN, detection_loader
from cvlib.models.detection.batching import hflip
from cvlib.models.instance import KeypointRCNN, MaskRCNN, instance_loader

K = len(CLASSES)
MASK_KEYS = ("boxes", "labels", "masks")
KEYPOINT_KEYS = ("boxes", "labels", "keypoints")


def image(h=32, w=48):
    return torch.rand(3, h, w)


def target(masks=None, keypoints=None):
    t = {"boxes": torch.tensor([[2.0, 3.0, 20.0, 30.0]]), "labels": torch.tensor([1])}
    if masks is not None:
        t["masks"] = masks
    if keypoints is not None:
        t["keypoints"] = keypoints
    return t


def person(visibility=2.0, joints=len(JOINTS)):
    kp = torch.full((1, joints, 3), 10.0)
    kp[..., 2] = visibility
    return kp


# ---------------------------------------------------------------- masks

@pytest.mark.parametrize("masks", [
    torch.zeros(1, 32, 48, dtype=torch.uint8),
    torch.ones(1, 32, 48, dtype=torch.uint8),
    torch.ones(1, 32, 48, dtype=torch.bool),
    torch.full((1, 32, 48), 0.25),                                   # soft masks in 0..1
    torch.full((1, 32, 48), 1.0, dtype=torch.float64),
])
def test_valid_masks_pass(masks):
    check_targets([target(masks=masks)], [image()], num_classes=K, keys=MASK_KEYS)


@pytest.mark.parametrize("masks, error, match", [
    (torch.zeros(1, 48, 32, dtype=torch.uint8), ValueError, r"must be Tensor\[N, H, W\] = \[1, 32, 48\]"),
    (torch.zeros(2, 32, 48, dtype=torch.uint8), ValueError, r"\['masks'\] must be Tensor\[N, H, W\] = \[1,"),
    (torch.zeros(32, 48, dtype=torch.uint8), ValueError, r"got shape \(32, 48\)"),
    (torch.zeros(1, 32, 48, dtype=torch.int64), TypeError, r"has dtype torch.int64; masks must be uint8 or bool"),
    (torch.zeros(1, 32, 48, dtype=torch.int32), TypeError, r"\(masks > 0\).to\(torch.uint8\)"),
    (torch.full((1, 32, 48), 255, dtype=torch.uint8), ValueError, r"holds values up to 255; masks must be 0/1"),
    (torch.full((1, 32, 48), 255.0), ValueError, r"values in \[255, 255\]; masks must be in 0..1; for 0..255"),
    (torch.full((1, 32, 48), -0.5), ValueError, r"values in \[-0.5, -0.5\]; masks must be in 0..1"),
    (torch.full((1, 32, 48), float("nan")), ValueError, r"NaN or infinite"),
    ([[0, 1]], TypeError, r"\['masks'\] must be a Tensor\[N, H, W\], got list"),
])
def test_bad_masks_name_the_target_and_the_fix(masks, error, match):
    good = target(masks=torch.zeros(1, 32, 48, dtype=torch.uint8))
    with pytest.raises(error, match=r"targets\[1\]\['masks'\]"):
        check_targets([good, target(masks=masks)], [image(), image()], num_classes=K, keys=MASK_KEYS)
    with pytest.raises(error, match=match):
        check_targets([target(masks=masks)], [image()], num_classes=K, keys=MASK_KEYS)


def test_masks_without_images_are_checked_for_values_not_size():
    check_targets([target(masks=torch.zeros(1, 7, 9, dtype=torch.bool))], None, num_classes=None, keys=MASK_KEYS)
    with pytest.raises(ValueError, match="up to 3"):
        check_targets([target(masks=torch.full((1, 7, 9), 3, dtype=torch.uint8))], None, num_classes=None,
                      keys=MASK_KEYS)


def test_zero_objects_with_masks_and_keypoints_pass():
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64),
             "masks": torch.zeros(0, 32, 48, dtype=torch.uint8), "keypoints": torch.zeros(0, 14, 3)}
    check_targets([empty], [image()], num_classes=K, keys=MASK_KEYS + ("keypoints",), num_keypoints=14)


# ---------------------------------------------------------------- keypoints

@pytest.mark.parametrize("visibility", [0.0, 1.0, 2.0])
def test_valid_keypoints_pass(visibility):
    check_targets([target(keypoints=person(visibility))], [image()], num_classes=K, keys=KEYPOINT_KEYS,
                  num_keypoints=14)


@pytest.mark.parametrize("keypoints, error, match", [
    (person(joints=13), ValueError, r"\['keypoints'\] must be Tensor\[N, 14, 3\] .* got shape \(1, 13, 3\)"),
    (person()[..., :2], ValueError, r"must be Tensor\[N, 14, 3\] \(x, y, visibility"),
    (person()[0], ValueError, r"got shape \(14, 3\)"),
    (torch.cat([person(), person()]), ValueError, r"N = 1 boxes"),
    (person().long(), TypeError, r"has dtype torch.int64; use keypoints.float\(\)"),
    (person(3.0), ValueError, r"\['keypoints'\]\[0, 0, 2\] = 3; visibility must be 0 \(not labelled\), 1"),
    (person(-1.0), ValueError, r"\[0, 0, 2\] = -1; visibility"),
    (person(1.5), ValueError, r"\[0, 0, 2\] = 1.5; visibility"),
    (person().index_put((torch.tensor([0]), torch.tensor([4]), torch.tensor([0])), torch.tensor(float("inf"))),
     ValueError, r"NaN or infinite"),
    (person().numpy(), TypeError, r"torch.from_numpy"),
])
def test_bad_keypoints_name_the_target_and_the_fix(keypoints, error, match):
    with pytest.raises(error, match=match):
        check_targets([target(keypoints=keypoints)], [image()], num_classes=K, keys=KEYPOINT_KEYS,
                      num_keypoints=14)


def test_any_number_of_joints_without_num_keypoints():
    check_targets([target(keypoints=person(joints=5))], [image()], num_classes=K, keys=KEYPOINT_KEYS)
    with pytest.raises(ValueError, match="visibility"):
        check_targets([target(keypoints=person(7.0, joints=5))], [image()], num_classes=K, keys=KEYPOINT_KEYS)


# ---------------------------------------------------------------- the detectors' keys

def test_check_detector_inputs_passes_keys_on():
    t = target(masks=torch.full((1, 32, 48), 2, dtype=torch.uint8))
    check_detector_inputs([image()], [t], training=True, num_classes=K)          # masks not asked for
    with pytest.raises(ValueError, match=r"targets\[0\]\['masks'\] holds values up to 2"):
        check_detector_inputs([image()], [t], training=True, num_classes=K, keys=MASK_KEYS)
    with pytest.raises(ValueError, match=r"targets\[0\] lacks \['keypoints'\]"):
        check_detector_inputs([image()], [t], training=True, num_classes=K, keys=KEYPOINT_KEYS)
    with pytest.raises(ValueError, match="needs targets .*boxes, labels, masks"):
        check_detector_inputs([image()], None, training=True, num_classes=K, keys=MASK_KEYS)
    assert len(check_detector_inputs([image()], None, training=False, num_classes=K, keys=MASK_KEYS)) == 1


def test_two_stage_detectors_ask_for_what_their_branches_train_on():
    assert FasterRCNN().target_rules() == {"keys": ("boxes", "labels"), "num_keypoints": None}
    assert MaskRCNN().target_rules() == {"keys": MASK_KEYS, "num_keypoints": None}
    assert KeypointRCNN().target_rules() == {"keys": KEYPOINT_KEYS, "num_keypoints": len(JOINTS)}


# ---------------------------------------------------------------- loaders

@pytest.fixture(scope="module")
def scenes():
    data = Scenes(4, seed=0, size=48)
    return [data[i] for i in range(len(data))]


def test_detection_loader_keeps_the_keys_asked_for(scenes):
    for keys in (("boxes", "labels"), MASK_KEYS, KEYPOINT_KEYS):
        images, targets = next(iter(detection_loader(scenes, 2, keys=keys)))
        assert len(images) == 2 and all(tuple(t) == keys for t in targets)
    with pytest.raises(KeyError):
        next(iter(detection_loader([(scenes[0][0], {"boxes": scenes[0][1]["boxes"]})], 1, keys=MASK_KEYS)))
    with pytest.raises(ValueError, match="flip=True cannot mirror keypoints"):
        detection_loader(scenes, 2, flip=True, keys=KEYPOINT_KEYS)


def test_detection_loader_without_shuffle_and_instance_loader_agree(scenes):
    ours = list(detection_loader(scenes, 3, keys=MASK_KEYS, shuffle=False))
    old = list(instance_loader(scenes, 3, shuffle=False))
    for (images_a, targets_a), (images_b, targets_b) in zip(ours, old):
        assert all(torch.equal(a, b) for a, b in zip(images_a, images_b))
        assert all(torch.equal(a[k], b[k]) for a, b in zip(targets_a, targets_b) for k in MASK_KEYS)


def test_hflip_mirrors_masks_with_their_boxes(scenes):
    image, t = scenes[0]
    flipped_image, flipped = hflip(image, {k: t[k] for k in MASK_KEYS})
    assert torch.equal(flipped["masks"], t["masks"].flip(-1)) and torch.equal(flipped_image, image.flip(-1))
    for box, mask in zip(flipped["boxes"], flipped["masks"]):        # each mask still inside its box
        ys, xs = mask.nonzero(as_tuple=True)
        assert xs.min() >= box[0] - 1 and xs.max() + 1 <= box[2] + 1
    with pytest.raises(ValueError, match="cannot mirror keypoints"):
        hflip(image, t)
