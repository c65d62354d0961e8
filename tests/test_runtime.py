import pytest
import torch

from cvlib import runtime


def test_profile_defaults_to_device(monkeypatch):
    monkeypatch.delenv("CVLIB_PROFILE", raising=False)
    expected = "full" if runtime.device().type == "cuda" else "quick"
    assert runtime.profile() == expected


def test_profile_override_and_bad_value(monkeypatch):
    monkeypatch.setenv("CVLIB_PROFILE", "full")
    assert runtime.profile() == "full" and runtime.pick(quick=1, full=2) == 2
    monkeypatch.setenv("CVLIB_PROFILE", "fast")
    with pytest.raises(ValueError, match="CVLIB_PROFILE must be one of"):
        runtime.profile()


def test_device_override(monkeypatch):
    monkeypatch.setenv("CVLIB_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")
    monkeypatch.setenv("CVLIB_DEVICE", "toaster")
    with pytest.raises(ValueError, match="not a torch device"):
        runtime.device()


def test_seed_repeats_and_rejects_non_int():
    runtime.seed(3)
    a = torch.randn(5)
    runtime.seed(3)
    assert torch.equal(a, torch.randn(5))
    with pytest.raises(TypeError, match="seed must be an int"):
        runtime.seed("3")
