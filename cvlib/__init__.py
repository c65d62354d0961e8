"""cvlib: the models, ops, data and widgets of the course book on detection and segmentation.

Importing cvlib before torch computes anything pins torch's CPU kernels to AVX2, the instruction
set every x86-64 CPU of the last decade has: ATen's own kernels (ATEN_CPU_CAPABILITY), oneDNN's
convolutions (ONEDNN_MAX_CPU_ISA) and MKL's matrix products (MKL_ENABLE_INSTRUCTIONS). On a CPU
with AVX-512 they would otherwise add their floats in another order, and a small network trained
for a few hundred steps from one seed can then end somewhere else: the book's stored outputs and
sweeps would not come out again on such a machine. A variable already set is left as it is (set
all three to the CPU's own, e.g. AVX512, to trade repeatable numbers for its speed); GPUs are not
affected.
"""
import os as _os

for _name, _value in (("ATEN_CPU_CAPABILITY", "avx2"), ("ONEDNN_MAX_CPU_ISA", "AVX2"),
                      ("MKL_ENABLE_INSTRUCTIONS", "AVX2")):
    _os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
