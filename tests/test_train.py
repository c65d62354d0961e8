"""fit(): budgets, loss history, NaN detection; checkpoints and their errors."""
import numpy as np
import pytest
import torch
from torch import nn

from cvlib.train import History, fit, load, save, shuffled_batches


def regression_data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, n, 16)]


def mse_step(model, batch, device):
    x, y = batch
    return {"mse": nn.functional.mse_loss(model(x.to(device)), y.to(device))}


def test_fit_learns_and_records_history():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(model, regression_data(), steps=150, step_fn=mse_step, lr=0.05, progress=False)
    assert history.steps == 150 and len(history.losses["mse"]) == 150 and len(history.losses["total"]) == 150
    assert history.last("mse", 10) < 0.01 * history.losses["mse"][0]
    assert not model.training


def test_fit_stops_with_step_on_nan():
    model = nn.Linear(3, 1)

    def nan_at_step_3(model, batch, device, calls=[0]):
        calls[0] += 1
        loss = mse_step(model, batch, device)["mse"]
        return loss * float("nan") if calls[0] == 3 else loss

    with pytest.raises(FloatingPointError, match="at step 3"):
        fit(model, regression_data(), steps=10, step_fn=nan_at_step_3, progress=False)


def test_fit_needs_a_budget_and_data():
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="budget"):
        fit(model, regression_data(), step_fn=mse_step)
    with pytest.raises(ValueError, match="empty"):
        fit(model, [], steps=3, step_fn=mse_step, progress=False)


def test_fit_time_budget():
    model = nn.Linear(3, 1)
    history = fit(model, regression_data(), seconds=0.2, step_fn=mse_step, progress=False)
    assert history.steps > 0


def test_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    path = save(model, tmp_path / "m.pt", note="hello", miou=0.5)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    meta = load(other, path)
    assert meta == {"note": "hello", "miou": 0.5}
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)


