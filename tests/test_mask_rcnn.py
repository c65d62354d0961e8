"""Mask R-CNN (cvlib.models.instance.mask_rcnn, cvlib.models.detection.mask_head): the mask targets,
loss and paste equal torchvision's; the detection contract; input checks; a short training."""
import pytest
import torch
from torchvision.models.detection.roi_heads import maskrcnn_loss, paste_masks_in_image, project_masks_on_boxes

from cvlib.data import Scenes
from cvlib.models.detection import FasterRCNN, FasterRCNNConfig, RoIHeadsConfig, RPNConfig
from cvlib.models.detection.mask_head import MaskHeadConfig, mask_loss, mask_targets, paste_masks
from cvlib.models.detection.roi_heads import positives
from cvlib.models.instance import MaskRCNN, MaskRCNNConfig, instance_loader
from cvlib.train import fit


def random_masks(g, h, w, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(g, h, w, generator=gen) > 0.5).to(torch.uint8)


def random_boxes(n, size, seed=0, lo=-6.0):
    """Fractional xyxy boxes, some crossing the image's edges."""
    gen = torch.Generator().manual_seed(seed)
    xy = lo + torch.rand(n, 2, generator=gen) * (size - 10)
    wh = 1.5 + torch.rand(n, 2, generator=gen) * size / 2
    return torch.cat([xy, xy + wh], dim=1)


def small_config(pooler="roi_align"):
    rpn = RPNConfig(sizes=(12, 24), pre_nms_top_n_train=100, post_nms_top_n_train=50,
                    pre_nms_top_n_test=100, post_nms_top_n_test=50)
    faster = FasterRCNNConfig(channels=(8, 16, 8), rpn=rpn, roi_heads=RoIHeadsConfig(pooler=pooler, hidden=32))
    return MaskRCNNConfig(faster_rcnn=faster, mask=MaskHeadConfig(channels=8, layers=2))


@pytest.fixture(scope="module")
def scenes():
    data = Scenes(4, seed=0, size=64)
    return [data[i] for i in range(4)]


# ---------------------------------------------------------------- equal to torchvision

def test_mask_targets_equal_torchvision():
    gt = random_masks(3, 40, 50)
    boxes = random_boxes(12, 40)
    objects = torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(1))
    ours = mask_targets(gt, boxes, objects, 28, aligned=False)
    torch.testing.assert_close(ours, project_masks_on_boxes(gt, boxes, objects, 28))
    assert ours.shape == (12, 28, 28) and ours.dtype == torch.float32


def test_mask_loss_equals_torchvision():
    gen = torch.Generator().manual_seed(2)
    gt_masks = [random_masks(3, 32, 32, seed=3), random_masks(2, 32, 32, seed=4)]
    gt_labels = [torch.tensor([1, 4, 5]), torch.tensor([2, 2])]
    proposals = [random_boxes(5, 32, seed=5, lo=0.0), random_boxes(4, 32, seed=6, lo=0.0)]
    matched = [torch.randint(0, 3, (5,), generator=gen), torch.randint(0, 2, (4,), generator=gen)]
    logits = torch.randn(9, 6, 28, 28, generator=gen)
    labels = torch.cat([lab[m] for lab, m in zip(gt_labels, matched)])
    targets = torch.cat([mask_targets(g, p, m, 28, aligned=False) for g, p, m in zip(gt_masks, proposals, matched)])
    ours = mask_loss(logits, labels, targets)
    torch.testing.assert_close(ours, maskrcnn_loss(logits, proposals, gt_masks, gt_labels, matched))
    empty = logits[:0].requires_grad_()
    zero = mask_loss(empty, labels[:0], targets[:0])
    assert zero.item() == 0 and zero.requires_grad


def test_paste_masks_equal_torchvision():
    gen = torch.Generator().manual_seed(7)
    masks = torch.rand(10, 1, 28, 28, generator=gen)
    boxes = random_boxes(10, 48, seed=8)                      # fractional, some outside the image
    ours = paste_masks(masks, boxes, (48, 56), aligned=False)
    torch.testing.assert_close(ours, paste_masks_in_image(masks, boxes, (48, 56)))
    assert paste_masks(masks[:0], boxes[:0], (48, 56)).shape == (0, 1, 48, 56)


