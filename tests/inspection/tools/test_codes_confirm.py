"""No misread traded for a read: add-ons only when asked, retry reads only when confirmed."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from pydantic import ValidationError

from inspection.evaluation.retail_codes import retail_code
from inspection.recipe import CodeToolSettings
from inspection.tools.codes import CodeTool
from inspection.tools.codes_confirm import (
    Ballot,
    Corners,
    ReadStep,
    Vote,
    confirm_on_crop,
    crop_around,
    needs_confirmation,
    quiet_zones_clear,
)
from inspection.tools.codes_reader import CodeReader
from inspection.tools.codes_rungs import LA, RUNGS, Prepared, Rung
from inspection.types import Frame, Verdict

RETAIL = ["EAN13", "UPCA", "UPCE", "EAN8"]


def printed(content: str, fmt: str, scale: int = 3, pad: int = 30) -> np.ndarray:
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale, add_hrt=True))
    return np.ascontiguousarray(np.pad(image, pad, constant_values=255))


def inspect(image: np.ndarray, **settings: object) -> tuple[Verdict, list[str]]:
    raw: dict[str, object] = {"type": "codes", "id": "ean", "formats": RETAIL, **settings}
    tool = CodeTool(CodeToolSettings.model_validate(raw), "cam")
    result = tool.inspect(Frame(camera="cam", seq=1, t_ns=0, image=image))
    return result.verdict, [c["text"] for c in result.details["codes"]]


# ---- add-ons ------------------------------------------------------------------------------


def test_an_add_on_is_not_appended_unless_the_recipe_asks() -> None:
    with_add_on = printed("978073520044 51299", "EAN13")
    assert inspect(with_add_on) == (Verdict.PASS, ["9780735200449"])
    assert inspect(with_add_on, add_on="ignore")[1] == ["9780735200449"]
    assert inspect(with_add_on, add_on="read")[1] == ["978073520044951299"]
    assert inspect(with_add_on, add_on="require")[1] == ["978073520044951299"]


def test_a_required_add_on_that_is_missing_reads_nothing() -> None:
    upce = printed("0123456", "UPCE")
    assert inspect(upce)[1] == ["0012345000065"]
    assert inspect(upce, add_on="read")[1] == ["0012345000065"]
    assert inspect(upce, add_on="require") == (Verdict.FAIL, [])


def test_add_on_mode_is_checked() -> None:
    with pytest.raises(ValidationError, match="add_on"):
        CodeToolSettings.model_validate(
            {"type": "codes", "id": "c", "formats": ["EAN13"], "add_on": "sometimes"}
        )
    with pytest.raises(ValueError, match="unknown add-on mode 'sometimes'"):
        CodeReader(["EAN13"], add_on="sometimes")


# ---- confirmation of retry reads --------------------------------------------------------


def shows(content: str, fmt: str = "EAN13") -> Rung:
    """A retry step that 'sees' another code than the image holds: a misreading step."""
    other = printed(content, fmt)

    def prepare(gray: np.ndarray) -> Prepared:
        return other, None

    return Rung(f"sees {content}", prepare, LA, 0.5)


def blank() -> np.ndarray:
    return np.full((200, 400), 255, np.uint8)


def test_a_retry_read_no_other_step_confirms_is_not_reported() -> None:
    reader = CodeReader(RETAIL, rungs=(RUNGS[0], shows("400580880104"), *RUNGS[1:4]))
    outcome = reader.read(blank(), min_count=1, budget_ms=10_000.0)
    assert outcome.codes == ()
    assert outcome.unconfirmed == 1
    # every crop step and every later ladder step was tried before giving up
    assert outcome.confirm_steps > 0 and outcome.attempts == 5


def test_a_retry_read_a_second_different_step_repeats_is_reported() -> None:
    liar = shows("400580880104")
    twin = Rung("sees it too", liar.prepare, LA, 0.5)
    reader = CodeReader(RETAIL, rungs=(RUNGS[0], liar, RUNGS[1], twin, RUNGS[2]))
    outcome = reader.read(blank(), min_count=1, budget_ms=10_000.0)
    assert [c.text for c in outcome.codes] == ["4005808801046"]
    assert outcome.codes[0].attempt == liar.name
    assert outcome.unconfirmed == 0


def test_a_rival_reading_of_the_same_place_blocks_confirmation() -> None:
    ballot = Ballot()
    line = ((10.0, 50.0), (110.0, 50.0), (110.0, 50.0), (10.0, 50.0))
    ballot.vote("upscale 2x", "4005808801046", "EAN13", line)
    ballot.vote("otsu", "0100580000084", "UPCE", line)
    ballot.vote("sharpen", "4005808801046", "EAN13", line)
    assert ballot.confirmed("4005808801046", "EAN13", line)  # 2 steps against 1
    ballot.vote("median", "0100580000084", "UPCE", line)
    assert not ballot.confirmed("4005808801046", "EAN13", line)  # 2 against 2: undecided
    assert not ballot.confirmed("0100580000084", "UPCE", line)
    far = ((300.0, 50.0), (400.0, 50.0), (400.0, 50.0), (300.0, 50.0))
    ballot.vote("blur", "0100580000084", "UPCE", far)  # another place: no vote here
    assert ballot.support("4005808801046", "EAN13", line) == (2, 2)


def test_matrix_codes_need_no_second_read() -> None:
    assert needs_confirmation("EAN13") and needs_confirmation("Code128")
    assert not needs_confirmation("DataMatrix") and not needs_confirmation("QRCode")


def test_the_crop_turns_a_slanted_code_level() -> None:
    image = np.full((400, 400), 255, np.uint8)
    # a scan line from (100, 100) to (300, 300): 45° down to the right
    patch, to_image = crop_around(image, ((100.0, 100.0), (300.0, 300.0), (300, 300), (100, 100)))
    length = float(np.hypot(200, 200))
    assert patch.shape[1] == int(length * 1.3 + 16)
    # the patch's middle row maps onto the scan line
    h, w = patch.shape
    left = to_image @ np.array([w / 2 - length / 2, h / 2, 1.0])
    right = to_image @ np.array([w / 2 + length / 2, h / 2, 1.0])
    assert np.allclose(left, (100, 100), atol=1.0) and np.allclose(right, (300, 300), atol=1.0)


# ---- on generated hard photos ----------------------------------------------------------------


def step_reads(image: np.ndarray) -> dict[str, list[str]]:
    """What each ladder step alone reads (real zxing-cpp on each step's prepared image)."""
    formats = zxingcpp.barcode_formats_from_str(",".join(RETAIL))
    out = {}
    for rung in RUNGS:
        prepared = rung.prepare(image)
        if prepared is not None:
            reads = zxingcpp.read_barcodes(
                prepared[0],
                formats=formats,
                binarizer=rung.binarizer,
                text_mode=zxingcpp.TextMode.Plain,
            )
            out[rung.name] = [r.text for r in reads]
    return out


def test_a_photo_one_retry_step_misreads_gives_no_code() -> None:
    photo = retail_code(391)  # an EAN-13 one retry step turns into another valid number
    reads = step_reads(photo.image)
    assert reads["plain"] == []
    wrong = {t for texts in reads.values() for t in texts if t != photo.expected}
    assert wrong, "the case must hold a misreading step"
    verdict, texts = inspect(photo.image)
    assert (verdict, texts) == (Verdict.FAIL, [])
    outcome = CodeReader(RETAIL).read(photo.image, min_count=1, budget_ms=150.0)
    assert outcome.unconfirmed == 1


@pytest.mark.parametrize("seed", [3, 12, 24])
def test_a_photo_the_plain_read_misses_is_still_read_when_confirmed(seed: int) -> None:
    photo = retail_code(seed)
    assert step_reads(photo.image)["plain"] == []
    assert inspect(photo.image) == (Verdict.PASS, [photo.expected])


def test_bars_beyond_the_ends_fail_the_quiet_zone_check() -> None:
    image = printed("0123456", "UPCE", scale=3, pad=30)
    (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.UPCE)
    p = code.position
    corners = tuple(
        (float(q.x), float(q.y)) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    )
    assert quiet_zones_clear(image, corners, "UPCE", code.text)
    # a longer symbol's bars, 3 modules past the right end, the bars' full height
    right = int(max(x for x, _ in corners))
    barred = image.copy()
    barred[:, right + 9 : right + 12] = 0
    assert not quiet_zones_clear(barred, corners, "UPCE", code.text)
    assert quiet_zones_clear(barred, corners, "DataMatrix", code.text)  # not an EAN/UPC: unchecked


def test_a_upc_e_two_steps_read_inside_an_ean_13_is_refused_and_the_ean_13_read() -> None:
    photo = retail_code(564)  # an EAN-13 whose guard-bar foot reads as a valid UPC-E
    assert photo.format == "EAN13" and step_reads(photo.image)["plain"] == []
    rung = next(r for r in RUNGS if r.name == "upscale 2x")
    prepared, back = rung.prepare(photo.image) or (photo.image, None)
    (wrong,) = zxingcpp.read_barcodes(
        prepared, formats=zxingcpp.BarcodeFormat.UPCE, text_mode=zxingcpp.TextMode.Plain
    )
    assert wrong.text != photo.expected and back is not None
    p = wrong.position
    pts = np.array([[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)])
    corners = tuple((float(x), float(y)) for x, y in pts @ back[:, :2].T + back[:, 2])
    # A second, different step agrees on the misread: confirmation alone would let it through.
    ballot = Ballot()
    ballot.vote(rung.name, wrong.text, "UPCE", corners)
    steps = [(r.name, reader_step(r)) for r in RUNGS]
    vote = Vote(step=rung.name, text=wrong.text, format="UPCE", corners=corners)
    confirm_on_crop(ballot, vote, photo.image, steps, lambda: True)
    assert ballot.confirmed(wrong.text, "UPCE", corners)
    # The bars beyond its ends give it away; the ladder goes on and confirms the EAN-13.
    assert not quiet_zones_clear(photo.image, corners, "UPCE", wrong.text)
    assert inspect(photo.image) == (Verdict.PASS, [photo.expected])


def reader_step(rung: Rung) -> ReadStep:
    def read(patch: np.ndarray) -> list[tuple[str, str, Corners]]:
        prepared = rung.prepare(patch)
        if prepared is None:
            return []
        image, back = prepared
        out = []
        for bc in zxingcpp.read_barcodes(
            image,
            formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.EANUPC),
            binarizer=rung.binarizer,
            text_mode=zxingcpp.TextMode.Plain,
        ):
            p = bc.position
            pts = np.array(
                [[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                float,
            )
            if back is not None:
                pts = pts @ back[:, :2].T + back[:, 2]
            out.append((bc.text, bc.format.name, tuple((float(x), float(y)) for x, y in pts)))
        return out

    return read
