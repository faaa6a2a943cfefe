"""Keeping a long build's memory from growing with the sizes of buffers it once needed.

glibc serves big allocations with mmap and returns them to the system when they are freed; but
each time such a buffer is freed it raises its threshold for using mmap (up to 32 MiB), so later
buffers of several MiB — log batches, SQLite's copies of a growing log, tar blocks — come from
the heap, where freed memory mostly stays with the process. Over a build that streams hundreds
of MB of logs this kept the resident set twice as high as the data in use (bench_memory.py).
Fixed thresholds turn that adjustment off. Nothing happens on other C libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

#: mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Allocations from this size on are mmapped (glibc's default before it adjusts itself).
MMAP_THRESHOLD = 128 * 1024
#: Free memory at the top of the heap beyond this is returned to the system.
TRIM_THRESHOLD = 4 * 1024 * 1024

_done = False


def fix_malloc_thresholds() -> bool:
    """Set glibc's mmap and trim thresholds (once per process); whether it was done."""
    global _done  # noqa: PLW0603 - a process-wide setting, made once
    if _done:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        _done = bool(
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False
    return _done
