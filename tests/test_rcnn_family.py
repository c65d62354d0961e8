"""start_from_faster_rcnn: the family's Faster R-CNN copied into a model with a new branch."""
import pytest
import torch

from cvlib.models.captioning import DenseCap, Vocabulary
from cvlib.models.detection import FasterRCNN, FasterRCNNConfig
from cvlib.models.instance import MaskRCNN
from cvlib.recipes import rcnn_family
from cvlib.recipes.densecap import Recipe as DenseCapRecipe
from cvlib.recipes.mask_rcnn import Recipe as MaskRCNNRecipe


def faster_weights():
    return rcnn_family.load_family()[0]["Faster R-CNN"].state_dict()


def test_mask_rcnn_gets_the_detector_and_keeps_its_new_branch():
    torch.manual_seed(0)
    model = MaskRCNN(MaskRCNNRecipe().config("roi_align"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    meta = rcnn_family.start_from_faster_rcnn(model)
    assert meta["steps"] == 600 and 0 < meta["test_map50"] <= 1
    source, after = faster_weights(), model.state_dict()
    copied = [k for k in after if k.startswith(rcnn_family.PARTS + ("roi_heads.predictor.",))]
    assert copied and all(torch.equal(after[k], source[k]) for k in copied)
    branch = [k for k in after if k.startswith("roi_heads.mask_branch.")]
    assert branch and all(torch.equal(after[k], before[k]) for k in branch)


def test_densecap_keeps_its_own_object_head():
    torch.manual_seed(0)
    model = DenseCap(Vocabulary(["small", "red", "circle"]), DenseCapRecipe().config())
    head = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("roi_heads.predictor.")}
    rcnn_family.start_from_faster_rcnn(model, predictor=False)
    source, after = faster_weights(), model.state_dict()
    assert all(torch.equal(after[k], head[k]) for k in head)
    shared = [k for k in after if k.startswith(rcnn_family.PARTS)]
    assert shared and all(torch.equal(after[k], source[k]) for k in shared)
    with pytest.raises(ValueError, match="does not fit"):
        rcnn_family.start_from_faster_rcnn(model)          # 2 classes, not the detector's 6


def test_a_model_of_other_widths_is_refused_by_name():
    with pytest.raises(ValueError, match="backbone"):
        rcnn_family.start_from_faster_rcnn(FasterRCNN(FasterRCNNConfig(channels=(8, 8, 8))))


def test_missing_weights_name_the_script(tmp_path, monkeypatch):
    monkeypatch.setattr(rcnn_family, "WEIGHTS", tmp_path)
    with pytest.raises(FileNotFoundError, match="train_rcnn_family.py"):
        rcnn_family.start_from_faster_rcnn(MaskRCNN(MaskRCNNRecipe().config("roi_align")))
