"""The captions of Scenes: short sentences from a small grammar, each word read from the pixels.

    caption  := shape_part where
    shape_part := SIZE COLOUR SHAPE            "small red circle"
                | "person in" COLOUR POSE      "person in cyan hands on hips"
    where    := "at the top left" | "at the top" | ... | "in the centre"   (3 x 3 cells)

e.g. "large blue square at the bottom right". Every word is decided by what the renderer has
already drawn, so the images, boxes, masks and keypoints of a seed stay the same:
- SIZE: the shape's drawn diameter, in thirds of `ScenesConfig.shape_scale` (small/medium/large);
- COLOUR, SHAPE, POSE: the object's colour name, class and pose;
- where: the cell of a 3 x 3 grid over the image that holds the centre of the object's (visible)
  box: the region's place in the image.
Occlusion ("partly hidden": a tenth of the object covered by later objects) was tried and left
out: a small CNN trained on the crops of the objects of 400 scenes told it no better than always
saying "not hidden" does, on validation scenes.

    describe({"size": "small", "colour": "red", "shape": "circle"}, box, size=128)
    parse("person in red kicking at the top")  # {"colour": "red", "pose": "kicking", "where": ...}
"""
from __future__ import annotations

from .person import POSES

SIZES = ("small", "medium", "large")
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")
ATTRIBUTES = ("size", "colour", "shape", "pose", "where")   # what a caption may say


def where(box, size: int) -> str:
    """The 3 x 3 cell of the image (size x size pixels) holding the centre of box (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    row = ROWS[min(int((y1 + y2) / 2 / size * 3), 2)]
    col = COLUMNS[min(int((x1 + x2) / 2 / size * 3), 2)]
    if row == "middle":
        return "in the centre" if col == "centre" else f"at the {col}"
    return f"at the {row}" if col == "centre" else f"at the {row} {col}"


WHERE = tuple(where((c * 10 + 1, r * 10 + 1, c * 10 + 2, r * 10 + 2), 30) for r in range(3) for c in range(3))


def describe(words: dict, box, size: int) -> str:
    """The caption of one object. words: {"size", "colour", "shape"} for a shape, {"colour", "pose"}
    for a person; box: its visible box (xyxy pixels); size: the image side in pixels."""
    if "pose" in words:
        head = f"person in {words['colour']} {words['pose']}"
    else:
        head = f"{words['size']} {words['colour']} {words['shape']}"
    return f"{head} {where(box, size)}"


def parse(caption: str, strict: bool = True) -> dict:
    """The attributes a caption of this grammar says: size, colour, shape (or colour and pose for a
    person), where. strict=False: parts that do not parse are None (for
    generated captions); strict=True: ValueError naming the caption."""
    from .scenes import COLOURS, SHAPES

    words = caption.split()
    out = dict.fromkeys(ATTRIBUTES)
    rest = " ".join(words)
    out["where"] = next((w for w in sorted(WHERE, key=len, reverse=True) if rest.endswith(w)), None)
    head = rest[:len(rest) - len(out["where"])].split() if out["where"] else rest.split()
    if head[:2] == ["person", "in"] and len(head) >= 3:
        out["shape"], out["colour"] = "person", head[2]
        out["pose"] = " ".join(head[3:]) if " ".join(head[3:]) in POSES else None
    elif len(head) == 3:
        out["size"], out["colour"], out["shape"] = head
    ok = out["where"] is not None and out["colour"] in COLOURS and out["shape"] in SHAPES and \
        (out["pose"] is not None if out["shape"] == "person" else out["size"] in SIZES)
    if strict and not ok:
        raise ValueError(f"{caption!r} is not a caption of the Scenes grammar (cvlib.data.captions), e.g. "
                         "'small red circle at the top left' or 'person in cyan kicking in the centre'")
    if not ok:
        for key in ("size", "colour", "shape", "pose"):
            if out[key] is not None and out[key] not in (*SIZES, *COLOURS, *SHAPES, *POSES):
                out[key] = None
    return out


def grammar_words() -> list[str]:
    """Every word the grammar can produce, sorted."""
    from .scenes import COLOURS, SHAPES

    phrases = [*SIZES, *COLOURS, *SHAPES, "in", *POSES, *WHERE]
    return sorted({w for p in phrases for w in p.split()})
