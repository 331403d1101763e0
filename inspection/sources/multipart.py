"""Parts of a ``multipart/x-mixed-replace`` body, the framing of MJPEG-over-HTTP cameras."""

from __future__ import annotations

from typing import Protocol

MAX_PART_BYTES = 64 * 1024 * 1024
"""No camera frame is this big; a part that is has lost its boundary, and reading on would only
fill the memory."""
_MAX_HEADER_LINES = 64
_MAX_LINE = 8192  # a header or delimiter line; longer is not HTTP framing any more
_CHUNK = 256 * 1024


class ChunkStream(Protocol):
    def read1(self, size: int = -1, /) -> bytes: ...


class MultipartError(ValueError):
    """The stream broke the multipart framing (the message says how)."""


class MultipartReader:
    """Reads one part after another from a multipart stream.

    Parts may carry a ``Content-Length`` header (read exactly that many bytes) or not (read up to
    the next boundary line, as many cameras do). Cameras disagree on whether the ``boundary``
    parameter already starts with ``--``; both are accepted.

    The stream is read in chunks of whatever has arrived (``read1``) and searched with
    ``bytes.find``: a JPEG holds a line break every ~256 bytes, and reading it line by line cost
    hundreds of Python calls per frame on the camera's reader thread.
    """

    def __init__(self, stream: ChunkStream, boundary: str) -> None:
        self._stream = stream
        b = boundary.strip().strip('"').encode("latin-1")
        self._marks = (b"--" + b, b)  # delimiter lines, with the closing "--" stripped
        self._buf = bytearray()
        self._at_part = False  # True when the last read stopped right after a delimiter line

    def next_part(self) -> bytes | None:
        """The body of the next part; None at the end of the stream (closed or closing delimiter).

        MultipartError when the framing is broken."""
        if not self._at_part:
            while True:
                line = self._line(MAX_PART_BYTES)  # a preamble, or the rest of a part
                if line is None:
                    return None
                kind = self._delimiter(line)
                if kind == "close":
                    return None
                if kind == "part":
                    break
        self._at_part = False
        if not self._buf and not self._fill():
            return None  # ended right after a delimiter: between parts, nothing is cut off
        length = self._headers()
        if length is not None:
            return self._exact(length)
        return self._until_boundary()

    # ---- buffer ------------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Append what the stream has now (blocking until something came); False at its end."""
        chunk = self._stream.read1(_CHUNK)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _line(self, limit: int = _MAX_LINE) -> bytes | None:
        """The next line with its line break; None at the end of the stream."""
        start = 0
        while (end := self._buf.find(b"\n", start)) < 0:
            start = len(self._buf)
            if start > limit:
                raise MultipartError(f"a line longer than {limit} bytes where a header was due")
            if not self._fill():
                return None
        return self._take(end + 1)

    def _delimiter(self, line: bytes) -> str | None:
        text = line.strip()
        if text in self._marks:
            return "part"
        if text.endswith(b"--") and text[:-2] in self._marks:
            return "close"
        return None

    # ---- part ------------------------------------------------------------------------------

    def _headers(self) -> int | None:
        length: int | None = None
        for _ in range(_MAX_HEADER_LINES):
            line = self._line()
            if line is None:
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
        while len(self._buf) < length:
            if not self._fill():
                return None
        return self._take(length)

    def _until_boundary(self) -> bytes | None:
        """The body up to the next delimiter line, which is consumed too (None at the end)."""
        start = 0  # where the search goes on: what was searched holds no delimiter
        while True:
            found = self._find_delimiter(start)
            if found is not None:
                body_end, line_end, kind = found
                body = self._take(body_end)
                del self._buf[: line_end - body_end]
                self._at_part = kind == "part"
                return body
            # a delimiter may straddle the end of what has come: search its last line again
            last_break = self._buf.rfind(b"\n")
            start = max(start, last_break if last_break >= 0 else 0)
            if len(self._buf) > MAX_PART_BYTES:
                raise MultipartError(f"no boundary within {MAX_PART_BYTES} bytes")
            if not self._fill():
                return None

    def _find_delimiter(self, start: int) -> tuple[int, int, str] | None:
        """(end of the body, end of the delimiter line, "part"/"close") of the first complete
        delimiter line at or after ``start``, or None.

        A delimiter line starts the buffer or follows a line break; the line break before it
        belongs to the delimiter (RFC 2046), so it is not part of the body."""
        buf = self._buf
        pos = start
        head = start == 0  # the buffer's first line is a line start too
        while True:
            hits = [c for c in (buf.find(b"\n" + m, pos) for m in self._marks) if c >= 0]
            if head and any(buf.startswith(m) for m in self._marks):
                hits.append(-1)  # an empty body: the delimiter comes first
            head = False
            if not hits:
                return None
            at = min(hits)
            line_start = at + 1
            line_end = buf.find(b"\n", line_start)
            if line_end < 0:
                return None  # the line is not complete yet: wait for more
            kind = self._delimiter(bytes(buf[line_start : line_end + 1]))
            if kind is not None:
                body_end = max(at, 0)
                if body_end > 0 and buf[body_end - 1] == 0x0D:  # the CR of CRLF
                    body_end -= 1
                return body_end, line_end + 1, kind
            pos = line_start
