"""A chapter's headline numbers, stored in its notebook, where the book's pages and scripts read them.

    headline("test_map50", result["map_50"], bar=0.60, label="R-CNN, held-out mAP@0.5")
    headline_times(history.seconds, test_seconds_per_image)   # glued as train_s and test_ms
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

GLUE_PREFIX = "application/papermill.record/"   # where myst-nb stores a glued value, by mime type
GLUE_MIME = GLUE_PREFIX + "text/plain"


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


def headline_times(train_seconds: float | None, test_seconds_per_image: float, prefix: str = "") -> None:
    """Print and glue the headline model's training time (`train_s`, seconds; None: nothing trained)
    and test time (`test_ms`, milliseconds per image), and the device and profile they ran on (as
    the texts `device` and `profile`). `prefix` tells two models of one chapter apart ("yolo_")."""
    from myst_nb import glue

    from . import runtime

    device, profile = runtime.device().type, runtime.profile()
    parts = []
    if train_seconds is not None:
        glue(f"{prefix}train_s", _finite(f"{prefix}train_s", train_seconds), display=False)
        parts.append(f"trained in {train_seconds:.0f} s")
    test_ms = _finite(f"{prefix}test_ms", 1000 * test_seconds_per_image)
    glue(f"{prefix}test_ms", test_ms, display=False)
    parts.append(f"{test_ms:.1f} ms per test image")
    glue(f"{prefix}device", _Text(device), display=False)
    glue(f"{prefix}profile", _Text(profile), display=False)
    print(f"{prefix.rstrip('_') or 'headline model'}: {', '.join(parts)} ({device}, {profile} profile)")


class _Text(str):
    """A string glued as its text: {glue:text} shows cpu, not 'cpu'."""
    def __repr__(self) -> str:
        return str(self)


def _finite(key: str, value) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{key}: a time must be a finite number >= 0, got {value}")
    return value


def glued_outputs(path: str | Path):
    """(name, {mime type: text}) of every value glued in the stored notebook at `path`, in order."""
    for cell in json.loads(Path(path).read_text())["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                yield name, {mime[len(GLUE_PREFIX):]: "".join(text) if isinstance(text, list) else text
                             for mime, text in output.get("data", {}).items() if mime.startswith(GLUE_PREFIX)}


def read_headlines(path: str | Path) -> dict[str, float]:
    """{key: value} of every number glued in the stored notebook at `path` (bars as key_bar)."""
    found = {}
    for name, data in glued_outputs(path):
        if "text/plain" in data:
            try:
                found[name] = float(data["text/plain"])
            except ValueError:
                continue                      # a glued value that is not a number
    return found
