"""What each part of the simulated line is: its batch, serial, defect and pose, with ground truth.

Every value comes from a random generator seeded by (run seed, part index, purpose), so a part is
the same whatever order parts are asked for in, and a run is the same on every machine.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from inspection.recipe import SIMULATED_DEFECTS, SyntheticSourceSettings
from inspection.types import PartTruth

log = logging.getLogger(__name__)

SERIAL_PATTERN = re.compile(r"^SN-\d{4}-\d{6}$")
"""What a well-formed serial looks like (the demo recipe's ``expected``)."""

MAX_POSE_ANGLE_DEG = 3.0

SURFACE_DEFECTS = ("scratch", "stain", "dent")
LABEL_DEFECTS = ("missing_label", "skewed_label", "misprinted_lot")
CODE_DEFECTS = ("damaged_code", "wrong_serial_format", "duplicate_serial")

PRODUCTS = (
    "AQUAPURE 500 ML",
    "VITAMIN C 60 TABS",
    "OAT CRUNCH 750 G",
    "ALPINE TEA 20 BAGS",
    "SEA SALT 1 KG",
    "COLD BREW 330 ML",
)

_CODE_NAMES = {
    "datamatrix": ("DataMatrix",),
    "code128": ("Code128",),
    "both": ("DataMatrix", "Code128"),
}

# Purposes of the per-part random streams; changing one never shifts another.
_DEFECT, _SERIAL, _POSE, _DRAW, _GAP, _DUP, _BATCH, _INK = range(8)
_SERIALS_PER_PREFIX = 1_000_000
# A duplicate copies a recently made part, as a reused print job on a real line would.
_DUPLICATE_LOOKBACK = 40
# Parts whose printed serial is not their own canonical one (or cannot be read) make poor originals.
_NOT_AN_ORIGINAL = frozenset({"wrong_serial_format", "duplicate_serial", "damaged_code"})


def seed_key(seed: int) -> int:
    """The run seed as a non-negative int for SeedSequence (negative seeds stay distinct)."""
    return seed % (1 << 64)


def part_rng(seed: int, index: int, purpose: int) -> np.random.Generator:
    """The random stream of one part for one purpose."""
    return np.random.default_rng((seed_key(seed), index, purpose))


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """What every part of one run shares: the product, its lot and expiry, the serial range."""

    product: str
    lot: str
    """Lot code as printed, e.g. ``L2611A`` (year 26, week 11, batch A)."""
    expiry: str
    """Expiry as ``YYYY-MM``; printed as ``EXP YYYY-MM``."""
    serial_prefix: int
    serial_start: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PartPlan:
    """Everything needed to draw one part; the drawing itself uses ``draw_seed`` for its details."""

    index: int
    defect: str | None
    serial: str
    codes: tuple[str, ...]
    lot: str
    """Lot as printed on the label ("" when the label is missing)."""
    expiry: str
    product: str
    dx: float
    """Offset of the pack centre from the frame centre (triggered mode), px of a 768 px pack."""
    dy: float
    angle_deg: float
    """Rotation of the pack, degrees, counter-clockwise."""
    label_dx: float
    """Offset of the label from its place on the pack, px of a 768 px pack."""
    label_dy: float
    label_angle_deg: float
    """Rotation of the label on the pack (|·| ≥ 8 for skewed_label, ≤ 1.5 otherwise)."""
    gap: float
    """Free belt before this part in video mode, as a fraction of the pack width."""
    draw_seed: int
    duplicate_of: int | None = None
    damaged_codes: tuple[str, ...] = ()
    print_fade: float = 0.0
    """Fraction of the label print's contrast lost (a printer running out of ink), 0..1."""

    def truth(self) -> PartTruth:
        return PartTruth(
            part_index=self.index,
            defects=(self.defect,) if self.defect else (),
            serial=self.serial,
            codes=self.codes,
            lot=self.lot,
            expiry=self.expiry,
            product=self.product,
        )


def make_batch(seed: int) -> Batch:
    rng = part_rng(seed, 0, _BATCH)
    year = int(rng.integers(24, 28))
    week = int(rng.integers(1, 53))
    letter = "ABCDEFGH"[int(rng.integers(0, 8))]
    # far enough ahead that a good part never carries an expired date while this code is in use
    exp_year = 2030 + int(rng.integers(0, 4))
    exp_month = int(rng.integers(1, 13))
    return Batch(
        product=PRODUCTS[int(rng.integers(0, len(PRODUCTS)))],
        lot=f"L{year:02d}{week:02d}{letter}",
        expiry=f"{exp_year:04d}-{exp_month:02d}",
        serial_prefix=year * 100 + week,
        serial_start=int(rng.integers(0, 500_000)),
    )


def misprint_lot(lot: str, rng: np.random.Generator) -> str:
    """A lot code that differs from ``lot`` the way a worn or mis-set printer gets it wrong."""
    digits = [i for i, c in enumerate(lot) if c.isdigit()]
    for _ in range(20):
        kind = int(rng.integers(0, 4))
        chars = list(lot)
        if kind == 0:  # one digit wrong
            i = digits[int(rng.integers(0, len(digits)))]
            chars[i] = str((int(chars[i]) + int(rng.integers(1, 10))) % 10)
        elif kind == 1:  # batch letter wrong
            chars[-1] = "JKMNPRSTUX"[int(rng.integers(0, 10))]
        elif kind == 2:  # one character not printed
            del chars[1 + int(rng.integers(0, len(chars) - 1))]
        else:  # two neighbouring digits swapped
            i = digits[int(rng.integers(0, len(digits) - 1))]
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        out = "".join(chars)
        if out != lot:
            return out
    return lot[:-1] + ("Z" if lot[-1] != "Z" else "Y")


def malformed_serial(serial: str, rng: np.random.Generator) -> str:
    """A readable serial that breaks the ``SN-dddd-dddddd`` format (printer set up wrongly)."""
    prefix, number = serial[3:7], serial[8:]
    kind = int(rng.integers(0, 5))
    if kind == 0:
        out = f"SN{prefix}{number}"
    elif kind == 1:
        i = int(rng.integers(0, 4))
        out = f"SN-{prefix[:i]}{'AOBS'[int(rng.integers(0, 4))]}{prefix[i + 1 :]}-{number}"
    elif kind == 2:
        out = f"SN-{prefix}-{number[1:]}"
    elif kind == 3:
        out = f"sn-{prefix}-{number}"
    else:
        out = f"SN_{prefix}_{number}"
    assert not SERIAL_PATTERN.match(out), out
    return out


class LinePlan:
    """The seeded plan of a run: which part is what. Cheap to query for any index."""

    def __init__(self, settings: SyntheticSourceSettings) -> None:
        self.seed = settings.seed
        self.defect_rate = settings.defect_rate
        kinds = tuple(settings.defects) if settings.defects else SIMULATED_DEFECTS
        self.kinds: tuple[str, ...] = tuple(dict.fromkeys(kinds))
        self.codes = _CODE_NAMES[settings.codes]
        self.batch = make_batch(settings.seed)
        self.fade = settings.print_fade
        self.ink_variation = settings.print_variation

    def print_fade(self, index: int) -> float:
        """How much of its contrast part ``index``'s label print has lost: the printer's
        part-to-part variation, plus its fading once that has begun."""
        lost = 0.0
        if self.ink_variation > 0.0:
            lost = self.ink_variation * float(part_rng(self.seed, index, _INK).random())
        f = self.fade
        if f is not None and index >= f.from_part:
            lost += (index - f.from_part) * f.per_1000_parts / 1000.0
            return min(max(f.most, self.ink_variation), lost)
        return lost

    def defect_of(self, index: int) -> str | None:
        """The one defect kind of part ``index`` (None for a good part)."""
        if index < 0:
            raise ValueError(f"part index must be ≥ 0, got {index}")
        rng = part_rng(self.seed, index, _DEFECT)
        if rng.random() >= self.defect_rate:
            return None
        # The first part has nothing to duplicate; it draws from the other kinds instead.
        kinds = [k for k in self.kinds if not (index == 0 and k == "duplicate_serial")]
        if not kinds:
            return None
        return kinds[int(rng.integers(0, len(kinds)))]

    def canonical_serial(self, index: int) -> str:
        """The well-formed serial part ``index`` is given; unique within a run."""
        n = self.batch.serial_start + index
        prefix = (self.batch.serial_prefix + n // _SERIALS_PER_PREFIX) % 10_000
        return f"SN-{prefix:04d}-{n % _SERIALS_PER_PREFIX:06d}"

    def duplicate_source(self, index: int) -> int:
        """The earlier part whose serial part ``index`` (a duplicate_serial part) carries again."""
        rng = part_rng(self.seed, index, _DUP)
        start = index - 1 - int(rng.integers(0, min(index, _DUPLICATE_LOOKBACK)))
        # Walk back (then forward) to a part that printed its own serial readably.
        for j in [*range(start, -1, -1), *range(start + 1, index)]:
            if self.defect_of(j) not in _NOT_AN_ORIGINAL:
                return j
        # Every earlier part was itself unusable; part 0 always carries its own serial.
        return 0

    def part(self, index: int) -> PartPlan:
        defect = self.defect_of(index)
        b = self.batch
        serial = self.canonical_serial(index)
        duplicate_of: int | None = None
        damaged: tuple[str, ...] = ()
        if defect == "wrong_serial_format":
            serial = malformed_serial(serial, part_rng(self.seed, index, _SERIAL))
        elif defect == "duplicate_serial":
            duplicate_of = self.duplicate_source(index)
            serial = self.canonical_serial(duplicate_of)
        elif defect == "damaged_code":
            rng = part_rng(self.seed, index, _SERIAL)
            if len(self.codes) == 1 or rng.random() < 0.2:
                damaged = self.codes
            else:
                damaged = (self.codes[int(rng.integers(0, len(self.codes)))],)
        lot, expiry, product = b.lot, b.expiry, b.product
        if defect == "misprinted_lot":
            lot = misprint_lot(b.lot, part_rng(self.seed, index, _SERIAL))
        elif defect == "missing_label":
            lot = expiry = product = ""
        pose = part_rng(self.seed, index, _POSE)
        dx, dy, angle, label_dx, label_dy, tilt, skew = pose.uniform(-1.0, 1.0, size=7)
        label_angle = 1.5 * float(tilt)
        if defect == "skewed_label":
            label_angle = float(np.copysign(8.5 + 4.5 * abs(skew), skew))
        return PartPlan(
            index=index,
            defect=defect,
            serial=serial,
            codes=self.codes,
            lot=lot,
            expiry=expiry,
            product=product,
            dx=30.0 * float(dx),
            dy=25.0 * float(dy),
            angle_deg=MAX_POSE_ANGLE_DEG * float(angle),
            label_dx=4.0 * float(label_dx),
            label_dy=4.0 * float(label_dy),
            label_angle_deg=label_angle,
            gap=float(part_rng(self.seed, index, _GAP).uniform(0.3, 0.7)),
            draw_seed=int(part_rng(self.seed, index, _DRAW).integers(0, 1 << 62)),
            duplicate_of=duplicate_of,
            damaged_codes=damaged,
            print_fade=self.print_fade(index),
        )
