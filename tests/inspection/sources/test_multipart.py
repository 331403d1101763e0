"""The MJPEG framing on its own: parts come back byte for byte however the stream is cut up."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspection.sources.multipart import MultipartError, MultipartReader

BOUNDARY = "frame"


class Trickle(io.RawIOBase):
    """A stream that hands out its bytes in the given chunk sizes, as a socket does."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = data
        self._pos = 0
        self._sizes = sizes or [len(data) or 1]
        self._turn = 0

    def read1(self, size: int = -1, /) -> bytes:
        step = self._sizes[self._turn % len(self._sizes)]
        self._turn += 1
        n = step if size < 0 else min(step, size)
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


def with_length(bodies: list[bytes], mark: str = "--" + BOUNDARY) -> bytes:
    out = b""
    for body in bodies:
        out += f"{mark}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        out += body + b"\r\n"
    return out


def boundary_only(bodies: list[bytes], mark: str = "--" + BOUNDARY, eol: bytes = b"\r\n") -> bytes:
    out = eol + mark.encode() + eol
    for body in bodies:
        out += b"Content-Type: image/jpeg" + eol + eol + body + eol + mark.encode() + eol
    return out


def read_all(data: bytes, sizes: list[int], boundary: str = BOUNDARY) -> list[bytes]:
    reader = MultipartReader(Trickle(data, sizes), boundary)
    parts = []
    while (part := reader.next_part()) is not None:
        parts.append(part)
    return parts


# bodies full of line breaks and of the boundary's own letters, as JPEG data can be
body_bytes = st.binary(max_size=600).map(
    lambda b: b.replace(b"\x00", b"\n").replace(b"\x01", b"--fram").replace(b"\x02", b"\r\n-")
)
chunkings = st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(body_bytes, min_size=1, max_size=5), sizes=chunkings)
def test_parts_with_content_length_come_back_exactly(bodies: list[bytes], sizes: list[int]) -> None:
    assert read_all(with_length(bodies), sizes) == bodies


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(body_bytes, min_size=1, max_size=5), sizes=chunkings)
def test_boundary_only_parts_come_back_exactly(bodies: list[bytes], sizes: list[int]) -> None:
    # a body never holds the boundary itself (RFC 2046 asks the sender to choose it so)
    bodies = [b.replace(b"frame", b"fr4me") for b in bodies]
    assert read_all(boundary_only(bodies), sizes) == bodies


def test_boundary_given_with_or_without_its_dashes_and_bare_line_feeds() -> None:
    bodies = [b"\xff\xd8one\n\xff\xd9", b"\xff\xd8two\xff\xd9"]
    assert read_all(boundary_only(bodies, eol=b"\n"), [5]) == bodies
    assert read_all(with_length(bodies, mark="--myb"), [7], boundary="--myb") == bodies
    assert read_all(with_length(bodies, mark="--myb"), [7], boundary='"myb"') == bodies


def test_a_line_that_only_starts_like_the_boundary_stays_in_the_body() -> None:
    bodies = [b"abc\r\n--frameX\r\ndef", b"ghi"]
    assert read_all(boundary_only(bodies), [3]) == bodies


def test_closing_delimiter_and_end_of_stream_end_the_parts() -> None:
    data = boundary_only([b"a"]) + b"Content-Type: x\r\n\r\nb\r\n--frame--\r\n"
    assert read_all(data, [4]) == [b"a", b"b"]
    # a stream cut off inside a part: the part is not handed out half
    assert read_all(with_length([b"abcdef"])[:-5], [4]) == []


def test_broken_framing_is_named() -> None:
    bad_length = b"--frame\r\nContent-Length: many\r\n\r\nxx"
    with pytest.raises(MultipartError, match="bad Content-Length 'many'"):
        read_all(bad_length, [50])
    huge = b"--frame\r\nContent-Length: 999999999999\r\n\r\n"
    with pytest.raises(MultipartError, match="out of range"):
        read_all(huge, [50])
    endless_headers = b"--frame\r\n" + b"X-A: b\r\n" * 70
    with pytest.raises(MultipartError, match="more than 64 header lines"):
        read_all(endless_headers, [50])
    no_line_end = b"--frame\r\n" + b"X" * 10_000
    with pytest.raises(MultipartError, match="longer than 8192 bytes"):
        read_all(no_line_end, [1000])
    with pytest.raises(MultipartError, match="ended inside a part's headers"):
        read_all(b"--frame\r\nContent-Type: x\r\n", [50])
