"""The one place onnxruntime sessions are made: providers, threads, optimisation, hash check, warm-up.

Each worker owns its sessions (DESIGN §6); intra-op threads are capped so the GUI keeps a core.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSettings:
    """How to run a model: ``threads`` intra-op threads (inter-op is always 1)."""

    threads: int = 1
    providers: tuple[str, ...] = ("CPUExecutionProvider",)


def available_providers(wanted: Sequence[str]) -> list[str]:
    """The wanted providers this onnxruntime build has, CPU always last as the fallback."""
    import onnxruntime as ort

    have = set(ort.get_available_providers())
    out = [p for p in wanted if p in have and p != "CPUExecutionProvider"]
    return [*out, "CPUExecutionProvider"]


def make_session(
    path: Path,
    *,
    sha256: str | None = None,
    settings: SessionSettings | None = None,
    warmup: Mapping[str, np.ndarray] | None = None,
    content: bytes | None = None,
) -> Any:  # onnxruntime.InferenceSession (imported lazily)
    """An onnxruntime session for ``path``; ModelError names the file and what is wrong.

    ``sha256`` (from the model's manifest) is checked before loading; ``warmup`` inputs are run
    once so the first part does not pay for memory planning. ``content``: the model made in
    memory from ``path`` (e.g. a narrowed recogniser), run instead of the file.
    """
    import onnxruntime as ort

    settings = settings or SessionSettings()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    if sha256 is not None:
        digest = sha256_file(path)
        if digest != sha256.lower():
            raise ModelError(
                f"{path}: sha256 is {digest[:16]}…, its manifest says {sha256[:16]}…; "
                "the file was changed or damaged"
            )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, settings.threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # idle intra-op threads would otherwise spin for a while after each run, taking the cores
    # from the numpy work that follows (the defect tool's search: 2-3x slower on 2 cores) and
    # from the GUI the thread cap is meant to leave a core for
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            content if content is not None else str(path),
            sess_options=opts,
            providers=available_providers(settings.providers),
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"{path}: not a usable ONNX model ({_first_line(exc)})") from None
    if warmup is not None:
        try:
            session.run(None, dict(warmup))
        except Exception as exc:
            raise ModelError(f"{path}: warm-up run failed ({_first_line(exc)})") from None
    return session


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def describe_io(
    session: Any,
) -> tuple[list[tuple[str, list[object]]], list[tuple[str, list[object]]]]:
    """(name, shape) of each input and output, shapes with symbolic dims as strings."""
    ins = [(i.name, list(i.shape)) for i in session.get_inputs()]
    outs = [(o.name, list(o.shape)) for o in session.get_outputs()]
    return ins, outs
