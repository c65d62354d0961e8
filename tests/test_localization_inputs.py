"""The localizer and the pose regressor check their inputs with cvlib.checks, as the detectors do: bad
images (both modes) and bad targets (train mode) raise a ValueError or TypeError naming the argument,
and a model left in train mode without targets raises before BatchNorm sees the batch."""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.models.localization.localizer import Localizer, LocalizerConfig
from cvlib.models.localization.pose import PoseConfig, PoseRegressor

SIZE = 32
MODELS = {
    "localizer": lambda: Localizer(LocalizerConfig(widths=(4, 8, 8), hidden=16)),
    "pose": lambda: PoseRegressor(PoseConfig(widths=(4, 8, 8), hidden=16)),
}


@pytest.fixture(scope="module")
def batches():
    objects = Scenes(3, seed=0, size=SIZE, n_objects=(1, 1), shape_scale=(0.4, 0.6))
    people = Scenes(3, seed=0, size=SIZE, n_objects=(1, 1), classes=("person",))
    out = {}
    for name, data, keys in (("localizer", objects, ("boxes", "labels")), ("pose", people, ("keypoints",))):
        images, targets = zip(*[data[i] for i in range(3)])
        out[name] = list(images), [{k: t[k] for k in keys} for t in targets]
    return out


def changed(targets, i=0, **values):
    out = [dict(t) for t in targets]
    out[i].update(values)
    return out


IMAGE_CASES = [
    ("uint8", TypeError, r"images\[0\] has dtype torch\.uint8; images must be float32 \[3, H, W\] in 0\.\.1",
     lambda im: [(im[0] * 255).to(torch.uint8), *im[1:]]),
    ("values_0_255", ValueError, r"images\[1\] has values in .*for 0\.\.255 values use image / 255",
     lambda im: [im[0], im[1] * 255, im[2]]),
    ("nan", ValueError, r"images\[2\] holds 1 NaN", lambda im: [*im[:2], im[2].clone().index_put_(
        (torch.tensor(0),) * 3, torch.tensor(float("nan")))]),
    ("channels_last", ValueError, r"images\[0\] has shape \(32, 32, 3\), channels last", lambda im: [im[0].permute(1, 2, 0)]),
    ("float64", TypeError, r"images\[0\] is torch\.float64 on cpu but the model's weights are torch\.float32",
     lambda im: [i.double() for i in im]),
    ("batch_uint8", TypeError, r"images has dtype torch\.uint8; images must be float32 \[B, 3, H, W\]",
     lambda im: (torch.stack(im) * 255).to(torch.uint8)),
    ("batch_0_255", ValueError, r"images\[1\] has values in .*use image / 255",
     lambda im: torch.stack([im[0], im[1] * 255, im[2]])),
    ("sizes_differ", ValueError, r"images must all have the same shape", lambda im: [im[0], im[1][:, :16, :16]]),
    ("empty", ValueError, r"images is empty", lambda im: []),
]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case,error,match,breaks", IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_bad_images(batches, name, training, case, error, match, breaks):
    model = MODELS[name]().train(training)
    images, targets = batches[name]
    broken = breaks(images)
    n = len(broken)
    with pytest.raises(error, match=match):
        model(broken, targets[:n] if training else None)