def test_checkpoint_errors(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(model, tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load(model, corrupt)
    good = save(model, tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load(model, truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not a cvlib checkpoint"):
        load(model, foreign)
    bigger = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    with pytest.raises(ValueError, match="shape mismatches"):
        load(bigger, good)


def test_shuffled_batches_reshuffle_each_pass_and_repeat_from_the_seed():
    x, y = torch.arange(10), torch.arange(10) * 10
    batches = shuffled_batches(x, y, batch_size=4, seed=1)
    first = [next(batches) for _ in range(2)]          # one pass: 2 full batches, the last 2 samples dropped
    second = [next(batches) for _ in range(2)]
    for bx, by in first + second:
        assert len(bx) == 4 and torch.equal(by, bx * 10)
    assert len(set(torch.cat([b for b, _ in first]).tolist())) == 8
    assert not torch.equal(torch.cat([b for b, _ in first]), torch.cat([b for b, _ in second]))
    again = shuffled_batches(x, y, batch_size=4, seed=1)
    assert all(torch.equal(next(again)[0], b) for b, _ in first)
    with pytest.raises(ValueError, match="same length"):
        next(shuffled_batches(x, y[:5], batch_size=2))
    with pytest.raises(ValueError, match="batch_size"):
        next(shuffled_batches(x, batch_size=11))


# ---------------------------------------------------------------- bad input and faults (issue 15)

@pytest.mark.parametrize("kwargs,error,match", [
    (dict(steps=0), ValueError, r"steps must be an int with 1 <= steps, got 0"),
    (dict(steps=2.5), TypeError, r"steps must be an int.*got 2\.5 \(float\)"),
    (dict(steps=True), TypeError, r"steps must be an int.*\(bool\)"),
    (dict(seconds=-3), ValueError, r"seconds must be a number with 0 < seconds, got -3"),
    (dict(seconds=float("nan")), ValueError, r"seconds .* got nan: it must be finite"),
    (dict(steps=3, lr=0), ValueError, r"lr must be a number with 0 < lr, got 0"),
    (dict(steps=3, lr=-1e-3), ValueError, r"lr must be"),
    (dict(steps=3, weight_decay=-1), ValueError, r"weight_decay must be"),
    (dict(steps=3, clip=0), ValueError, r"clip .* got 0"),
    (dict(steps=3, schedule="linear"), ValueError, r"schedule must be 'cosine' or 'constant'"),
], ids=["steps_0", "steps_float", "steps_bool", "seconds_negative", "seconds_nan", "lr_0", "lr_negative",
        "weight_decay_negative", "clip_0", "schedule_unknown"])
def test_fit_refuses_budgets_and_settings_that_cannot_make_sense(kwargs, error, match):
    model = nn.Linear(3, 1)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        fit(model, regression_data(), step_fn=mse_step, progress=False, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))   # nothing trained


@pytest.mark.parametrize("step_fn,error,match", [
    (lambda m, b, d: [{"boxes": torch.zeros(0, 4)}], TypeError, r"loss 'loss' must be a scalar Tensor, got list"),
    (lambda m, b, d: (m(b[0]) - b[1]) ** 2, TypeError, r"must be a scalar Tensor, got a Tensor of shape \(16, 1\).*mean"),
    (lambda m, b, d: nn.functional.mse_loss(m(b[0]), b[1]).detach(), ValueError, r"does not depend on the model"),
    (lambda m, b, d: {}, ValueError, r"empty dict of losses"),
    (lambda m, b, d: 0.5, TypeError, r"must be a scalar Tensor, got float"),
], ids=["detections_list", "per_sample_loss", "detached_loss", "empty_dict", "python_float"])
def test_fit_names_a_step_output_that_is_not_a_loss(step_fn, error, match):
    with pytest.raises(error, match=match):
        fit(nn.Linear(3, 1), regression_data(), steps=3, step_fn=step_fn, progress=False)


def test_fit_on_a_used_up_generator_says_so():
    once = (batch for batch in regression_data())        # 4 batches, readable once
    with pytest.raises(ValueError, match="used up after 1 pass.*DataLoader"):
        fit(nn.Linear(3, 1), once, steps=10, step_fn=mse_step, progress=False)


def test_fit_needs_parameters():
    with pytest.raises(ValueError, match="has no parameters"):
        fit(nn.ReLU(), regression_data(), steps=1, step_fn=mse_step, progress=False)


def test_failed_save_keeps_the_old_checkpoint_and_leaves_no_file(tmp_path):
    model = nn.Linear(3, 1)
    path = save(model, tmp_path / "k.pt", miou=0.5)
    good = path.read_bytes()
    with pytest.raises(TypeError, match=r"meta\['f'\] is a function, which a checkpoint cannot hold"):
        save(nn.Linear(3, 1), path, f=lambda x: x)
    with pytest.raises(TypeError, match=r"meta\['a'\]\[1\] is a ndarray \(convert with torch\.from_numpy\)"):
        save(nn.Linear(3, 1), path, a=[1, np.zeros(3)])
    assert path.read_bytes() == good and load(nn.Linear(3, 1), path) == {"miou": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pt"]


def test_save_killed_half_way_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model = nn.Linear(3, 1)
    path = save(model, tmp_path / "k.pt", step=1)

    def dies_half_way(obj, f):
        f.write(b"PK\x03\x04 half a zip")            # some bytes reach the disk, then the process is stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        save(model, path, step=2)
    monkeypatch.undo()
    assert load(nn.Linear(3, 1), path) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pt"]


def test_saving_twice_replaces_the_checkpoint(tmp_path):
    a, b = nn.Linear(3, 1), nn.Linear(3, 1)
    save(a, tmp_path / "k.pt", version=1)
    save(b, tmp_path / "k.pt", version=2)
    other = nn.Linear(3, 1)
    assert load(other, tmp_path / "k.pt") == {"version": 2} and torch.equal(other.weight, b.weight)


def test_dataclass_configs_are_saved_as_dicts_and_restored(tmp_path):
    from cvlib.models.detection import FastRCNN, FastRCNNConfig, RoIHeadsConfig
    from cvlib.models.localization.localizer import Localizer, LocalizerConfig

    cfg = FastRCNNConfig(channels=(4, 8, 4), roi_heads=RoIHeadsConfig(hidden=16, pooler="roi_align"))
    model = FastRCNN(cfg)
    path = save(model, tmp_path / "f.pt", config=cfg, scores={"map": np.float64(0.25)})
    raw = torch.load(path, weights_only=True)                     # plain data: readable without unpickling code
    assert raw["meta"]["config"]["fields"]["roi_heads"]["fields"]["pooler"] == "roi_align"
    meta = load(FastRCNN(cfg), path)
    assert meta["config"] == cfg and isinstance(meta["config"].roi_heads, RoIHeadsConfig)
    assert meta["scores"] == {"map": 0.25} and type(meta["scores"]["map"]) is float
    small = LocalizerConfig(widths=(4, 8), box_weight=3.0)
    assert load(Localizer(small), save(Localizer(small), tmp_path / "l.pt", config=small))["config"] == small


def test_save_refuses_a_directory_and_a_non_module(tmp_path):
    with pytest.raises(IsADirectoryError, match="give a file name"):
        save(nn.Linear(3, 1), tmp_path)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        save({"w": torch.zeros(3)}, tmp_path / "x.pt")


def test_history_last_names_a_loss_it_has_not_recorded():
    with pytest.raises(ValueError, match=r"no 'total' loss recorded yet; the history holds no losses"):
        History().last()
    with pytest.raises(ValueError, match=r"n must be an int with 1 <= n, got 0"):
        History(losses={"total": [1.0, 3.0]}).last(n=0)
    assert History(losses={"total": [1.0, 3.0]}).last(n=5) == 2.0
