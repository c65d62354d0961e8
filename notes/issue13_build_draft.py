"""Write chapters/04-captioning/densecap.ipynb from the cells below (unexecuted)."""
import nbformat

cells = []


def md(s):
    cells.append(nbformat.v4.new_markdown_cell(s.strip("\n")))


def code(s):
    cells.append(nbformat.v4.new_code_cell(s.strip("\n")))


md(r"""
# DenseCap: a caption for every region

A detector says *what* each region is with one word from a fixed list of classes. **Dense
captioning** (Johnson, Karpathy and Fei-Fei, 2016) says it with a sentence: instead of a category
per region, it predicts a **caption per region**, with a recurrent language model.

The machinery is Faster R-CNN's, nearly unchanged:

1. the backbone runs once on the image: a feature map;
2. the region proposal network proposes boxes;
3. RoIAlign cuts a fixed-size feature out of the map for every box;
4. a **box branch** scores each region (object or not: one *objectness*, no classes) and refines
   its box with 4 offsets;
5. a **caption branch** replaces the class head: an LSTM, whose first input is the region's code,
   says the caption word by word.

This chapter trains it on Scenes, whose captions say what a class does not (size, colour, shape or
pose, place in the image, occlusion), steps through the language model word by word, compares
greedy decoding with a beam, and scores the captions on held-out scenes with the paper's
dense-captioning mAP, exact match and per-attribute accuracy.
""")

code(r"""
from cvlib import runtime

device, profile = runtime.device(), runtime.profile()
runtime.seed(0)
print(f"device: {device}, profile: {profile}")
""")

md(r"""
## Data: scenes and their captions

Three splits of 96 x 96 scenes: training, **validation** (every choice of this chapter is made on
it) and **test** (used once, at the end). Each object's caption comes from the small grammar of
`cvlib.data.captions` (see the Scenes chapter): `size colour shape` or `person in colour pose`,
then its place (the cell of a 3 x 3 grid holding its box's centre), then "partly hidden" when
other objects cover at least 10 % of it. The vocabulary is every word of the training captions.
""")

code(r"""
# NBVAL_CHECK_OUTPUT
import torch
from cvlib.recipes.densecap import SPLIT_SEEDS, Recipe

recipe = Recipe.for_profile(profile)
train, val = recipe.scenes("train"), recipe.scenes("validation")
vocab = recipe.vocabulary(train)
seen = {c for _, t in train for c in t["captions"]}
for name, items in (("train", train), ("validation", val)):
    caps = [c for _, t in items for c in t["captions"]]
    new = sum(c not in seen for c in caps)
    print(f"{name:>10}: {len(items)} scenes (seed {SPLIT_SEEDS[name]}), "
          f"{len(caps)} captions, {len(set(caps))} distinct, "
          f"{new} not in the training set")
print(vocab, "\n", " ".join(vocab.words))
print("e.g.", train[0][1]["captions"])
print("as ids:", vocab.encode(train[0][1]["captions"][0]).tolist())
""")

md(r"""
Most captions are rare: a caption combines five or six attributes, so a held-out scene is full of
combinations the training set never showed. A classifier with one class per caption could not
name them; a language model, which says one attribute after the other, can.

## From detection to captioning

`cvlib.models.captioning.DenseCap` is a `TwoStageDetector`: the Faster R-CNN backbone and RPN, and
RoI heads with two branches. The box branch is Faster R-CNN's with two classes (background and
object). The caption branch pools each region again, turns the pooled feature into a region code
and hands it to the LSTM. Two additions to the pooled feature, both for words a pooled feature
cannot tell: the **box's place** in the image (a pooled feature does not know where it was cut
out, and captions say "at the top left"), and the region's **own pixels** (the image averaged
to the feature map's cells, as 3 more channels: a map trained to find objects keeps little of
their colour). The shapes at each stage, for one training batch:
""")

