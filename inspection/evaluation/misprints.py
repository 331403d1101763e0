"""Misprints to check a verification against: the expected text with one character changed.

A verifier that reads more (``read_by_position``, a second preparation of dot print) must not
pass more misprints. The hardest misprint for it is a character swapped for its look-alike of the
other class (a 2 printed where a Z belongs, an S for a 5), since reading by position chooses
within the expected class; a text without such a character gets its first digit or letter
changed to the next one instead (a 7 for a 6, a B for an A).
"""

from __future__ import annotations

import random
import string
import zlib

# Each letter's look-alike digit and each digit's look-alike letter, as dot-matrix and inkjet
# print confuse them (the recogniser's confusions seen on the generated set, and the usual ones).
# Not O for 0: in a plain 5×7 font they are the very same dots, a "misprint" no reader can see.
LOOK_ALIKES = {
    "Z": "2", "S": "5", "B": "8", "G": "6", "I": "1", "D": "0", "T": "7", "A": "4",
    "2": "Z", "5": "S", "8": "B", "6": "G", "0": "D", "1": "I", "7": "T", "4": "A", "3": "E",
    "9": "P",
}  # fmt: skip


def misprint(text: str, key: str = "") -> str:
    """``text`` with one character changed: a look-alike of the other class where there is one,
    chosen the same way for the same ``key`` (an image's name); else the first digit or letter
    stepped on by one. ``text`` itself when it holds neither (nothing to misprint)."""
    places = [i for i, c in enumerate(text) if c.upper() in LOOK_ALIKES]
    if places:
        i = random.Random(zlib.crc32(f"{key}|{text}".encode())).choice(places)
        return text[:i] + LOOK_ALIKES[text[i].upper()] + text[i + 1 :]
    for i, c in enumerate(text):
        for alphabet in (string.digits, string.ascii_uppercase, string.ascii_lowercase):
            if c in alphabet:
                return text[:i] + alphabet[(alphabet.index(c) + 1) % len(alphabet)] + text[i + 1 :]
    return text
