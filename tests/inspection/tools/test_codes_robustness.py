"""Any array through run_guarded(CodeTool) gives a ToolResult, and never PASS without a code."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inspection.recipe import CodeToolSettings
from inspection.tools.base import run_guarded
from inspection.tools.codes import CodeTool
from inspection.types import Frame, ToolResult, Verdict

DTYPES = st.sampled_from(
    [np.uint8, np.uint8, np.uint8, np.int16, np.uint16, np.float32, np.float64, np.bool_, np.int64]
)
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=96),
    st.tuples(st.integers(0, 64), st.integers(0, 64), st.sampled_from([0, 1, 2, 3, 4])),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12),
)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(DTYPES))
    shape = draw(SHAPES)
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
        arr = draw(hnp.arrays(dtype, shape, elements=elements))
    else:
        arr = draw(hnp.arrays(dtype, shape))
    if draw(st.booleans()) and arr.ndim >= 2 and arr.shape[1] >= 2:
        arr = arr[:, ::2]  # a strided, non-contiguous view
    return arr


def tool(roi: bool) -> CodeTool:
    raw: dict[str, object] = {
        "type": "codes",
        "id": "serial",
        "formats": ["DataMatrix", "QRCode"],
        "time_budget_ms": 20.0,
    }
    if roi:
        raw["roi"] = {"x": 4, "y": 4, "w": 40, "h": 40}
    return CodeTool(CodeToolSettings.model_validate(raw), "cam")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image=arrays(), roi=st.booleans())
def test_any_array_gives_a_result_and_no_pass(image: np.ndarray, roi: bool) -> None:
    result = run_guarded(tool(roi), Frame(camera="cam", seq=0, t_ns=0, image=image))
    assert isinstance(result, ToolResult)
    assert result.verdict is not Verdict.PASS
    assert result.reason


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(8, 400),
    w=st.integers(8, 400),
    colour=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_frames_without_a_code_fail_not_error(
    h: int, w: int, colour: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    shape = (h, w, 3) if colour else (h, w)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    result = run_guarded(tool(False), Frame(camera="cam", seq=0, t_ns=0, image=image))
    assert result.verdict is Verdict.FAIL
    assert result.reason == "no code read"
