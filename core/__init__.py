"""Patchwise core: the Qt-free comparison engine (see docs/ARCHITECTURE.md).

Before anything imports torch: OpenMP threads that finish a parallel region
sleep instead of spin-waiting (OMP_WAIT_POLICY=PASSIVE, unless the user set it).
On a loaded 2-core machine spinning threads fight every other process for the
cores; measured here (load average ~10), MTCNN on a 1 MP photo took 2.9 s with
spinning and 0.24 s without (issue 12). It only takes effect when core is
imported before torch, as main.py and the benchmarks do.

On Linux with glibc, freed memory is kept for reuse instead of being handed back
to the system at once (blocks up to 32 MB come from the heap, and up to 128 MB
free at its top is kept), unless the user set glibc's MALLOC_* variables. Torch
allocates every intermediate map afresh; with glibc's defaults each MTCNN run on
a 1 MP photo touched ~7,600 new pages (30 MB) and spent 14-29 ms of system time
on them, and ~500 pages and ~1 ms with this policy (issue 12). The price: the
process keeps up to 128 MB more than it uses at a given moment.
"""

import ctypes
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def _keep_freed_memory() -> None:
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    mallopt(_M_TRIM_THRESHOLD, 128 * 1024 * 1024)


_keep_freed_memory()

__version__ = "0.1.0"
