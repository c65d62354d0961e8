"""Importing cvlib pins torch's CPU kernels to AVX2 (cvlib/__init__.py), so that a seed trains to the
same numbers on CPUs with and without AVX-512; a value the user set is kept."""
import os
import subprocess
import sys

PINNED = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
SHOW = ("import torch, cvlib, os; torch.ones(2).sum(); "
        "print(torch.backends.cpu.get_cpu_capability(), *[os.environ[k] for k in %r])" % (PINNED,))


def run(**env):
    base = {k: v for k, v in os.environ.items() if k not in PINNED}
    out = subprocess.run([sys.executable, "-c", SHOW], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_import_pins_the_kernels_even_after_torch_was_imported():
    capability, *values = run()
    assert values == ["avx2", "AVX2", "AVX2"]
    assert capability in ("AVX2", "DEFAULT")        # DEFAULT: a CPU without AVX2 (or not x86)


def test_a_value_set_by_the_user_is_kept():
    _, aten, onednn, mkl = run(ATEN_CPU_CAPABILITY="default")
    assert (aten, onednn, mkl) == ("default", "AVX2", "AVX2")
