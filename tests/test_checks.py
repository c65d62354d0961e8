"""cvlib.checks: every bad input named in the contract raises, with a message naming the problem;
valid input (including zero objects) and Scenes data pass."""
import pytest
import torch

from cvlib.checks import check_images, check_proposals, check_targets
from cvlib.data import CLASSES, Scenes

K = len(CLASSES)


def image(h=32, w=48):
    return torch.rand(3, h, w)


def target(boxes=((2.0, 3.0, 20.0, 30.0),), labels=(1,)):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64)}


# ---------------------------------------------------------------- images

def test_valid_images_pass_and_come_back_as_a_list():
    images = (image(), image(16, 16))
    out = check_images(images)
    assert isinstance(out, list) and len(out) == 2 and out[0] is images[0]
    check_images([torch.zeros(1, 8, 8)], channels=1)
    check_images([torch.full((3, 4, 4), 1.0005)])   # inside the 1e-3 tolerance


def test_single_tensor_instead_of_list():
    with pytest.raises(TypeError, match=r"images must be a list of Tensor\[3, H, W\].*pass \[image\]"):
        check_images(image())


def test_batch_tensor_instead_of_list():
    with pytest.raises(TypeError, match=r"list\(batch\)"):
        check_images(torch.rand(2, 3, 8, 8))


def test_empty_list():
    with pytest.raises(ValueError, match="images is empty"):
        check_images([])


def test_channels_last():
    with pytest.raises(ValueError, match=r"images\[1\].*channels last.*image\.permute\(2, 0, 1\)"):
        check_images([image(), torch.rand(32, 48, 3)])


def test_uint8_image():
    with pytest.raises(TypeError, match=r"images\[0\] has dtype torch\.uint8.*image\.float\(\) / 255"):
        check_images([torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)])


def test_integer_image():
    with pytest.raises(TypeError, match=r"image\.float\(\) / 255"):
        check_images([torch.randint(0, 256, (3, 8, 8))])


def test_wrong_ndim():
    with pytest.raises(ValueError, match=r"images\[0\] must be float32 \[3, H, W\] in 0\.\.1, got shape \(8, 8\)"):
        check_images([torch.rand(8, 8)])


def test_wrong_channel_count():
    with pytest.raises(ValueError, match=r"images\[0\] must have 3 channels"):
        check_images([torch.rand(4, 8, 8)])


def test_nan_image():
    x = image()
    x[0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match=r"images\[0\] holds 1 NaN or infinite"):
        check_images([x])


def test_inf_image():
    x = image()
    x[2, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_images([x])


def test_0_to_255_floats():
    with pytest.raises(ValueError, match=r"images must be float32 \[3, H, W\] in 0\.\.1; for 0\.\.255 values use image / 255"):
        check_images([image() * 255])


def test_negative_values():
    with pytest.raises(ValueError, match=r"values in \[-0\.5, .*images must be float32 \[3, H, W\] in 0\.\.1"):
        check_images([torch.full((3, 4, 4), -0.5)])


def test_images_on_two_devices():
    with pytest.raises(ValueError, match=r"images\[1\] is on meta but images\[0\] is on cpu"):
        check_images([image(), torch.empty(3, 8, 8, device="meta")])


def test_custom_name_in_message():
    with pytest.raises(ValueError, match=r"crops\[0\]"):
        check_images([torch.rand(8, 8)], name="crops")


# ---------------------------------------------------------------- targets

def test_valid_targets_pass_including_zero_objects():
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}
    check_targets([target(), empty], [image(), image()], num_classes=K)
    # a box on the image's edges, and one a rounding error outside them
    check_targets([target(((0.0, 0.0, 48.0, 32.0), (-0.5, 0.0, 48.9, 32.5)), (1, K - 1))], [image()], num_classes=K)


def test_targets_count_differs_from_images():
    with pytest.raises(ValueError, match="2 images but 1 targets"):
        check_targets([target()], [image(), image()], num_classes=K)


def test_single_dict_instead_of_list():
    with pytest.raises(TypeError, match=r"targets must be a list.*pass \[target\]"):
        check_targets(target(), [image()], num_classes=K)


def test_missing_key():
    with pytest.raises(ValueError, match=r"targets\[0\] lacks \['labels'\]"):
        check_targets([{"boxes": torch.zeros(0, 4)}], [image()], num_classes=K)


def test_boxes_not_floating():
    t = target()
    t["boxes"] = t["boxes"].long()
    with pytest.raises(TypeError, match=r"targets\[0\]\['boxes'\] has dtype torch\.int64.*floating point"):
        check_targets([t], [image()], num_classes=K)


def test_boxes_wrong_shape():
    t = target()
    t["boxes"] = t["boxes"][0]
    with pytest.raises(ValueError, match=r"must be Tensor\[N, 4\], got shape \(4,\); for one box use box\[None\]"):
        check_targets([t], [image()], num_classes=K)


def test_boxes_not_finite():
    with pytest.raises(ValueError, match=r"targets\[0\]\['boxes'\]\[1\] = \[1, nan, 5, 6\] is not finite"):
        check_targets([target(((1, 2, 5, 6), (1, float("nan"), 5, 6)), (1, 2))], [image()], num_classes=K)


def test_flipped_box_named_with_its_values_and_the_rule():
    t = target(((1, 2, 5, 6), (10, 4, 8, 9)), (1, 2))
    with pytest.raises(ValueError, match=r"targets\[0\]\['boxes'\]\[1\] = \[10, 4, 8, 9\] breaks the rule: "
                                         r"xyxy in pixels, x1 < x2 and y1 < y2 \(xywh boxes"):
        check_targets([t], [image()], num_classes=K)


