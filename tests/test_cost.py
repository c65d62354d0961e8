"""cvlib.cost: multiply-adds and activation bytes counted by hand, the median timing helper."""
import pytest
import torch
from torch import nn

from cvlib.cost import activation_bytes, count_macs, macs_by_layer, median_seconds, timed_call


def test_count_macs_and_activation_bytes_by_hand():
    conv = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU())
    x = torch.rand(1, 3, 8, 8)
    assert count_macs(conv, x) == 8 * 8 * 5 * 3 * 3 * 3
    assert activation_bytes(conv, x) == 2 * 5 * 8 * 8 * 4   # conv output and ReLU output, float32
    deconv = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)
    assert count_macs(deconv, torch.rand(1, 4, 5, 5)) == 5 * 5 * 4 * 2 * 4 * 4
    grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)        # each output reads 2 of the 4 channels
    assert count_macs(grouped, torch.rand(1, 4, 5, 5)) == 5 * 5 * 6 * 2 * 3 * 3
    assert count_macs(nn.Linear(7, 3), torch.rand(2, 7)) == 2 * 3 * 7


def test_counting_leaves_no_hooks_and_leaves_the_model_in_eval_mode():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    count_macs(model, torch.rand(2, 3, 8, 8))
    assert not model.training
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(TypeError, match="model"):
        count_macs(lambda x: x, torch.rand(1, 3, 4, 4))


def test_median_seconds_calls_warmup_plus_repeat_times():
    calls = []
    seconds = median_seconds(calls.append, 1, repeat=3, warmup=2)
    assert len(calls) == 5 and seconds >= 0
    assert timed_call(sum, [1, 2])[1] == 3
    with pytest.raises(ValueError, match="repeat"):
        median_seconds(calls.append, 1, repeat=0)


def test_macs_by_layer_names_each_layer_and_sums_to_count_macs():
    model = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 8 * 8, 7))
    x = torch.rand(2, 3, 8, 8)
    per_layer = macs_by_layer(model, x)
    assert per_layer == {"0": 2 * 8 * 8 * 5 * 3 * 3 * 3, "3": 2 * 7 * 5 * 8 * 8}
    assert sum(per_layer.values()) == count_macs(model, x)