code(r"""
# NBVAL_CHECK_OUTPUT
from cvlib.models.captioning import DenseCap
from cvlib.models.detection import batch_images
from cvlib.recipes.densecap import SWEEP, caption_loader, chosen, load_sweep

sweep = load_sweep(SWEEP, recipe)
best = chosen(sweep)                   # learning rate and beam, chosen below
runtime.seed(0)
model = DenseCap(vocab, recipe.config(best["beam"])).to(device)
images, targets = next(iter(caption_loader(train, recipe.batch_size)))
heads, branch = model.roi_heads, model.roi_heads.caption_branch
with torch.no_grad():
    batch = batch_images(images, model.backbone.stride)
    features = model.backbone(batch)
    sizes = [tuple(im.shape[-2:]) for im in images]
    boxes = [t["boxes"] for t in targets]           # the true boxes, here
    pooled = branch.pooler(features, boxes)
    codes = branch.codes(features, boxes, sizes)
    tokens = vocab.encode_batch([c for t in targets for c in t["captions"]])
    logits = branch.lm.logits(codes, tokens)
shapes = {
    "images (padded batch)": batch,
    "feature map (+ 3 pixel channels)": features,
    "RoIAlign of the R true boxes": pooled, "region codes": codes,
    "caption tokens (START ... END PAD)": tokens,
    "next-word scores (teacher forcing)": logits,
}
for name, x in shapes.items():
    print(f"{name:>36}: {list(x.shape)}")
n_params = {k: sum(p.numel() for p in m.parameters()) for k, m in
            (("backbone", model.backbone), ("RPN", model.proposal_generator),
             ("box branch", heads.box_head), ("caption branch", branch))}
print("parameters:", n_params)
""")

md(r"""
The caption branch is one more slot of the RoI heads, run as the mask branch of Mask R-CNN is: in
training on the object regions sampled for the box branch (each knows its object, whose caption
is the target), at test time on the final detections:
""")

code(r"""
import inspect
from cvlib.models.captioning import CaptionRoIHeads

print(inspect.getsource(CaptionRoIHeads._forward_caption))
""")

md(r"""
## The language model

The LSTM's inputs are the region code, then START, then the caption's words; its output after
each input scores the next word. In training the true words are fed in (**teacher forcing**) and
every prediction pays its cross-entropy, averaged over the words. The region code is also given
beside every input (the variant called *par-inject*), so that every word is predicted with the
region in view rather than only through what the LSTM's state has kept of it (exercise 5 trains
the code-first-only variant).
""")

code(r"""
from cvlib.models.captioning import CaptionLSTM

print(inspect.getsource(CaptionLSTM.logits))
print(inspect.getsource(CaptionLSTM.loss))
""")

md(r"""
## Choosing on validation scenes

`scripts/sweep_densecap.py` trained one DenseCap per learning rate on the training scenes and
decoded the validation scenes greedily and with a beam of 3. The run of highest validation
dense-captioning mAP sets this chapter's learning rate and beam:
""")

code(r"""
# NBVAL_CHECK_OUTPUT
print("| lr | beam | val dense-cap mAP | val box mAP@0.5 | val exact match |")
print("|---:|---:|---:|---:|---:|")
for r in sweep["runs"]:
    print(f"| {r['lr']:g} | {r['beam']} | {r['val_map']:.3f} | "
          f"{r['val_box_map50']:.3f} | {r['val_exact_match']:.3f} |")
print(f"chosen: lr {best['lr']:g}, beam {best['beam']}")
""")

md(r"""
## Training

Five losses summed: the RPN's two, the box branch's two (objectness as a two-class
cross-entropy, box offsets) and the caption's cross-entropy per word.
""")

code(r"""
import matplotlib.pyplot as plt
from cvlib.train import fit

runtime.seed(0)
model = DenseCap(vocab, recipe.config(best["beam"])).to(device)
history = fit(model, caption_loader(train, recipe.batch_size),
              steps=recipe.steps, lr=best["lr"], desc="DenseCap")
model.eval()
print(f"{recipe.steps} steps in {history.seconds:.0f} s; last losses:",
      {k: round(history.last(k), 3) for k in history.losses})
history.plot()
plt.show()
""")

md(r"""
## The LSTM word by word

One validation region, decoded greedily: at every step the image with the region, the words so
far, and the probability of the next word over the vocabulary (the ten most probable). The
chosen word is the most probable one; it becomes the next input.
""")

code(r"""
import numpy as np
from cvlib.viz import draw
from cvlib.widgets import Stepper


def region_code(image, box):
    # the region code [1, D] of one box of one image
    with torch.no_grad():
        feats = model.backbone(batch_images([image], model.backbone.stride))
        return branch.codes(feats, [box[None]], [tuple(image.shape[-2:])])


image, target = val[1]
k = 0
box, truth = target["boxes"][k], target["captions"][k]
probs, ids = branch.lm.trace(region_code(image, box))
frames, titles, texts = [], [], []
for step, (p, chosen_id) in enumerate(zip(probs, ids)):
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.2, 2.8),
                               gridspec_kw={"width_ratios": [1, 1.5]})
    draw(image, {"boxes": box[None]}, ax=a, show_captions=False)
    top = p.topk(10)
    names = [vocab.words[i] for i in top.indices]
    b.barh(range(10)[::-1], top.values.numpy(),
           color=["tab:red" if i == chosen_id else "tab:blue"
                  for i in top.indices])
    b.set_yticks(range(10)[::-1], names, fontsize=8)
    b.set_xlim(0, 1), b.set_xlabel("P(next word)", fontsize=8)
    fig.tight_layout()
    frames.append(fig)
    plt.close(fig)
    so_far = vocab.decode(ids[:step]) or "(START)"
    titles.append(f"step {step + 1}: after '{so_far}'")
    texts.append(f"chose '{vocab.words[chosen_id]}' "
                 f"(p = {float(p[chosen_id]):.2f}); true caption: {truth}")
print("greedy:", vocab.decode(ids), "| true:", truth)
Stepper(frames, titles=titles, texts=texts, dpi=70)
""")

