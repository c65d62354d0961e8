"""DenseCap: the vocabulary, the language model's decoding, the model contract, the metric, bad input."""
import pytest
import torch

from cvlib.data import Scenes
from cvlib.data.captions import grammar_words
from cvlib.models.captioning import CaptionHeadConfig, CaptionLSTM, DenseCap, DenseCapConfig, Vocabulary, describe
from cvlib.models.captioning.metrics import (average_precision, caption_accuracy, caption_similarity,
                                             dense_captioning_map)
from cvlib.models.detection import FasterRCNNConfig


# ---------------------------------------------------------------- vocabulary

def test_vocabulary_round_trip_and_special_tokens():
    vocab = Vocabulary.from_captions(["small red circle", "person in red kicking"])
    assert vocab.words[:3] == ["<pad>", "<start>", "<end>"] and len(vocab) == 3 + 6
    ids = vocab.encode("red circle")
    assert ids[0] == vocab.start and ids[-1] == vocab.end and ids.dtype == torch.int64
    assert vocab.decode(ids) == "red circle"
    assert vocab.decode([vocab.start, vocab.index["red"], vocab.end, vocab.index["circle"]]) == "red"
    batch = vocab.encode_batch(["red", "small red circle"])
    assert batch.shape == (2, 5) and batch[0, 3:].tolist() == [vocab.pad, vocab.pad]


def test_vocabulary_errors_name_the_problem():
    vocab = Vocabulary(["red", "circle"])
    with pytest.raises(ValueError, match=r"'blue'.*not in the vocabulary"):
        vocab.encode("blue circle")
    with pytest.raises(ValueError, match="empty"):
        vocab.encode("  ")
    with pytest.raises(TypeError, match="must be a str"):
        vocab.encode(3)
    with pytest.raises(ValueError, match="id 99"):
        vocab.decode([99])
    with pytest.raises(ValueError, match="without spaces"):
        Vocabulary(["two words"])


# ---------------------------------------------------------------- language model

def test_beam_of_one_is_greedy_and_beam_never_scores_worse():
    torch.manual_seed(0)
    lm = CaptionLSTM(12, 16).eval()
    codes = torch.randn(6, 16)
    greedy = lm.decode(codes, beam=1, max_words=6)
    _, ids = lm.trace(codes[:1], max_words=6)
    assert greedy[0, :len(ids)].tolist() == ids

    def logprob(row, code):
        tokens = torch.cat([torch.tensor([1]), row[row > 0]])
        if tokens[-1] != 2:
            return None
        with torch.no_grad():
            logits = lm.logits(code[None], tokens[None])[0, 1:]
        return float(logits.log_softmax(-1).gather(1, tokens[1:, None]).sum())

    beam = lm.decode(codes, beam=4, max_words=6)
    for r in range(len(codes)):
        g, b = logprob(greedy[r], codes[r]), logprob(beam[r], codes[r])
        if g is not None and b is not None:
            assert b >= g - 1e-5


def test_teacher_forcing_learns_a_caption():
    torch.manual_seed(0)
    lm = CaptionLSTM(8, 16)
    codes = torch.randn(2, 16)
    tokens = torch.tensor([[1, 3, 4, 5, 2], [1, 6, 7, 2, 0]])
    opt = torch.optim.Adam(lm.parameters(), 1e-2)
    for _ in range(150):
        opt.zero_grad()
        lm.loss(codes, tokens).backward()
        opt.step()
    lm.eval()
    out = lm.decode(codes, beam=2, max_words=5)
    assert out[0, :4].tolist() == [3, 4, 5, 2] and out[1, :3].tolist() == [6, 7, 2]


# ---------------------------------------------------------------- model contract

@pytest.fixture(scope="module")
def scenes():
    return Scenes(4, seed=1, size=64)[:]


def small(beam=1):
    return DenseCapConfig(detector=FasterRCNNConfig(num_classes=2, channels=(8, 8, 8)),
                          caption=CaptionHeadConfig(width=32, beam=beam, max_words=6))


def test_train_returns_losses_and_eval_returns_boxes_scores_captions(scenes):
    torch.manual_seed(0)
    model = DenseCap(Vocabulary(grammar_words()), small())
    images, targets = [im for im, _ in scenes], [t for _, t in scenes]
    losses = model(images, targets)
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_caption"}
    sum(losses.values()).backward()
    assert model.roi_heads.caption_branch.lm.out.weight.grad.abs().sum() > 0
    model.eval()
    for beam in (1, 3):
        model.roi_heads.caption_branch.cfg.beam = beam
        out = model(images[:2])
        for d in out:
            assert d["boxes"].shape[1] == 4 and len(d["scores"]) == len(d["boxes"]) == len(d["captions"])
            assert all(isinstance(c, str) for c in d["captions"])
    said = model.caption_boxes(images[:1], [targets[0]["boxes"]])
    assert len(said[0]) == len(targets[0]["boxes"])
    assert len(describe(model, scenes)) == len(scenes)


