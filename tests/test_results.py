"""headline(): printed, glued into the notebook as myst-nb does, and read back from a stored notebook."""
import math

import nbformat
import pytest
from nbclient import NotebookClient

from cvlib.results import headline, read_headlines


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
