"""headline(): printed, glued into the notebook as myst-nb does, and read back from a stored notebook."""
import math
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cvlib.results import GLUE_MIME, headline, read_headlines


def test_headline_prints_and_checks(capsys):
    assert headline("test_map50", 0.8125, bar=0.6, label="mAP@0.5") == 0.8125
    assert "mAP@0.5: 0.812 (bar >= 0.6: met)" in capsys.readouterr().out
    headline("error", 0.3, bar=0.2, higher_is_better=False)
    assert "(bar <= 0.2: NOT met)" in capsys.readouterr().out
    for key, value in (("has space", 1.0), ("", 1.0), ("ok", math.nan), ("ok", math.inf)):
        with pytest.raises(ValueError):
            headline(key, value)


def test_glued_values_are_read_back_from_an_executed_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from cvlib.results import headline\n"
        "headline('test_miou', 0.8123456, bar=0.8)\nheadline('seconds', 12.5)")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert read_headlines(path) == {"test_miou": 0.8123456, "test_miou_bar": 0.8, "seconds": 12.5}


def test_headline_times_are_glued_with_the_device_and_profile(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from cvlib.results import headline_times\n"
        "headline_times(72.4, 0.0069)\nheadline_times(None, 0.1, prefix='ss_')")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    out = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "headline model: trained in 72 s, 6.9 ms per test image (cpu, quick profile)" in out
    assert "ss: 100.0 ms per test image" in out
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert read_headlines(path) == pytest.approx({"train_s": 72.4, "test_ms": 6.9, "ss_test_ms": 100.0})
    glued = {o["metadata"]["scrapbook"]["name"]: o["data"][GLUE_MIME] for o in nb.cells[0].outputs
             if "scrapbook" in o.get("metadata", {})}
    assert glued["device"] == "cpu" and glued["profile"] == "quick"   # no quotes: {glue:text} shows cpu


@pytest.mark.parametrize("train, test", [(-1.0, 0.1), (1.0, math.nan), (math.inf, 0.1)])
def test_headline_times_refuse_impossible_times(train, test):
    from cvlib.results import headline_times
    with pytest.raises(ValueError, match="a time must be a finite number"):
        headline_times(train, test)


def test_the_results_page_roles_read_the_committed_files(tmp_path):
    """{full} reads results/full-*.json (a dash when there is none); {chapter-time} the notebook's
    execution metadata (scripts/execute.py)."""
    import json
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
    from book_results import chapter_time_role, full_role

    inliner = SimpleNamespace(document=SimpleNamespace(settings=SimpleNamespace(
        env=SimpleNamespace(srcdir=str(tmp_path)))))
    text = lambda role, arg: role("r", arg, arg, 1, inliner)[0][0].astext()
    assert text(full_role, "chapters/a.ipynb::test_miou:.3f") == "\u2014"
    (tmp_path / "results").mkdir()
    record = {"device": "NVIDIA H200", "chapters": {"chapters/a.ipynb": {
        "seconds": 95.2, "headlines": {"test_miou": 0.91234}}}}
    (tmp_path / "results" / "full-cuda.json").write_text(json.dumps(record))
    assert text(full_role, "chapters/a.ipynb::test_miou:.3f") == "0.912 (NVIDIA H200)"
    assert text(full_role, "chapters/a.ipynb::seconds:.0f") == "95 (NVIDIA H200)"
    assert text(full_role, "chapters/b.ipynb::test_miou:.3f") == "\u2014"
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert text(chapter_time_role, "a.ipynb") == "\u2014"
    nb.metadata["cvlib"] = {"execution": {"seconds": 123.4, "date": "2026-12-01", "cores": 2,
                                          "OMP_NUM_THREADS": "1", "load_average": [1.0, 2.1]}}
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert text(chapter_time_role, "a.ipynb") == "123 s (2 cores, 1 thread(s), load 1.0-2.1, 2026-12-01)"
