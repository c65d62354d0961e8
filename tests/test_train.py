"""fit(): budgets, loss history, NaN detection; checkpoints and their errors."""
import pytest
import torch
from torch import nn

from cvlib.train import fit, load, save, shuffled_batches


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
