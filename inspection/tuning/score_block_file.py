"""One block's score columns as a file: read straight into the caller's arrays, checked first.

Layout: ``MAGIC``, the header's length (uint32, little-endian), the header (JSON: the block's
key, each column's name, dtype and length, and each column's CRC-32), then each column's bytes
in ``COLUMN_DTYPES`` order. A plain layout rather than ``.npz``: the columns go from the page
cache into the week's arrays with one copy each and no zip bookkeeping, and a load reads (and
checks) only the columns it needs: Tuning has no use for the parts' times, Trends only for the
ids, scores and times.

Nothing in a file is trusted: a file whose magic, header, key, columns, size or checksum is not
the expected one is refused with the reason (``BlockFileError``), and the caller rebuilds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from inspection.tuning.score_columns import COLUMN_DTYPES, ScoreColumns

MAGIC = b"LSTSCOL2"
_LEN = struct.Struct("<I")
_MAX_HEADER = 1 << 16


class BlockFileError(ValueError):
    """A block file that cannot be used; the message says why."""


class StaleBlockFile(BlockFileError):
    """A sound block file of an earlier state of the database."""


def _columns_header(rows: int) -> list[list[Any]]:
    return [[name, dtype.str, rows] for name, dtype in COLUMN_DTYPES.items()]


def write_block(path: Path, key: str, block: ScoreColumns) -> None:
    """Write ``block`` with its ``key`` (JSON text) to ``path`` under a unique temporary name,
    renamed into place, so concurrent writers and crashes never leave half a file. OSError."""
    arrays = [
        np.ascontiguousarray(block.arrays()[name], dtype=d) for name, d in COLUMN_DTYPES.items()
    ]
    crcs = [zlib.crc32(a.view(np.uint8).data) for a in arrays]
    header = json.dumps(
        {"key": key, "columns": _columns_header(block.n), "crc32": crcs}, sort_keys=True
    ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + _LEN.pack(len(header)) + header)
            for a in arrays:
                out.write(a.view(np.uint8).data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_header(f: Any) -> tuple[bytes, int, dict[str, Any]]:
    """The lead bytes, the header's size and the header of an open block file."""
    lead = f.read(len(MAGIC) + _LEN.size)
    if len(lead) < len(MAGIC) + _LEN.size or lead[: len(MAGIC)] != MAGIC:
        raise BlockFileError("is not a tool scores block file")
    (size,) = _LEN.unpack(lead[len(MAGIC) :])
    if size > _MAX_HEADER:
        raise BlockFileError(f"has a header of {size} bytes")
    try:
        header = json.loads(f.read(size))
        if not isinstance(header, dict):
            raise TypeError("not an object")
        header["key"], header["columns"], [int(c) for c in header["crc32"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise BlockFileError(f"has an unreadable header ({exc})") from None
    return lead, size, header


def block_key_of(path: Path) -> str:
    """The key a block file was written for (its header only; the columns are checked when it
    is read). FileNotFoundError when there is none; BlockFileError; OSError."""
    with path.open("rb") as f:
        return str(_read_header(f)[2]["key"])


def read_block_into(
    path: Path,
    key: str,
    rows: int,
    out: dict[str, np.ndarray],
    at: int,
) -> None:
    """Read the block file ``path`` into ``out[name][at:at + rows]`` for each column ``out``
    has (the others are passed over), checking each column read against its checksum.

    FileNotFoundError / NotADirectoryError when there is none; BlockFileError when it is not the
    block of ``key`` with ``rows`` rows or is damaged (``out`` may then hold part of it); OSError.
    """
    with path.open("rb") as f:
        lead, size, header = _read_header(f)
        stored_key, columns, crcs = header["key"], header["columns"], header["crc32"]
        if stored_key != key:
            raise StaleBlockFile("is stale (the database's block changed)")
        if columns != _columns_header(rows) or len(crcs) != len(COLUMN_DTYPES):
            raise BlockFileError(f"holds other columns than {rows} rows of {list(COLUMN_DTYPES)}")
        expected = len(lead) + size + sum(rows * d.itemsize for d in COLUMN_DTYPES.values())
        if os.fstat(f.fileno()).st_size != expected:
            raise BlockFileError(f"is {os.fstat(f.fileno()).st_size} bytes, expected {expected}")
        for (name, dtype), crc in zip(COLUMN_DTYPES.items(), crcs, strict=True):
            if name not in out:
                f.seek(rows * dtype.itemsize, os.SEEK_CUR)
                continue
            view = out[name][at : at + rows].view(np.uint8).data
            if f.readinto(view) != len(view):
                raise BlockFileError("ends early")
            if zlib.crc32(view) != int(crc):
                raise BlockFileError(f"is damaged (checksum of {name})")
