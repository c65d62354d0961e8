"""Execute chapter notebooks, storing outputs and widget state (what the book shows).

    python scripts/execute.py                      # every notebook under chapters/, in place
    python scripts/execute.py chapters/01-semantic/fcn.ipynb
    python scripts/execute.py --out _full --results results/full-cuda.json   # what `make full` runs

Runs on the quick profile unless CVLIB_PROFILE is set; prints each chapter's time and stores it,
with the machine's cores and load, in the notebook's metadata (cvlib.execution). In place, the
committed notebooks get the fresh outputs. With --out DIR, each executed notebook is written under
DIR at its path relative to the repository (chapters/... ), the committed ones are left untouched,
and the kernel still runs in the chapter's own folder (the sweeps and weights it reads are there).
With --results FILE, one JSON file records the run: per chapter its headline numbers (glued by
`cvlib.results.headline`), its time in seconds, and the profile, device and commit of the run.

Figures are stored as JPEG at 80 dpi (photos of noisy scenes do not compress as PNG), which
keeps the committed notebooks small; in your own Jupyter session they stay PNG.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def execute(path: Path, out: Path | None = None, timeout: int = 900) -> float:
    """Run the notebook at `path` in its own folder, write it to `out` (default: in place); seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--InlineBackend.figure_formats=jpeg",
                                             "--InlineBackend.rc={'figure.dpi': 80, 'savefig.dpi': 80}"])
    load_before, start = os.getloadavg()[0], time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata["cvlib"] = {"execution": {      # the book's Results page shows it (_ext/book_results.py)
        "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "profile": os.environ.get("CVLIB_PROFILE"),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}}
    out = out or path
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return seconds


def run_facts() -> dict:
    """The profile, device and commit of this run."""
    from cvlib import runtime

    device = runtime.device()
    name = device.type
    if device.type == "cuda":
        import torch

        name = torch.cuda.get_device_name(device)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"profile": os.environ["CVLIB_PROFILE"], "device": name, "commit": commit + ("+changes" if dirty else "")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: every chapter)")
    parser.add_argument("--out", type=Path, help="write the executed notebooks under this folder")
    parser.add_argument("--results", type=Path, help="write the run's headline numbers to this JSON file")
    args = parser.parse_args(argv)
    os.environ.setdefault("CVLIB_PROFILE", "quick")
    paths = [p.resolve() for p in args.paths] or sorted((ROOT / "chapters").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    from cvlib.results import read_headlines

    record = {**run_facts(), "chapters": {}}
    total = 0.0
    for path in paths:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path(path.name)
        target = args.out.resolve() / rel if args.out else path
        print(f"executing {path} ...", flush=True)
        seconds = execute(path, target)
        total += seconds
        print(f"  {seconds:6.1f} s  {path}", flush=True)
        record["chapters"][str(rel)] = {"seconds": round(seconds, 1),
                                                           "headlines": read_headlines(target)}
        if args.results:                    # after every chapter: a run stopped half way keeps what it did
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{len(paths)} notebooks in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
