"""`make full`, the README's full-profile command, run on the CPU for one small chapter with the quick
profile, so that the command itself cannot rot: the committed notebook untouched, the executed copy
under FULL_OUT, and a results file with the chapter's time, headline numbers, device and commit."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "chapters/00-data/scenes.ipynb"


def test_make_full_on_one_chapter(tmp_path):
    committed = (ROOT / CHAPTER).read_bytes()
    venv = Path(sys.executable).parent.parent
    out, results = tmp_path / "full", tmp_path / "results" / "full-cpu.json"
    env = {**os.environ, "CVLIB_PROFILE": "quick", "CVLIB_DEVICE": "cpu"}
    run = subprocess.run(["make", "-C", str(ROOT), "full", f"VENV={venv}", f"CHAPTERS={ROOT / CHAPTER}",
                          f"FULL_OUT={out}", f"RESULTS={results}"], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (ROOT / CHAPTER).read_bytes() == committed, "make full overwrote the committed notebook"
    assert (out / CHAPTER).is_file()
    record = json.loads(results.read_text())
    assert record["profile"] == "quick" and record["device"] == "cpu" and record["commit"]
    chapter = record["chapters"][CHAPTER]
    assert chapter["seconds"] > 0 and isinstance(chapter["headlines"], dict)
