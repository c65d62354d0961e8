"""The progress bar: off under TQDM_DISABLE, and few enough widget messages that nbval never loses one.

The kernel test reproduces what nbval does: it waits for a cell's reply first and only then reads the
cell's output messages, with 5 s of patience for each. A long `fit` used to send thousands of widget
messages meanwhile (ten redraws a second, and a forced redraw with every loss postfix); the kernel's
ZMQ queue dropped the overflow, sometimes including the final "idle", and nbval failed at random.
"""
import collections
import os
import textwrap

import pytest

from cvlib.progress import MININTERVAL, disabled_by_environment, progress_bar


@pytest.mark.parametrize("value, off", [("", False), ("0", False), ("false", False), ("1", True),
                                        ("True", True), ("yes", True)])
def test_tqdm_disable_is_honoured(monkeypatch, value, off):
    monkeypatch.setenv("TQDM_DISABLE", value)
    assert disabled_by_environment() is off
    assert progress_bar(range(3)).disable is off
    assert progress_bar(range(3), enabled=False).disable, "enabled=False always silences the bar"
    assert list(progress_bar(range(3))) == [0, 1, 2]


def test_redraws_at_most_once_a_second(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    bar = progress_bar(total=5)
    bar.close()
    assert bar.mininterval == MININTERVAL >= 1.0


FIT_CELL = textwrap.dedent("""
    import torch
    from cvlib.train import fit
    model = torch.nn.Linear(2, 1)
    batch = (torch.randn(4, 2), torch.randn(4, 1))
    step = lambda m, b, d: torch.nn.functional.mse_loss(m(b[0]), b[1])
    history = fit(model, [batch], seconds={seconds}, step_fn=step, schedule="constant")
    print(history.steps, round(history.seconds, 2))
""")


def test_a_long_fit_in_a_kernel_sends_few_messages_and_nbval_sees_the_end():
    jupyter_client = pytest.importorskip("jupyter_client")
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}   # the bar on, as for a reader
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        seconds = 6
        msg_id = kc.execute(FIT_CELL.format(seconds=seconds))
        while kc.get_shell_msg(timeout=300)["parent_header"].get("msg_id") != msg_id:
            pass                                                     # as nbval: the reply first
        counts, idle, text = collections.Counter(), False, ""
        while not idle:
            msg = kc.get_iopub_msg(timeout=5)                        # as nbval: raises Empty when lost
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            counts[msg["msg_type"]] += 1
            text += msg["content"].get("text", "")
            if msg["msg_type"] == "error":
                pytest.fail(f"the cell failed: {msg['content']['evalue']}")
            idle = msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    steps, _ = text.split()
    assert int(steps) > 1000, "the steps are meant to be fast: many steps, few redraws"
    redraws_allowed = seconds / MININTERVAL + 3                      # the first, the last, the close
    assert counts["comm_msg"] <= 3 * redraws_allowed, dict(counts)  # at most 3 messages per redraw
