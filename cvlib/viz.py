"""Pictures and tables: images with boxes, labels, scores, masks, keypoints and captions; grids;
semantic predictions side by side; loss curves; small tables of results (Table, iou_table).

Images are float [3, H, W] in 0..1 (as Scenes gives them). Annotations are dicts in
torchvision's detection format (a target or a prediction): any of boxes (xyxy
pixels), labels, scores, masks [N, H, W], keypoints [N, K, 2 or 3], captions.
Semantic maps are int64 [H, W], one class index per pixel.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Patch

from .checks import check_boxes, check_image, check_number
from .data.person import SKELETON
from .data.scenes import CLASSES

# One colour per class index (0 = background is black), as RGB in 0..1.
CLASS_COLOURS = np.array([
    (0.0, 0.0, 0.0), (0.95, 0.35, 0.35), (0.35, 0.75, 0.95), (0.55, 0.9, 0.35),
    (0.95, 0.8, 0.25), (0.85, 0.45, 0.95), (0.3, 0.9, 0.8), (0.95, 0.6, 0.2),
])


def to_numpy_image(image, name: str = "image") -> np.ndarray:
    """An image for imshow: float [H, W, 3] (or [H, W] for one channel) in 0..1.

    image: a Tensor[3 or 1, H, W] or an array [H, W, 3 or 1] / [H, W] (a tensor in that layout
    too); float in 0..1, or uint8 in 0..255 (divided by 255), or bool. Floats outside 0..1 are a
    ValueError (0..255 floats would draw all white): divide them by 255.
    """
    x = torch.from_numpy(np.ascontiguousarray(image)) if isinstance(image, np.ndarray) else image
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a Tensor[3, H, W] or an array [H, W, 3], got {type(image).__name__}")
    x = x.detach().cpu()
    if x.dtype == torch.bool:
        x = x.float()
    if x.ndim == 2:
        x = x[None]
    elif x.ndim == 3 and x.shape[0] not in (1, 3) and x.shape[-1] in (1, 3):
        x = x.permute(2, 0, 1)                       # [H, W, C] -> [C, H, W]
    x = check_image(x, name, channels=(1, 3), uint8=True).float()
    array = x.permute(1, 2, 0).numpy().astype(float)
    return (array[:, :, 0] if array.shape[2] == 1 else array).clip(0, 1)   # clip: the 1e-3 tolerance only


def semantic_to_rgb(labels) -> np.ndarray:
    """int [H, W] class map (class indices >= 0) -> float [H, W, 3] picture in the class colours
    (they repeat every len(CLASS_COLOURS) classes)."""
    labels = labels.cpu().numpy() if torch.is_tensor(labels) else np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must hold integer class indices, got dtype {labels.dtype} "
                        "(from class scores [C, H, W] take scores.argmax(0))")
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got {labels.min()}")
    return CLASS_COLOURS[labels % len(CLASS_COLOURS)]


def draw(image, ann: dict | None = None, ax=None, classes=CLASSES, score_threshold: float = 0.0,
         title: str | None = None, show_captions: bool = True, mask_alpha: float = 0.45,
         show_labels: bool = True):
    """Draw `image` and its annotations on a matplotlib axis (a new figure if ax is None). Without
    labels (show_labels=False) only the colour tells the class: for crowded boxes, with `class_legend`."""
    picture = to_numpy_image(image)
    n = _objects(ann)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if not ann:
        return ax
    keep = np.ones(n, bool)
    if "scores" in ann:
        keep = ann["scores"].detach().cpu().numpy() >= score_threshold
    labels = ann["labels"].tolist() if "labels" in ann else [1] * n
    for k in np.flatnonzero(keep):
        colour = CLASS_COLOURS[labels[k] % len(CLASS_COLOURS)]
        if "masks" in ann:
            m = ann["masks"][k].detach().cpu().float().numpy()
            overlay = np.zeros((*m.shape, 4))
            overlay[..., :3], overlay[..., 3] = colour, mask_alpha * (m > 0.5)
            ax.imshow(overlay)
        if "keypoints" in ann:
            _draw_keypoints(ax, ann["keypoints"][k].detach().cpu(), colour)
        if "boxes" in ann:
            x1, y1, x2, y2 = ann["boxes"][k].tolist()
            # Pixel i spans [i, i+1) in box coordinates but is centred on i in imshow: shift by 0.5.
            ax.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec=colour, lw=1.5))
            if not show_labels:
                continue
            text = classes[labels[k]] if labels[k] < len(classes) else str(labels[k])
            if "scores" in ann:
                text += f" {float(ann['scores'][k]):.2f}"
            if show_captions and "captions" in ann:
                text = ann["captions"][k]
            # above the box; inside its top edge where above would leave the image (and run into
            # the title); never drawn outside the axes
            near_top = y1 < 0.08 * picture.shape[0]
            ax.text(x1 - 0.5, y1 - 0.5 if near_top else y1 - 1.5, text, fontsize=7, color="black",
                    va="top" if near_top else "bottom", clip_on=True,
                    bbox=dict(facecolor=colour, alpha=0.8, pad=1, lw=0))
    return ax


def _objects(ann: dict | None) -> int:
    """How many objects `ann` holds: every per-object entry must hold as many; boxes finite [N, 4]."""
    if not ann:
        return 0
    if not isinstance(ann, dict):
        raise TypeError(f"ann must be a dict (boxes, labels, scores, masks, keypoints, captions), got "
                        f"{type(ann).__name__}")
    counts = {k: len(ann[k]) for k in ("boxes", "labels", "scores", "masks", "keypoints", "captions") if k in ann}
    if len(set(counts.values())) > 1:
        raise ValueError(f"ann's entries hold different numbers of objects: {counts}; give one entry per object")
    if "boxes" in ann:
        check_boxes(ann["boxes"], "ann['boxes']", ordered=False)
    return next(iter(counts.values()), 0)


def _draw_keypoints(ax, kp: torch.Tensor, colour):
    """kp: [K, 2] or [K, 3] (x, y[, v]); v = 0 is skipped, v = 1 (occluded) drawn hollow."""
    if kp.numel() == 0 or (kp.shape[-1] == 3 and kp[:, 2].sum() == 0):
        return
    v = kp[:, 2] if kp.shape[-1] == 3 else torch.full((len(kp),), 2.0)
    xy = kp[:, :2].numpy() - 0.5
    for a, b in SKELETON:
        if a < len(kp) and b < len(kp) and v[a] > 0 and v[b] > 0:
            ax.plot(xy[[a, b], 0], xy[[a, b], 1], "-", color="white", lw=1.2, alpha=0.9)
    seen, hidden = (v == 2).numpy(), (v == 1).numpy()
    ax.scatter(xy[seen, 0], xy[seen, 1], s=12, c=[colour], edgecolors="black", linewidths=0.5, zorder=3)
    ax.scatter(xy[hidden, 0], xy[hidden, 1], s=12, facecolors="none", edgecolors=[colour], zorder=3)


def grid(images, anns=None, titles=None, ncols: int = 4, size: float = 2.6, **draw_kwargs):
    """A figure with one panel per image (and its annotations). Returns the figure."""
    n = len(images)
    check_number(ncols, "ncols", integer=True, low=1)
    for name, items in (("anns", anns), ("titles", titles)):
        if items is not None and len(items) != n:
            raise ValueError(f"{n} images but {len(items)} {name}; give one per image")
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        draw(images[i], anns[i] if anns is not None else None, ax=ax,
             title=titles[i] if titles is not None else None, **draw_kwargs)
    fig.tight_layout()
    return fig



def show_predictions(images, truth, predictions: dict, n: int = 4, size: float = 1.9):
    """A figure: one row per image, columns image | ground truth | each model's semantic prediction.

    images float [N, 3, H, W]; truth and each prediction int64 [N, H, W] (class per pixel);
    predictions maps a model's name to its prediction; shows the first n images.
    """
    if n > len(images):
        raise ValueError(f"n must be at most the {len(images)} images given, got {n}")
    cols = 2 + len(predictions)
    fig, axes = plt.subplots(n, cols, figsize=(size * cols, size * n + 0.4), squeeze=False)
    for r in range(n):
        panels = [to_numpy_image(images[r]), semantic_to_rgb(truth[r])]
        panels += [semantic_to_rgb(p[r]) for p in predictions.values()]
        for c, (ax, panel) in enumerate(zip(axes[r], panels)):
            ax.imshow(panel, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(["image", "ground truth", *predictions][c], fontsize=9)
    class_legend(fig)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def class_legend(fig, classes=CLASSES, first: int = 0) -> None:
    """The colour of each class of classes[first:], in one row along the bottom of `fig`."""
    handles = [Patch(color=CLASS_COLOURS[k], label=classes[k]) for k in range(first, len(classes))]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)


def plot_losses(history, ax=None, smooth: int = 10, keys=None):
    """Loss curves of a cvlib.train.History (moving average over `smooth` steps)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    for key in keys or history.losses:
        values = np.asarray(history.losses[key])
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(len(values)) + 1, values, label=key, lw=2 if key == "total" else 1)
    ax.set_xlabel("step"), ax.set_ylabel("loss"), ax.set_yscale("log")
    ax.grid(alpha=0.3), ax.legend(fontsize=8)
    return ax


