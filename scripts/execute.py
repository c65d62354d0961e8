"""Execute chapter notebooks in place, storing outputs and widget state (what the book shows).

    python scripts/execute.py                      # every notebook under chapters/
    python scripts/execute.py chapters/01-semantic/fcn.ipynb

Runs on the quick profile unless CVLIB_PROFILE is set; prints each chapter's time.
Figures are stored as JPEG at 80 dpi (photos of noisy scenes do not compress as PNG), which
keeps the committed notebooks small; in your own Jupyter session they stay PNG.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, timeout: int = 900) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--InlineBackend.figure_formats=jpeg",
                                             "--InlineBackend.rc={'figure.dpi': 80, 'savefig.dpi': 80}"])
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main(args: list[str]) -> int:
    os.environ.setdefault("CVLIB_PROFILE", "quick")
    paths = [Path(a) for a in args] or sorted((ROOT / "chapters").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    total = 0.0
    for path in paths:
        print(f"executing {path} ...", flush=True)
        seconds = execute(path)
        total += seconds
        print(f"  {seconds:6.1f} s  {path}", flush=True)
    print(f"{len(paths)} notebooks in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
