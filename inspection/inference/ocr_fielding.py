"""Reading a text line by position: each character within the class of the one expected there.

Industrial OCR calls this *fielding*: a lot code ``Z39 06:43`` has a letter first and digits
after, so where a dot-printed ``Z`` looks more like a ``2`` to the recogniser, the best *letter*
at that place is taken instead. Here the classes come from the expected text itself: a digit
where it has a digit, a letter (either case) where it has a letter, and exactly its sign where it
has any other sign; spaces are free.

The read is a best path through the recogniser's per-frame character probabilities (CTC), kept
to those classes, with free text allowed before and after (the line may hold more than the
field). A character is only taken when the recogniser gave it at least ``FLOOR`` probability at
its place: without a floor a clean ``2`` printed where a ``Z`` was expected would be read as the
``Z`` (on generated dot-matrix codes, 139 of 300 such look-alike misprints passed with no floor).
The floor was chosen on the development seed (1) of ``lineside eval ocr --generate dot_matrix
--misprints``: 0.05 and 0.1 read the same 91.0 % of lines there, 0.2 fewer; the higher of the two
passes fewer misprints on other sets.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

# Lowest probability the recogniser must give each character of a read by position (see above).
FLOOR = 0.1
_NEG = -1e30
_SIGNS_FREE = frozenset(" \t")


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldedRead:
    """A line read by position against ``expected``: the characters chosen (spaces as in
    ``expected``), their mean probability, and the least of them."""

    expected: str
    text: str
    confidence: float
    weakest: float


def position_classes(expected: str, charset: list[str]) -> list[np.ndarray] | None:
    """Per non-space character of ``expected``, the class indices (into ``charset``) allowed
    there; None when a character is not in the recogniser's charset (it can never be read)."""
    index = {c: i for i, c in enumerate(charset) if c}
    digits = np.array([index[c] for c in string.digits if c in index])
    letters = np.array([index[c] for c in string.ascii_letters if c in index])
    out: list[np.ndarray] = []
    for ch in expected:
        if ch in _SIGNS_FREE:
            continue
        if ch in string.digits:
            out.append(digits)
        elif ch in string.ascii_letters:
            out.append(letters)
        elif ch in index:
            out.append(np.array([index[ch]]))
        else:
            return None
    return out or None


def read_by_position(
    probs: np.ndarray,
    charset: list[str],
    expected: str,
    *,
    blank: int = 0,
    space: int | None = None,
    floor: float = FLOOR,
) -> FieldedRead | None:
    """The line whose per-frame probabilities are ``probs`` (float (T, C), rows summing to 1;
    ``charset[i]`` the character of class i) read by position against ``expected``: the frames
    that show ``expected`` best are found, then at each character's frames the recogniser's
    first choice within that character's class is taken. None when ``expected`` cannot be read
    this way (a character outside the charset, too few frames) or a character taken has under
    ``floor`` probability."""
    classes = position_classes(expected, charset)
    if classes is None or probs.ndim != 2:
        return None
    index = {c: i for i, c in enumerate(charset) if c}
    wanted = [index[ch] for ch in expected if ch not in _SIGNS_FREE]
    spans = _align(probs, wanted, blank, space)
    if spans is None:
        return None
    taken: list[str] = []
    picked: list[float] = []
    for frames, allowed in zip(spans, classes, strict=True):
        best = probs[np.ix_(np.asarray(frames), allowed)].max(axis=0)
        j = int(best.argmax())
        taken.append(charset[int(allowed[j])])
        picked.append(float(best[j]))
    if min(picked) < floor:
        return None
    chars = iter(taken)
    text = "".join(ch if ch in _SIGNS_FREE else next(chars) for ch in expected)
    return FieldedRead(
        expected=expected,
        text=text,
        confidence=float(np.mean(picked)),
        weakest=float(min(picked)),
    )


def _align(
    probs: np.ndarray, wanted: list[int], blank: int, space: int | None
) -> list[list[int]] | None:
    """The frames of each character of ``wanted`` (class indices) on the best CTC path that
    reads free text, then ``wanted``, then free text (a character repeats over frames; two equal
    characters in a row need a blank between); None when no such path fits the frames."""
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    n_frames, n_chars = logp.shape[0], len(wanted)
    if n_frames < n_chars:
        return None
    ids = np.asarray(wanted)
    emit = logp[:, ids]  # (T, K)
    gap = logp[:, blank] if space is None else np.maximum(logp[:, blank], logp[:, space])
    free = logp.max(axis=1)  # free text takes whatever the frame shows best
    # a character may follow the one before directly only when the two differ
    direct = np.concatenate([[False], ids[1:] != ids[:-1]])

    before, after = 0.0, _NEG
    chars = np.full(n_chars, _NEG)
    blanks = np.full(n_chars, _NEG)
    # how each state was reached at each frame: chars 0 stayed, 1 from the blank (or free text)
    # before, 2 from the character before; blanks 0 stayed, 1 from its character; after 0
    # stayed, 1 from the last blank, 2 from the last character
    char_how = np.zeros((n_frames, n_chars), np.int8)
    blank_how = np.zeros((n_frames, n_chars), np.int8)
    after_how = np.zeros(n_frames, np.int8)
    for t in range(n_frames):
        from_gap = np.concatenate([[before], blanks[:-1]])
        from_char = np.where(direct, np.concatenate([[_NEG], chars[:-1]]), _NEG)
        options = np.stack([chars, from_gap, from_char])
        char_how[t] = options.argmax(axis=0)
        new_chars = options.max(axis=0) + emit[t]
        blank_how[t] = chars > blanks
        new_blanks = np.maximum(blanks, chars) + gap[t]
        ends = (after, blanks[-1], chars[-1])
        after_how[t] = int(np.argmax(ends))
        after = ends[after_how[t]] + free[t]
        before += free[t]
        chars, blanks = new_chars, new_blanks

    ends = (after, blanks[-1], chars[-1])
    if max(ends) <= _NEG / 2:
        return None
    kind, k = [("after", 0), ("blank", n_chars - 1), ("char", n_chars - 1)][int(np.argmax(ends))]
    spans: list[list[int]] = [[] for _ in wanted]
    for t in range(n_frames - 1, -1, -1):
        if kind == "after":
            how = after_how[t]
            kind, k = ("after", 0) if how == 0 else ("blank" if how == 1 else "char", n_chars - 1)
        elif kind == "blank":
            if blank_how[t, k]:
                kind = "char"
        else:
            spans[k].append(t)
            how = char_how[t, k]
            if how == 1:
                if k == 0:
                    break
                kind, k = "blank", k - 1
            elif how == 2:
                k -= 1
    if any(not s for s in spans):
        return None
    return spans
