"""Patchwise core: the Qt-free comparison engine (see docs/ARCHITECTURE.md).

Before anything imports torch: OpenMP threads that finish a parallel region
sleep instead of spin-waiting (OMP_WAIT_POLICY=PASSIVE, unless the user set it).
On a loaded 2-core machine spinning threads fight every other process for the
cores; measured here (load average ~10), MTCNN on a 1 MP photo took 2.9 s with
spinning and 0.24 s without (issue 12). It only takes effect when core is
imported before torch, as main.py and the benchmarks do.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