def test_bad_training_input_is_named(scenes):
    model = DenseCap(Vocabulary(["small", "red", "circle"]), small())
    image, target = scenes[0]
    with pytest.raises(ValueError, match=r"targets\[0\]\['captions'\]\[0\].*not in the vocabulary"):
        model([image], [target])
    with pytest.raises(ValueError, match=r"targets\[0\] has no 'captions'"):
        model([image], [{"boxes": target["boxes"], "labels": target["labels"]}])
    one = {"boxes": target["boxes"][:1], "captions": [""]}
    with pytest.raises(ValueError, match="empty"):
        model([image], [one])
    with pytest.raises(ValueError, match="captions"):
        model([image], [{"boxes": target["boxes"][:1], "captions": ["red", "circle"]}])
    with pytest.raises(ValueError, match="needs targets"):
        model([image])
    with pytest.raises(TypeError, match="Vocabulary"):
        DenseCap(["red"], small())
    with pytest.raises(ValueError, match="class-agnostic"):
        DenseCapConfig(detector=FasterRCNNConfig(num_classes=6))
    with pytest.raises(ValueError, match="beam"):
        CaptionHeadConfig(beam=0)
    with pytest.raises(ValueError, match="multiple of 4"):
        CaptionHeadConfig(pixel_size=30)
    with pytest.raises(ValueError, match="min_iou"):
        CaptionHeadConfig(min_iou=1.5)
    with pytest.raises(ValueError, match="word_weight"):
        CaptionHeadConfig(word_weight=-1.0)


def test_word_head_is_a_weighted_bag_of_words_cross_entropy():
    """word_weight > 0: loss_words, the binary cross-entropy of "is this word in the caption?" over the
    vocabulary's words (not PAD, START, END), times the weight; off by default."""
    import torch.nn.functional as F
    from cvlib.models.captioning.caption_head import CaptionBranch
    vocab = Vocabulary(["red", "small", "circle", "square"])
    tokens = [vocab.encode_batch(["small red circle", "square"])]
    objects, codes = [torch.tensor([1, 0])], torch.randn(2, 16)
    assert set(CaptionBranch(8, vocab, CaptionHeadConfig(width=16)).loss(codes, objects, tokens)) == {"loss_caption"}
    branch = CaptionBranch(8, vocab, CaptionHeadConfig(width=16, word_weight=0.5))
    losses = branch.loss(codes, objects, tokens)
    present = torch.tensor([[0, 0, 0, 1.], [1, 1, 1, 0]])       # the words in sorted order: circle red small square
    expected = 0.5 * F.binary_cross_entropy_with_logits(branch.words(codes)[:, 3:], present)
    assert vocab.words[3:] == ["circle", "red", "small", "square"]
    assert torch.allclose(losses["loss_words"], expected)


def test_place_code_is_the_centre_and_size_with_sin_and_cos():
    from cvlib.models.captioning.caption_head import FREQUENCIES, box_places, fourier
    places = box_places([torch.tensor([[0, 0, 48, 24.]]), torch.tensor([[48, 72, 96, 96.]])], [(96, 96), (96, 96)])
    assert torch.allclose(places, torch.tensor([[0.25, 0.125, 0.5, 0.25], [0.75, 0.875, 0.5, 0.25]]))
    code = fourier(places)
    assert code.shape == (2, 4 * (1 + 2 * FREQUENCIES))
    assert torch.allclose(code[:, :4], places)
    assert torch.allclose(code[0, 4], torch.sin(torch.tensor(torch.pi * 0.25)), atol=1e-6)


def test_caption_loss_keeps_only_the_rois_close_to_their_object(scenes, monkeypatch):
    """min_iou: the caption branch learns from the object RoIs overlapping their object that much."""
    model = DenseCap(Vocabulary(grammar_words()), small())
    heads, seen = model.roi_heads, []
    codes = heads.codes
    monkeypatch.setattr(heads, "codes", lambda inputs, boxes, sizes: seen.append(boxes) or codes(inputs, boxes, sizes))
    image, target = scenes[0]
    box = target["boxes"][:1]
    near = box + torch.tensor([1.0, 0, 1.0, 0])                        # IoU well above 0.7
    w = float(box[0, 2] - box[0, 0])
    far = box + torch.tensor([0.4 * w, 0, 0.4 * w, 0])                 # IoU about 0.43..0.7
    proposals = [torch.cat([box, near, far])]
    tokens = model.vocab.encode_batch(target["captions"][:1])
    instances = (proposals, torch.ones(3, dtype=torch.int64), [torch.zeros(3, dtype=torch.int64)])
    feats = model.backbone(image[None])
    heads._forward_caption((feats, image[None]), instances, [(64, 64)], [{"boxes": box, "tokens": tokens}])
    kept = seen[-1][0]
    from torchvision.ops import box_iou
    assert (box_iou(kept, box)[:, 0] >= 0.7).all() and len(kept) == 2