md(r"""
## Greedy decoding against a beam

Greedy decoding commits to the most probable word at each step. A **beam** of $k$ keeps the $k$
most probable sentences so far (sum of the words' log-probabilities) and returns the best one
that has ended, so one uncertain word can be decided by what follows it. On the validation
scenes' true boxes, the regions where the two disagree:
""")

code(r"""
def caption_all(items, beam):
    said = model.caption_boxes([im for im, _ in items],
                               [t["boxes"] for _, t in items], beam=beam)
    return [c for s in said for c in s]


val_truth = [c for _, t in val for c in t["captions"]]
greedy, beam3 = caption_all(val, 1), caption_all(val, 3)
differ = [i for i, (g, b) in enumerate(zip(greedy, beam3)) if g != b]
right = {name: sum(s == t for s, t in zip(said, val_truth))
         for name, said in (("greedy", greedy), ("beam 3", beam3))}
print(f"{len(val_truth)} validation regions; greedy and beam differ on "
      f"{len(differ)}; exact captions: {right}")
for i in differ[:6]:
    print(f"  true:   {val_truth[i]}\n  greedy: {greedy[i]}\n"
          f"  beam 3: {beam3[i]}\n")
""")

md(r"""
## Held-out results

The test scenes, used once. The **dense-captioning mAP** of the DenseCap paper: predictions of
all images in order of score; one counts as correct when its box overlaps a not yet taken true
box by at least an IoU threshold *and* its caption is similar enough to that box's caption; the
average precision is averaged over IoU thresholds {0.3, 0.4, 0.5, 0.6, 0.7} x similarity
thresholds. The paper's similarity is METEOR, which runs in Java; the book has no Java, so the
similarity is BLEU-4 (torchmetrics, smoothed), 1 for the same caption (the thresholds are
{0, 0.25, 0.5, 0.75, 1}; threshold 0 scores the boxes alone). Then, on the true boxes matched at
IoU 0.5: the fraction of captions exactly right, and the accuracy of each attribute.
""")

code(r"""
from cvlib.metrics import detection_map
from cvlib.models.captioning import describe
from cvlib.models.captioning.metrics import (caption_accuracy,
                                             dense_captioning_map)

test = recipe.scenes("test")
preds, truths = describe(model, test), [t for _, t in test]


def agnostic(d):
    # every box of class 1: the box branch's mAP, captions ignored
    n = len(d["boxes"])
    return {**d, "labels": torch.ones(n, dtype=torch.int64)}


box = detection_map([agnostic(p) for p in preds],
                    [agnostic({"boxes": t["boxes"]}) for t in truths])
dense = dense_captioning_map(preds, truths)
acc = caption_accuracy(preds, truths)
print(f"test: {len(test)} scenes, {acc['boxes']} objects, "
      f"{acc['matched']} matched at IoU 0.5")
print(f"box mAP@0.5 {box['map_50']:.3f}, dense-captioning mAP "
      f"{dense['map']:.3f}, exact match {acc['exact_match']:.3f}")
print("AP at IoU 0.5 by similarity threshold:",
      {s: round(ap, 3) for (i, s), ap in dense["ap"].items() if i == 0.5})
print("per-attribute accuracy:",
      {k: f"{v:.3f} ({acc['counts'][k]})"
       for k, v in acc["attributes"].items()})
""")

code(r"""
assert box["map_50"] >= 0.75, box["map_50"]
assert acc["exact_match"] >= 0.60, acc["exact_match"]
""")

md(r"""
Captions drawn at their boxes on test scenes (detections of score 0.5 and more; each box numbered,
its caption below the image):
""")

code(r"""
fig, axes = plt.subplots(1, 4, figsize=(12, 4.2))
for ax, (image, _), p in zip(axes, test[:4], preds[:4]):
    keep = p["scores"] >= 0.5
    draw(image, {"boxes": p["boxes"][keep]}, ax=ax, show_captions=False)
    lines = []
    said = [c for c, k in zip(p["captions"], keep) if k]
    for n, (b, c) in enumerate(zip(p["boxes"][keep].tolist(), said)):
        ax.text(b[0], b[1] + 6, str(n + 1), color="white", fontsize=9,
                bbox=dict(facecolor="black", alpha=0.6, pad=1, lw=0))
        lines.append(f"{n + 1}: {c}")
    ax.set_xlabel("\n".join(lines), fontsize=7, loc="left")
fig.tight_layout()
plt.show()
""")