def test_aligned_round_trip_puts_the_mask_back():
    """aligned=True: a mask cut to its box at 28 x 28 and pasted back lands where it was; torchvision's
    convention (aligned=False) shifts it and snaps the box to whole pixels, which costs small objects."""
    yy, xx = torch.meshgrid(torch.arange(64) + 0.5, torch.arange(64) + 0.5, indexing="ij")
    ious = {}
    for r in (5, 11):
        m = (((xx - 30.3) ** 2 + (yy - 25.8) ** 2) < r ** 2).to(torch.uint8)[None]     # a disk, [1, H, W]
        ys, xs = torch.nonzero(m[0], as_tuple=True)
        box = torch.tensor([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=torch.float32)
        for aligned in (True, False):
            target = mask_targets(m, box, torch.zeros(1, dtype=torch.int64), 28, aligned)
            back = paste_masks(target[:, None], box, (64, 64), aligned)[0, 0] > 0.5
            ious[r, aligned] = float((back & m[0].bool()).sum() / (back | m[0].bool()).sum())
    assert ious[5, True] == 1.0 and ious[11, True] == 1.0
    assert ious[5, False] < 0.85 and ious[11, False] < 0.97


def test_positives_keeps_object_rois_per_image():
    proposals = [torch.arange(12.0).view(3, 4), torch.arange(8.0).view(2, 4)]
    labels = torch.tensor([2, 0, 5, 5, 0])
    objects = [torch.tensor([1, -1, 0]), torch.tensor([2, -1])]
    boxes, kept, matched = positives(proposals, labels, objects)
    assert [len(b) for b in boxes] == [2, 1] and kept.tolist() == [2, 5, 5]
    assert [m.tolist() for m in matched] == [[1, 0], [2]]
    boxes, kept, matched = positives(proposals, labels, objects, label=5)
    assert [len(b) for b in boxes] == [1, 1] and kept.tolist() == [5, 5]


# ---------------------------------------------------------------- the model's contract

def test_eval_output_has_masks_in_the_image(scenes):
    torch.manual_seed(0)
    model = MaskRCNN(small_config()).eval()
    images = [scenes[0][0], scenes[1][0][:, :48, :56]]           # two sizes
    with torch.no_grad():
        out = model(images)
    for d, image in zip(out, images):
        assert set(d) == {"boxes", "labels", "scores", "masks"}
        n, (h, w) = len(d["boxes"]), image.shape[-2:]
        assert d["masks"].shape == (n, 1, h, w) and d["masks"].dtype == torch.float32
        assert n > 0 and 0 <= d["masks"].min() and d["masks"].max() <= 1


def test_train_mode_returns_torchvision_loss_keys_and_box_losses_unchanged(scenes):
    images, targets = [s[0] for s in scenes[:2]], [s[1] for s in scenes[:2]]
    cfg = small_config()
    torch.manual_seed(0)
    model = MaskRCNN(cfg).train()
    torch.manual_seed(0)
    faster = FasterRCNN(cfg.faster_rcnn).train()            # built first inside MaskRCNN: the same weights
    torch.manual_seed(1)
    losses = model(images, targets)
    torch.manual_seed(1)
    box_losses = faster(images, targets)
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_mask"}
    for key, value in box_losses.items():
        torch.testing.assert_close(losses[key], value)
    assert torch.isfinite(losses["loss_mask"]) and losses["loss_mask"] > 0
    sum(losses.values()).backward()
    assert model.roi_heads.mask_branch.predictor.logits.weight.grad.abs().sum() > 0


def test_roi_pool_variant_and_config_checks():
    model = MaskRCNN(small_config("roi_pool"))
    assert model.roi_heads.mask_branch.pooler.kind == "roi_pool"
    assert model.roi_heads.mask_branch.pooler.output_size == 14 and MaskHeadConfig().mask_size == 28
    assert MaskRCNN().roi_heads.pooler.kind == "roi_align"       # Mask R-CNN's default pooler
    with pytest.raises(ValueError, match="MaskHeadConfig.pool_size"):
        MaskHeadConfig(pool_size=0)
    with pytest.raises(ValueError, match="MaskHeadConfig.layers"):
        MaskHeadConfig(layers=-1)


def test_train_mode_without_targets_raises(scenes):
    model = MaskRCNN(small_config()).train()
    with pytest.raises(ValueError, match="needs targets"):
        model([scenes[0][0]])


@pytest.mark.parametrize("bad, error, message", [
    (lambda t: {**t, "masks": t["masks"][:, :32]}, ValueError, r"targets\[0\]\['masks'\] must be Tensor\[N, H, W\]"),
    (lambda t: {**t, "masks": t["masks"][:-1]}, ValueError, r"targets\[0\]\['masks'\]"),
    (lambda t: {k: v for k, v in t.items() if k != "masks"}, ValueError, r"targets\[0\] lacks \['masks'\]"),
    (lambda t: {**t, "masks": t["masks"].long()}, TypeError, r"targets\[0\]\['masks'\] has dtype torch.int64"),
    (lambda t: {**t, "masks": t["masks"] * 255}, ValueError, r"targets\[0\]\['masks'\] holds values up to 255"),
    (lambda t: {**t, "masks": t["masks"].float() * 2}, ValueError, r"targets\[0\]\['masks'\] has values in"),
])
def test_bad_masks_raise_naming_the_argument(scenes, bad, error, message):
    model = MaskRCNN(small_config()).train()
    image, target = scenes[0]
    with pytest.raises(error, match=message):
        model([image], [bad(target)])


def test_short_training_is_finite(scenes):
    torch.manual_seed(0)
    model = MaskRCNN(small_config())
    history = fit(model, instance_loader(scenes, 2), steps=4, lr=1e-3, progress=False)
    assert history.steps == 4 and all(torch.isfinite(torch.tensor(v)).all() for v in history.losses.values())
    assert "loss_mask" in history.losses and not model.training


def test_chapter_recipe_builds_both_poolers():
    from cvlib.recipes.faster_rcnn import SWEEP, load_sweep
    from cvlib.recipes.mask_rcnn import Recipe

    recipe = Recipe.for_profile("quick")
    for pooler in ("roi_align", "roi_pool"):
        model = MaskRCNN(recipe.config(pooler))
        assert model.roi_heads.pooler.kind == model.roi_heads.mask_branch.pooler.kind == pooler
        runs = [r for r in load_sweep(SWEEP, recipe.detector)["runs"] if r["pooler"] == pooler]
        assert recipe.lr(pooler) == max(runs, key=lambda r: r["val_map50"])["lr"]
    assert Recipe.for_profile("full").steps > recipe.steps
    with pytest.raises(ValueError, match="profile"):
        Recipe.for_profile("medium")
    with pytest.raises(ValueError, match="no run with pooler"):
        recipe.lr("max")


def test_train_mask_rcnns_side_by_side_gives_trained_models_in_eval_mode():
    from dataclasses import replace
    from cvlib.data import Scenes
    from cvlib.recipes.mask_rcnn import Recipe, train_mask_rcnns
    recipe = Recipe()
    recipe = replace(recipe, steps=2)
    train = [Scenes(4, seed=1, size=96)[i] for i in range(4)]
    models, histories = train_mask_rcnns(("roi_align", "roi_pool"), 0, train, recipe, jobs=1)   # in-process: spawn is tested in test_fcn_recipe
    assert list(models) == ["roi_align", "roi_pool"]
    for pooler, model in models.items():
        assert not model.training and model.cfg.faster_rcnn.roi_heads.pooler == pooler
        assert histories[pooler].steps == 2 and "loss_mask" in histories[pooler].losses


def test_train_mask_rcnns_runs_more_trainings_in_the_same_pool():
    """`also`: the chapter's FCN trains in the pool of the two Mask R-CNNs; each result is what it would be alone."""
    from dataclasses import replace
    from cvlib.models.segmentation.fcn import DownUpFCN
    from cvlib.recipes import fcn as fcn_recipes
    from cvlib.recipes.mask_rcnn import Recipe, train_mask_rcnns
    recipe = Recipe()
    recipe = replace(recipe, steps=2)
    train = [Scenes(4, seed=1, size=96)[i] for i in range(4)]
    fcn_recipe = replace(fcn_recipes.Recipe(), steps=3, n_train=8, batch=4)
    fcn_train = fcn_recipe.scenes("train")
    also = {"fcn": (fcn_recipes.train_fcn, ("transpose", 1e-3, 0, fcn_train, fcn_recipe, "cpu"),
                    lambda: DownUpFCN(fcn_recipe.fcn_config("transpose")))}
    models, histories = train_mask_rcnns(("roi_align",), 0, train, recipe, also=also)
    assert list(models) == ["roi_align", "fcn"] and histories["fcn"].steps == 3
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                       # as each worker of the pool on two cores
    try:
        alone, _ = fcn_recipes.train_fcn("transpose", 1e-3, 0, fcn_train, fcn_recipe, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert not models["fcn"].training
    for a, b in zip(alone.state_dict().values(), models["fcn"].state_dict().values()):
        assert torch.equal(a, b)

