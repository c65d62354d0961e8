"""A chapter's headline numbers, stored in its notebook, where the book's pages and scripts read them.

    headline("test_map50", result["map_50"], bar=0.60, label="R-CNN, held-out mAP@0.5")
    read_headlines("chapters/03-detection/rcnn.ipynb")   # {"test_map50": {"value": 0.77, "bar": 0.6, ...}}

`headline` prints the number and glues it into the notebook with myst-nb's `glue` (invisibly: the
printed line is what the reader sees), as `key` and, with a bar, `key_bar`. A page of the book pastes
it with {glue:text}`path/to/chapter.ipynb::key:.3f`, so the page can never disagree with the
chapter's stored outputs; `read_headlines` reads the same values back from a notebook file.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

GLUE_MIME = "application/papermill.record/text/plain"   # where myst-nb stores a glued value


def headline(key: str, value: float, *, bar: float | None = None, label: str = "",
             higher_is_better: bool = True) -> float:
    """Print and glue one headline number of a chapter (and its quality bar); returns the value."""
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"a headline key must be a name like 'test_map50', got {key!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"headline {key!r}: the value is {value}, not a finite number")
    from myst_nb import glue

    glue(key, value, display=False)
    text = f"{label or key}: {value:.3f}"
    if bar is not None:
        glue(f"{key}_bar", float(bar), display=False)
        passed = value >= bar if higher_is_better else value <= bar
        text += f" (bar {'>=' if higher_is_better else '<='} {bar:g}: {'met' if passed else 'NOT met'})"
    print(text)
    return value


def read_headlines(path: str | Path) -> dict[str, float]:
    """{key: value} of every number glued in the stored notebook at `path` (bars as key_bar)."""
    cells = json.loads(Path(path).read_text())["cells"]
    found = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_MIME)
            if name and text is not None:
                try:
                    found[name] = float("".join(text) if isinstance(text, list) else text)
                except ValueError:
                    continue                      # a glued value that is not a number
    return found
