"""The captions of Scenes: short sentences from a small grammar, each word read from the pixels.

    caption  := shape_part where [hidden]
    shape_part := SIZE COLOUR SHAPE            "small red circle"
                | "person in" COLOUR POSE      "person in cyan hands on hips"
    where    := "at the top left" | "at the top" | ... | "in the centre"   (3 x 3 cells)
    hidden   := "partly hidden"

e.g. "large blue square at the bottom right partly hidden". Every word is decided by what the
renderer has already drawn, so the images, boxes, masks and keypoints of a seed stay the same:
- SIZE: the shape's drawn diameter, in thirds of `ScenesConfig.shape_scale` (small/medium/large);
- COLOUR, SHAPE, POSE: the object's colour name, class and pose;
- where: the cell of a 3 x 3 grid over the image that holds the centre of the object's (visible)
  box: the region's place in the image;
- hidden: at least HIDDEN_AT of the object's pixels are covered by objects drawn later (the
  visible mask is then cut by another object's edge, inside or at the border of the box).

    describe({"size": "small", "colour": "red", "shape": "circle"}, box, hidden=0.0, size=128)
    parse("person in red kicking at the top")  # {"colour": "red", "pose": "kicking", "where": ...}
"""
from __future__ import annotations

from .person import POSES

HIDDEN_AT = 0.10               # covered fraction from which an object is "partly hidden"
SIZES = ("small", "medium", "large")
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")
HIDDEN = "partly hidden"
ATTRIBUTES = ("size", "colour", "shape", "pose", "where", "hidden")   # what a caption may say


def where(box, size: int) -> str:
    """The 3 x 3 cell of the image (size x size pixels) holding the centre of box (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    row = ROWS[min(int((y1 + y2) / 2 / size * 3), 2)]
    col = COLUMNS[min(int((x1 + x2) / 2 / size * 3), 2)]
    if row == "middle":
        return "in the centre" if col == "centre" else f"at the {col}"
    return f"at the {row}" if col == "centre" else f"at the {row} {col}"


WHERE = tuple(where((c * 10 + 1, r * 10 + 1, c * 10 + 2, r * 10 + 2), 30) for r in range(3) for c in range(3))


def describe(words: dict, box, hidden: float, size: int) -> str:
    """The caption of one object. words: {"size", "colour", "shape"} for a shape, {"colour", "pose"}
    for a person; box: its visible box (xyxy pixels); hidden: the fraction of it covered by later
    objects (0..1); size: the image side in pixels."""
    if "pose" in words:
        head = f"person in {words['colour']} {words['pose']}"
    else:
        head = f"{words['size']} {words['colour']} {words['shape']}"
    tail = f" {HIDDEN}" if hidden >= HIDDEN_AT else ""
    return f"{head} {where(box, size)}{tail}"


def parse(caption: str, strict: bool = True) -> dict:
    """The attributes a caption of this grammar says: size, colour, shape (or colour and pose for a
    person), where, hidden (True / False). strict=False: parts that do not parse are None (for
    generated captions); strict=True: ValueError naming the caption."""
    from .scenes import COLOURS, SHAPES

    words = caption.split()
    out = dict.fromkeys(ATTRIBUTES)
    out["hidden"] = caption.endswith(HIDDEN)
    rest = " ".join(words[:-2] if out["hidden"] else words)
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
                         "'small red circle at the top left' or 'person in cyan kicking in the centre partly hidden'")
    if not ok:
        for key in ("size", "colour", "shape", "pose"):
            if out[key] is not None and out[key] not in (*SIZES, *COLOURS, *SHAPES, *POSES):
                out[key] = None
    return out


def grammar_words() -> list[str]:
    """Every word the grammar can produce, sorted."""
    from .scenes import COLOURS, SHAPES

    phrases = [*SIZES, *COLOURS, *SHAPES, "in", *POSES, *WHERE, HIDDEN]
    return sorted({w for p in phrases for w in p.split()})
