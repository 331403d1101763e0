"""Parts of a ``multipart/x-mixed-replace`` body, the framing of MJPEG-over-HTTP cameras."""

from __future__ import annotations

from typing import Protocol

MAX_PART_BYTES = 64 * 1024 * 1024
"""No camera frame is this big; a part that is has lost its boundary, and reading on would only
fill the memory."""
_MAX_HEADER_LINES = 64


class LineStream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...

    def read(self, size: int = -1, /) -> bytes: ...


class MultipartError(ValueError):
    """The stream broke the multipart framing (the message says how)."""


class MultipartReader:
    """Reads one part after another from a multipart stream.

    Parts may carry a ``Content-Length`` header (read exactly that many bytes) or not (read up to
    the next boundary line, as many cameras do). Cameras disagree on whether the ``boundary``
    parameter already starts with ``--``; both are accepted.
    """

    def __init__(self, stream: LineStream, boundary: str) -> None:
        self._stream = stream
        b = boundary.strip().strip('"').encode("latin-1")
        self._marks = {b"--" + b, b}  # delimiter lines, with the closing "--" stripped
        self._at_part = False  # True when the last read stopped right after a delimiter line

    def next_part(self) -> bytes | None:
        """The body of the next part; None at the end of the stream (closed or closing delimiter).

        MultipartError when the framing is broken."""
        if not self._at_part:
            while True:
                line = self._stream.readline(MAX_PART_BYTES)
                if not line:
                    return None
                kind = self._delimiter(line)
                if kind == "close":
                    return None
                if kind == "part":
                    break
        self._at_part = False
        length = self._headers()
        if length is not None:
            body = self._exact(length)
            if body is None:
                return None
            return body
        return self._until_boundary()

    def _delimiter(self, line: bytes) -> str | None:
        text = line.strip()
        if text in self._marks:
            return "part"
        if text.endswith(b"--") and text[:-2] in self._marks:
            return "close"
        return None

    def _headers(self) -> int | None:
        length: int | None = None
        for _ in range(_MAX_HEADER_LINES):
            line = self._stream.readline(MAX_PART_BYTES)
            if not line:
                raise MultipartError("stream ended inside a part's headers")
            if not line.strip():
                return length
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise MultipartError(f"bad Content-Length {value.strip()!r}") from None
                if not 0 <= length <= MAX_PART_BYTES:
                    raise MultipartError(f"Content-Length {length} is out of range")
        raise MultipartError(f"a part has more than {_MAX_HEADER_LINES} header lines")

    def _exact(self, length: int) -> bytes | None:
        chunks: list[bytes] = []
        left = length
        while left:
            chunk = self._stream.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _until_boundary(self) -> bytes | None:
        lines: list[bytes] = []
        size = 0
        while True:
            line = self._stream.readline(MAX_PART_BYTES)
            if not line:
                return None
            kind = self._delimiter(line) if len(line) < 200 else None
            if kind is not None:
                self._at_part = kind == "part"
                body = b"".join(lines)
                # the line break before a delimiter belongs to the delimiter (RFC 2046)
                if body.endswith(b"\r\n"):
                    return body[:-2]
                return body[:-1] if body.endswith(b"\n") else body
            lines.append(line)
            size += len(line)
            if size > MAX_PART_BYTES:
                raise MultipartError(f"no boundary within {MAX_PART_BYTES} bytes")