LOCALIZER_TARGETS = [
    ("xywh_box", ValueError, r"targets\[0\]\['boxes'\]\[0\] = \[20, 5, 6, 8\] breaks the rule: xyxy in pixels, x1 < x2",
     lambda t: changed(t, boxes=torch.tensor([[20.0, 5.0, 6.0, 8.0]]))),
    ("nan_box", ValueError, r"targets\[1\]\['boxes'\]\[0\] = \[nan, .* is not finite",
     lambda t: changed(t, 1, boxes=torch.tensor([[float("nan"), 1.0, 5.0, 6.0]]))),
    ("box_outside", ValueError, r"targets\[2\]\['boxes'\]\[0\] = \[2, 2, 80, 20\] lies outside its 32 x 32",
     lambda t: changed(t, 2, boxes=torch.tensor([[2.0, 2.0, 80.0, 20.0]]))),
    ("label_too_large", ValueError, r"targets\[0\]\['labels'\]\[0\] = 6; labels must satisfy 1 <= label < num_classes = 6",
     lambda t: changed(t, labels=torch.tensor([6]))),
    ("float_labels", TypeError, r"targets\[0\]\['labels'\] has dtype torch\.float32",
     lambda t: changed(t, labels=t[0]["labels"].float())),
    ("lengths_differ", ValueError, r"targets\[1\]\['labels'\] has 2 labels but boxes has 1 boxes",
     lambda t: changed(t, 1, labels=torch.tensor([1, 2]))),
    ("two_objects", ValueError, r"a localizer needs exactly one object per image, got 2",
     lambda t: changed(t, boxes=torch.tensor([[1.0, 1, 5, 5], [2, 2, 9, 9]]), labels=torch.tensor([1, 2]))),
    ("missing_boxes", ValueError, r"targets\[0\] lacks \['boxes'\]", lambda t: [{"labels": t[0]["labels"]}, *t[1:]]),
]
POSE_TARGETS = [
    ("nan_keypoints", ValueError, r"targets\[1\]\['keypoints'\] holds NaN or infinite values",
     lambda t: changed(t, 1, keypoints=t[1]["keypoints"].clone().fill_(float("nan")))),
    ("int_keypoints", TypeError, r"targets\[0\]\['keypoints'\] has dtype torch\.int64",
     lambda t: changed(t, keypoints=t[0]["keypoints"].long())),
    ("xy_only", ValueError, r"targets\[0\]\['keypoints'\] must be Tensor\[N, K, 3\]",
     lambda t: changed(t, keypoints=t[0]["keypoints"][..., :2])),
    ("missing", ValueError, r"targets\[2\] lacks \['keypoints'\]", lambda t: [*t[:2], {"labels": torch.tensor([5])}]),
]


@pytest.mark.parametrize("name,case,error,match,breaks",
                         [("localizer", *c) for c in LOCALIZER_TARGETS] + [("pose", *c) for c in POSE_TARGETS],
                         ids=[f"localizer-{c[0]}" for c in LOCALIZER_TARGETS] + [f"pose-{c[0]}" for c in POSE_TARGETS])
def test_bad_targets_train_to_nothing_so_they_raise(batches, name, case, error, match, breaks):
    model = MODELS[name]().train()
    images, targets = batches[name]
    with pytest.raises(error, match=match):
        model(images, breaks(targets))


@pytest.mark.parametrize("name", MODELS)
def test_train_mode_without_targets_raises_and_keeps_the_running_statistics(batches, name):
    model = MODELS[name]().train()
    images, targets = batches[name]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"in train mode .* needs targets.*call model\.eval\(\) to predict"):
        model(images)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert len(model.eval()(images)) == 3                       # what the caller meant
    assert all(torch.isfinite(v).all() for v in model.train()(images, targets).values())


@pytest.mark.parametrize("name", MODELS)
def test_held_out_losses_in_eval_mode_check_targets_too(batches, name):
    model = MODELS[name]().eval()
    images, targets = batches[name]
    key = "boxes" if name == "localizer" else "keypoints"
    broken = changed(targets, **{key: targets[0][key].clone().fill_(float("nan"))})
    with pytest.raises(ValueError, match=rf"targets\[0\]\['{key}'\].*(not finite|NaN)"):
        model.losses(images, broken)


@pytest.mark.parametrize("make,match", [
    (lambda: LocalizerConfig(num_classes=1), r"num_classes .* 2 <= num_classes"),
    (lambda: LocalizerConfig(box_weight=float("nan")), r"box_weight .* must be finite"),
    (lambda: LocalizerConfig(widths=(8, 0)), r"widths\[1\] must be an int with 1 <= widths"),
    (lambda: LocalizerConfig(pool=0), r"pool must be an int with 1 <= pool"),
    (lambda: PoseConfig(num_joints=0), r"num_joints must be an int with 1 <= num_joints"),
    (lambda: PoseConfig(hidden=2.5), r"hidden must be an int"),
    (lambda: PoseConfig(label=0), r"label .* 1 <= label"),
], ids=["one_class", "nan_weight", "zero_width", "zero_pool", "no_joints", "float_hidden", "background_label"])
def test_configs_check_their_numbers(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