def test_xywh_box_with_w_below_x():
    t = target(((20, 5, 6, 8),))   # x, y, w, h: a 6 x 8 box at (20, 5)
    with pytest.raises(ValueError, match="x1 < x2 and y1 < y2"):
        check_targets([t], [image()], num_classes=K)


def test_zero_width_box():
    with pytest.raises(ValueError, match="x1 < x2 and y1 < y2"):
        check_targets([target(((4, 4, 4, 9),))], [image()], num_classes=K)


def test_box_outside_image_gives_the_size():
    t = target(((10, 5, 50, 20),))   # x2 = 50 > W + 1 = 49
    with pytest.raises(ValueError, match=r"\[10, 5, 50, 20\] lies outside its 48 x 32 \(W x H\) image"):
        check_targets([t], [image(32, 48)], num_classes=K)
    with pytest.raises(ValueError, match="lies outside"):
        check_targets([target(((-1.5, 0, 4, 4),))], [image()], num_classes=K)


def test_float_labels():
    t = target()
    t["labels"] = t["labels"].float()
    with pytest.raises(TypeError, match=r"targets\[0\]\['labels'\] has dtype torch\.float32.*labels\.long\(\)"):
        check_targets([t], [image()], num_classes=K)


def test_labels_wrong_shape():
    t = target()
    t["labels"] = t["labels"][:, None]
    with pytest.raises(ValueError, match=r"must be Tensor\[N\], got shape \(1, 1\)"):
        check_targets([t], [image()], num_classes=K)


def test_background_label():
    with pytest.raises(ValueError, match=r"\['labels'\]\[0\] = 0.*0 is background, not an object label"):
        check_targets([target(labels=(0,))], [image()], num_classes=K)


def test_label_too_large():
    with pytest.raises(ValueError, match=rf"= {K}; labels must satisfy 1 <= label < num_classes = {K}"):
        check_targets([target(labels=(K,))], [image()], num_classes=K)


def test_labels_and_boxes_differ_in_length():
    with pytest.raises(ValueError, match="has 2 labels but boxes has 1 boxes"):
        check_targets([target(labels=(1, 2))], [image()], num_classes=K)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        check_targets([target()], [image()], num_classes=1)


def test_keypoints_shape_and_finite():
    keys = ("boxes", "labels", "keypoints")
    t = target()
    t["keypoints"] = torch.zeros(1, 14, 3)
    check_targets([t], [image()], num_classes=K, keys=keys)
    t["keypoints"] = torch.zeros(1, 14, 2)
    with pytest.raises(ValueError, match=r"\['keypoints'\] must be Tensor\[N, K, 3\]"):
        check_targets([t], [image()], num_classes=K, keys=keys)
    t["keypoints"] = torch.full((1, 14, 3), float("inf"))
    with pytest.raises(ValueError, match=r"\['keypoints'\] holds NaN or infinite"):
        check_targets([t], [image()], num_classes=K, keys=keys)


def test_masks_match_the_image_size():
    keys = ("boxes", "labels", "masks")
    t = target()
    t["masks"] = torch.zeros(1, 32, 48, dtype=torch.uint8)
    check_targets([t], [image(32, 48)], num_classes=K, keys=keys)
    t["masks"] = torch.zeros(1, 48, 32, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"\['masks'\] must be Tensor\[N, H, W\] = \[1, 32, 48\]"):
        check_targets([t], [image(32, 48)], num_classes=K, keys=keys)


# ---------------------------------------------------------------- proposals

def test_valid_proposals_pass():
    check_proposals([torch.tensor([[0.0, 0.0, 5.0, 5.0]]), torch.zeros(0, 4)], [image(), image()])


def test_proposals_single_tensor():
    with pytest.raises(TypeError, match="proposals must be a list"):
        check_proposals(torch.zeros(3, 4), [image()])


def test_proposals_count_differs():
    with pytest.raises(ValueError, match="2 images but 1 proposals"):
        check_proposals([torch.zeros(3, 4)], [image(), image()])


def test_proposals_wrong_shape():
    with pytest.raises(ValueError, match=r"proposals\[0\] must be Tensor\[R, 4\]"):
        check_proposals([torch.zeros(3, 5)], [image()])


def test_proposals_not_floating():
    with pytest.raises(TypeError, match=r"proposals\[0\] has dtype torch\.int64"):
        check_proposals([torch.zeros(3, 4, dtype=torch.int64)], [image()])


def test_proposals_not_finite():
    with pytest.raises(ValueError, match=r"proposals\[0\] holds NaN or infinite"):
        check_proposals([torch.tensor([[0.0, 0.0, float("nan"), 5.0]])], [image()])


# ---------------------------------------------------------------- real data

@pytest.mark.parametrize("size", [64, 96, 128])
def test_scenes_pass(size):
    data = Scenes(40, seed=size, size=size)
    images, targets = Scenes.collate([data[i] for i in range(len(data))])
    check_images(images)
    check_targets(targets, images, num_classes=K, keys=("boxes", "labels", "keypoints", "masks", "captions"))
    persons = Scenes(10, seed=size, size=size, classes=("person",), n_objects=(1, 1))
    images, targets = Scenes.collate([persons[i] for i in range(len(persons))])
    check_targets(targets, images, num_classes=K, keys=("boxes", "labels", "keypoints", "masks"))
