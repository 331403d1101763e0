"""A small real disk for disk-full tests: a tmpfs the test mounts (root only) and fills."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(where: Path, size_mb: int) -> Iterator[Path]:
    """Mount a ``size_mb`` tmpfs at ``where`` for the duration; fails the test when it cannot
    (the disk-full behaviour is only believable on a disk that really fills)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI and the set-up script run as root)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "lineside-test", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cannot mount a tmpfs at {where}: {done.stderr.strip()}"
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Write a ballast file until the disk has only ``leave_bytes`` free (or none); its path."""
    ballast = disk / "ballast.bin"
    chunk = b"\0" * (256 * 1024)
    with ballast.open("ab", buffering=0) as f:
        while True:
            st = os.statvfs(disk)
            want = min(len(chunk), st.f_bavail * st.f_frsize - leave_bytes)
            if want <= 0:
                break
            try:
                f.write(chunk[:want])
            except OSError:  # full: that is the point
                break
    return ballast