# ---------------------------------------------------------------- metric

def truth():
    return [{"boxes": torch.tensor([[0, 0, 10, 10], [20, 20, 40, 40.]]),
             "captions": ["small red circle at the top left", "person in red kicking in the centre"]},
            {"boxes": torch.tensor([[5, 5, 30, 30.]]), "captions": ["large blue square in the centre"]}]


def perfect():
    return [{"boxes": t["boxes"].clone(), "scores": torch.linspace(0.9, 0.5, len(t["boxes"])),
             "captions": list(t["captions"])} for t in truth()]


def test_perfect_predictions_score_one():
    result = dense_captioning_map(perfect(), truth())
    assert result["map"] == pytest.approx(1.0) and all(v == pytest.approx(1.0) for v in result["box_ap"].values())
    acc = caption_accuracy(perfect(), truth())
    assert acc["exact_match"] == 1.0 and acc["matched"] == 3 and set(acc["attributes"].values()) == {1.0}
    assert acc["counts"]["pose"] == 1 and acc["counts"]["size"] == 2


def test_wrong_captions_lower_the_caption_scores_not_the_boxes():
    preds = perfect()
    preds[0]["captions"][0] = "small blue circle at the top left"       # one wrong word
    preds[1]["captions"][0] = "large blue square"                        # the place left out
    result = dense_captioning_map(preds, truth())
    assert result["box_ap"][0.5] == pytest.approx(1.0)
    assert result["ap"][(0.5, 0.0)] == pytest.approx(1.0)               # similarity >= 0: boxes only
    # only one caption is exact, the third by score: precision 1/3 at recall 1/3
    assert result["ap"][(0.5, 1.0)] == pytest.approx(1 / 9)
    assert result["map"] < 1
    acc = caption_accuracy(preds, truth())
    assert acc["exact_match"] == pytest.approx(1 / 3)
    assert acc["attributes"]["colour"] == pytest.approx(2 / 3) and acc["attributes"]["where"] == pytest.approx(2 / 3)
    assert acc["attributes"]["shape"] == 1.0


def test_wrong_boxes_lower_the_map():
    preds = perfect()
    preds[1]["boxes"][0] = torch.tensor([60, 60, 80, 80.])               # misses its object
    preds[0]["boxes"][1] = torch.tensor([20, 20, 40, 52.])               # IoU 0.625
    result = dense_captioning_map(preds, truth())
    # by score: hit, miss (image 1), hit: precision 1 at recall 1/3, 2/3 at recall 2/3
    assert result["box_ap"][0.3] == pytest.approx(1 / 3 + 1 / 3 * 2 / 3) and result["box_ap"][0.7] < result["box_ap"][0.6]
    assert result["map"] < 0.7
    duplicate = perfect()
    duplicate[1] = {k: (torch.cat([v, v]) if torch.is_tensor(v) else v * 2) for k, v in duplicate[1].items()}
    duplicate[1]["scores"][1] = 0.1                                       # a copy of a box, scored lower
    assert dense_captioning_map(duplicate, truth())["box_ap"][0.5] == pytest.approx(1.0)   # the copy ranks last
    assert average_precision([False, True], 1) == pytest.approx(0.5)


def test_similarity_and_metric_input_errors():
    assert caption_similarity("a b c d", "a b c d") == 1.0 and caption_similarity("", "a b") == 0.0
    assert 0 < caption_similarity("small blue circle at the top", "small red circle at the top") < 1
    with pytest.raises(ValueError, match="no box"):
        dense_captioning_map([{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "captions": []}],
                             [{"boxes": torch.zeros(0, 4), "captions": []}])
    preds = perfect()
    preds[0]["captions"] = preds[0]["captions"][:1]
    with pytest.raises(ValueError, match=r"preds\[0\]\['captions'\]"):
        dense_captioning_map(preds, truth())
    bad = truth()
    bad[1]["captions"] = [" "]
    with pytest.raises(ValueError, match="empty caption"):
        dense_captioning_map(perfect(), bad)
    with pytest.raises(ValueError, match="no true box is matched"):
        far = perfect()
        for p in far:
            p["boxes"] = p["boxes"] + 200
        caption_accuracy(far, truth())