def figure_to_array(fig, dpi: int = 80, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure to a uint8 RGB array [H, W, 3]."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    array = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if close:
        plt.close(fig)
    return array


# ---------------------------------------------------------------- tables of results

class Table:
    """A small table that shows itself as HTML in a notebook and as aligned text elsewhere.

    rows: one list of values per row, as many as `header`. Floats show with 3 decimals, None as
    a dash (no value), anything else as str().
    """

    def __init__(self, rows: list[list], header: list[str]):
        for k, row in enumerate(rows):
            if len(row) != len(header):
                raise ValueError(f"rows[{k}] has {len(row)} values for {len(header)} header columns")
        self.rows, self.header = rows, header

    @staticmethod
    def _fmt(v) -> str:
        if v is None:
            return "—"
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{self._fmt(v)}</td>" for v in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cells = [self.header] + [[self._fmt(v) for v in row] for row in self.rows]
        widths = [max(len(r[k]) for r in cells) for k in range(len(self.header))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells)


def iou_table(results: dict[str, dict]) -> Table:
    """Per-class IoU and mIoU of several segmentation models.

    results maps a model's name to a dict with "per_class" (float [C], C = len(CLASSES)) and
    "miou" (float), as cvlib.models.segmentation.semantic.evaluate returns.
    """
    rows = [[name, *[float(v) for v in r["per_class"]], float(r["miou"])] for name, r in results.items()]
    return Table(rows, ["model", *CLASSES, "mIoU"])
