"""The pieces of the pipeline on their own: decision, ordering, grouping, masks, ledger."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from inspection.pipeline.decide import ShiftLedger, decide
from inspection.pipeline.masks import PrivacyMask
from inspection.pipeline.ordering import ReorderBuffer
from inspection.pipeline.parts import FrameGrouper
from inspection.types import Frame, Inspection, ToolResult, Verdict


def result(verdict: Verdict, reason: str = "", tool: str = "t", keys: tuple[str, ...] = ()):
    return ToolResult(tool_id=tool, tool_type="x", verdict=verdict, reason=reason, unique_keys=keys)


def inspection(seq: int, *results: ToolResult) -> Inspection:
    v, why = decide(results)
    return Inspection(
        inspection_id=f"id{seq}",
        station="s",
        part_seq=seq,
        verdict=v,
        reason=why,
        tool_results=results,
        frames=(),
        recipe_name="r",
        recipe_version="1",
    )


def test_decide_pass_only_when_all_tools_passed():
    assert decide([result(Verdict.PASS), result(Verdict.PASS)]) == (Verdict.PASS, "")
    assert decide([]) == (Verdict.ERROR, "no inspection tool ran on this part")
    assert decide([result(Verdict.PASS), result(Verdict.FAIL, "scratch", "a")]) == (
        Verdict.FAIL,
        "a: scratch",
    )
    v, why = decide([result(Verdict.FAIL, "scratch", "a"), result(Verdict.ERROR, "timeout", "b")])
    assert v is Verdict.ERROR and why == "b: timeout; a: scratch"
    assert Verdict.ERROR.is_reject and Verdict.FAIL.is_reject and not Verdict.PASS.is_reject


def test_reorder_buffer_releases_in_order_and_skips_dropped():
    buf = ReorderBuffer()
    buf.put(inspection(2, result(Verdict.PASS)))
    assert buf.pop(0.01) is None  # 0 not there yet
    buf.put(inspection(0, result(Verdict.PASS)))
    assert buf.pop(0.01).part_seq == 0
    assert buf.pop(0.01) is None
    buf.skip(1)
    assert buf.pop(0.01).part_seq == 2
    assert buf.next_seq == 3


def test_reorder_buffer_wakes_a_waiting_popper():
    buf = ReorderBuffer()
    got = []
    t = threading.Thread(target=lambda: got.append(buf.pop(5.0)))
    t.start()
    buf.put(inspection(0, result(Verdict.PASS)))
    t.join(5.0)
    assert got and got[0].part_seq == 0


def frame(cam: str, seq: int) -> Frame:
    return Frame(camera=cam, seq=seq, t_ns=1, image=np.zeros((8, 8), np.uint8))


def test_grouper_waits_for_every_camera_and_keeps_trigger_order():
    g = FrameGrouper(["a", "b"], wait_s=60)
    assert g.add("a", 0, frame("a", 0)) == []
    assert g.add("a", 1, frame("a", 1)) == []
    done = g.add("b", 0, frame("b", 0))
    assert len(done) == 1 and set(done[0].frames) == {"a", "b"}
    done = g.add("b", 1, None, "b: corrupt frame")
    assert len(done) == 1 and done[0].errors == {"b": "b: corrupt frame"}
    g.add("a", 2, frame("a", 2))
    left = g.flush()
    assert len(left) == 1 and left[0].errors == {"b": "no frame from camera b"}


def test_grouper_gives_up_on_a_silent_camera_after_its_wait():
    g = FrameGrouper(["a", "b"], wait_s=0.0)
    done = g.add("a", 0, frame("a", 0))
    assert len(done) == 1 and "no frame from camera b" in done[0].errors["b"]


@pytest.mark.parametrize("shape", [(30, 40), (30, 40, 3)])
def test_privacy_mask_blacks_out_polygon(shape):
    img = np.full(shape, 255, np.uint8)
    out = PrivacyMask([[(0, 0), (9, 0), (9, 9), (0, 9)]]).apply(img)
    assert out[:10, :10].max() == 0 and out[11:, 11:].min() == 255
    ro = np.full(shape, 255, np.uint8)
    ro.flags.writeable = False
    assert PrivacyMask([[(0, 0), (5, 0), (0, 5)]]).apply(ro)[0, 0].max() == 0  # copy made
    assert not PrivacyMask([])


def test_ledger_fails_a_repeat_and_forgets_on_reset():
    led = ShiftLedger()
    a = led.check(inspection(0, result(Verdict.PASS, keys=("SN1",))))
    b = led.check(inspection(1, result(Verdict.PASS, keys=("SN1",))))
    c = led.check(inspection(2, result(Verdict.FAIL, "bad format", keys=("SN1",))))
    assert a.verdict is Verdict.PASS
    assert b.verdict is Verdict.FAIL and "duplicate serial 'SN1' (first seen on part 1)" in b.reason
    assert c.verdict is Verdict.FAIL and "bad format" in c.reason and "duplicate" in c.reason
    led.reset()
    assert led.check(inspection(3, result(Verdict.PASS, keys=("SN1",)))).verdict is Verdict.PASS