md(r"""
## Failures: which attribute is hardest

The attributes ordered by their accuracy on the matched test boxes, and, for the hardest one,
what the model says instead (rows: true value, columns: said):
""")

code(r"""
from collections import Counter
from cvlib.data.captions import parse
from cvlib.models.captioning.metrics import matched_captions

pairs = matched_captions(preds, truths)
order = sorted(acc["attributes"], key=acc["attributes"].get)
hardest = order[0]
print("attributes, hardest first:",
      [(a, round(acc["attributes"][a], 3)) for a in order])
confusion = Counter()
for said, true in pairs:
    t = parse(true)[hardest]
    if t is not None:
        confusion[(t, parse(said, strict=False)[hardest])] += 1
print(f"{hardest}: (true, said) -> count, the errors first")
errors_first = sorted(confusion.items(),
                      key=lambda x: (x[0][0] == x[0][1], -x[1]))
for (t, s), n in errors_first:
    print(f"  {str(t):>16} -> {str(s):<16} {n}")
wrong = [(s, t) for s, t in pairs if s != t]
print(f"{len(wrong)} of {len(pairs)} matched captions are not exact, e.g.:")
for s, t in wrong[:5]:
    print(f"  said: {s}\n  true: {t}")
""")

md(r"""
The printed confusion shows where the hardest attribute fails. "Partly hidden" depends on pixels
the region does not show (how much of the object lies *under* another one), read from the shape
of what remains, and its threshold (10 % covered) cuts through a continuum: an object 8 % covered
looks much like one 12 % covered. Size words are thirds of a continuous range too, and the box
of a rotated or partly hidden shape is an uncertain ruler of its diameter. Places fail mostly for
boxes whose centre lies near a grid line.

## What the language model adds over a classifier

A classifier with one class per training caption can only repeat a caption it has seen. The
language model composes words: on the test boxes matched at IoU 0.5, how many true captions never
appear in the training set, and how many of those it says exactly:
""")

code(r"""
novel = [(s, t) for s, t in pairs if t not in seen]
novel_right = [t for s, t in novel if s == t]
said_new = {s for s, _ in pairs} - seen
print(f"{len(novel)} of {len(pairs)} matched test captions are not in the "
      f"training set; the model says {len(novel_right)} of them exactly")
print("e.g.", novel_right[:3])
print(f"{len(said_new)} distinct captions the model said were never "
      "in training")
""")

md(r"""
## Summary

- DenseCap is Faster R-CNN with its class head replaced by a language model: the same RoI
  features, a region code, an LSTM that says the caption word by word.
- Teacher forcing trains it with a cross-entropy per word; greedy decoding or a beam says the
  caption at test time.
- The dense-captioning mAP counts a detection as correct only when both its box and its caption
  are; exact match and per-attribute accuracy show which words the model gets wrong.
- Captions are compositional: the model says captions it never saw in training.

## Exercises

1. **No place, no pixels.** Build `recipe.config()` and set `cfg.caption.place = False` (then
   `cfg.caption.pixels = False`), train with the chosen learning rate and compare the per-attribute
   accuracy on the validation scenes (`caption_accuracy(describe(m, val), [t for _, t in val])`).
   Which attributes depend on which input?
2. **Beam width.** Decode the validation boxes with `caption_all(val, beam)` for beams 1, 2, 3, 5.
   Does the number of exact captions keep rising? Why can a wider beam say a *worse* caption?
3. **A threshold that cuts a continuum.** For the matched validation boxes, find those whose
   "partly hidden" is wrong, and compute the covered fraction of their objects (render the scene's
   full masks by drawing each object alone with `Scenes`' configuration). Are the errors near
   `captions.HIDDEN_AT`?
4. **A classifier instead.** Count how many validation captions occur in the training set at all
   (the first cell's output). What exact-match rate could a perfect one-class-per-caption
   classifier reach on them, and how does it compare with the test exact match above?
5. **The code as first input only.** In `CaptionLSTM`, the code is concatenated to every input.
   Remove the concatenation (an LSTM of input width D; `_start` feeds the code alone, `_step` the
   word alone), train for the chapter's steps and compare the validation exact match and
   `history.last("loss_caption")` with the chapter's.
""")

nb = nbformat.v4.new_notebook(cells=cells)
nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
import sys
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else "chapters/04-captioning/densecap.ipynb")
print(len(cells), "cells")
