"""The rows of a generated production day: one part's inspection, tool results and codes.

The JSON is formatted by hand from templates instead of ``to_json`` (a few microseconds per call
times millions of rows), with the same key order and separators, so a reader cannot tell these
rows from the store's. ``tests/inspection/evaluation/test_record_day.py`` pins that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

RECIPE = "Housing A"
VERSIONS = (("7", 0.50), ("8", 0.55))
"""(recipe version, surface defect threshold) before and after the mid-period change."""
CAMERA = "cam1"
LOT_MIN_CONFIDENCE = 0.60
PASS_EVERY = 50  # the archive's default: keep 1 in 50 passed parts' images

# Part categories.
PASS, DEFECT, NO_CODE, LOT_UNREADABLE, CODE_FORMAT, DATE_MISSING, DUPLICATE = range(7)
NO_FRAME, NO_PART = 7, 8
NO_FRAME_REASON = f"no frame from camera {CAMERA}"
NO_PART_REASON = "no part found in the frame to align the defect check to"

_HASHES = {
    v: '{"surface": "%s", "label": "%s"}'  # noqa: UP031 - a JSON template, braces included
    % (
        hashlib.sha256(f"surface model {v}".encode()).hexdigest(),
        hashlib.sha256(b"ocr model").hexdigest(),
    )
    for v, _ in VERSIONS
}


@dataclass(slots=True)
class ChunkRows:
    """Rows for one transaction, in the schema's INSERT order."""

    inspections: list[tuple[Any, ...]] = field(default_factory=list)
    tools: list[tuple[Any, ...]] = field(default_factory=list)
    codes: list[tuple[int, str]] = field(default_factory=list)
    measures: list[tuple[str, str, int, float]] = field(default_factory=list)
    """``tool_measures`` rows, one measure after the other (each in part order)."""


class DayRows:
    """Turns parts' times and categories into rows; draws its numbers from ``rng``."""

    def __init__(
        self, rng: np.random.Generator, *, station: str, line: str, with_tools: bool
    ) -> None:
        self._rng = rng
        self._station = station
        self._line = line
        self._with_tools = with_tools

    def chunk(
        self,
        *,
        ids: range,
        seqs: range,
        t: np.ndarray,
        kind: np.ndarray,
        second: np.ndarray,
        lot_b: np.ndarray,
        prod_day: np.ndarray,
        shift: np.ndarray,
        lots: tuple[str, str],
        runs: tuple[str, str],
    ) -> ChunkRows:
        """Rows of parts ``ids`` (rowids) / ``seqs`` (part numbers) at times ``t`` (UNIX s)."""
        rng = self._rng
        m = len(t)
        hexes = rng.integers(0, 2**63, size=(m, 2), dtype=np.int64).tolist()
        queued = rng.uniform(0.2, 1.0, m)
        d_surface = np.maximum(rng.normal(14.0, 2.0, m), 4.0)
        d_serial = np.maximum(rng.normal(6.0, 1.5, m), 1.0)
        d_label = np.maximum(rng.normal(22.0, 4.0, m), 8.0)
        started = queued + rng.uniform(0.05, 0.3, m)
        decided = started + d_surface + d_serial + d_label
        dispatched = decided + rng.uniform(0.05, 0.2, m)
        stored = dispatched + rng.uniform(2.0, 10.0, m)
        thr = np.where(second, VERSIONS[1][1], VERSIONS[0][1])
        score = np.where(
            kind == DEFECT,
            thr + rng.exponential(0.12, m) + 0.001,
            np.minimum(rng.gamma(4.0, 0.04, m), thr - 0.01),
        )
        quality = np.clip(rng.normal(0.9, 0.04, m), 0.3, 1.0).round(3)
        lot_conf = np.where(
            kind == LOT_UNREADABLE,
            rng.uniform(0.2, LOT_MIN_CONFIDENCE - 0.01, m),
            np.clip(rng.normal(0.95, 0.03, m), LOT_MIN_CONFIDENCE, 1.0),
        ).round(4)
        date_conf = np.clip(rng.normal(0.95, 0.03, m), LOT_MIN_CONFIDENCE, 1.0).round(4)
        contrast = rng.normal(0.62, 0.05, m).round(4)
        sharpness = rng.normal(41.0, 6.0, m).round(4)
        regions = rng.integers(1, 4, m)
        area = rng.integers(30, 900, m)
        xy = rng.integers(40, 560, (m, 2))
        offset = rng.uniform(0.0, 6.0, m).round(2)
        rotation = rng.normal(0.0, 0.8, m).round(3)
        match = rng.uniform(0.85, 0.99, m).round(4)
        # Times and durations come from integer ns in the store: 6 decimals of ms at most.
        for a in (queued, started, decided, dispatched, stored, d_surface, d_serial, d_label):
            a.round(6, out=a)
        columns = [
            a.tolist()
            for a in (
                t, kind, second, lot_b, queued, started, decided, dispatched, stored, thr,
                score, quality, lot_conf, date_conf, contrast, sharpness, regions, area, xy,
                offset, rotation, match, d_surface, d_serial, d_label, prod_day, shift,
            )
        ]  # fmt: skip
        out = ChunkRows()
        for rowid, seq, (a, b), (
                ti, k, sec, lb, q_ms, s_ms, dec_ms, dis_ms, sto_ms, th, sc, qu, lc, dc, co, sh,
                nreg, px, (x, y), off, rot, mat, dsu, dse, dla, pday, shf,
        ) in zip(ids, seqs, hexes, zip(*columns, strict=True), strict=True):  # fmt: skip
            iid = f"{a:016x}{b:016x}"
            serial = f"SN{seq + 1:09d}"
            read = self._code_read(k, serial, seq)
            tools = self._tools(
                rowid, k, th, sc, qu, read, lc, dc, co, sh, nreg, px, x, y, off, rot, mat,
                dsu, dse, dla, lots[lb],
            )  # fmt: skip
            verdict, reason = _decide(tools)
            image = None
            if k != PASS or seq % PASS_EVERY == 0:
                image = f"{dt.datetime.fromtimestamp(ti):%Y-%m-%d}/{iid}__{CAMERA}.jpg"
            out.inspections.append(
                (
                    iid, self._station, seq, verdict, reason, RECIPE, VERSIONS[sec][0],
                    _HASHES[VERSIONS[sec][0]], ti, int(ti * 1e9), q_ms, s_ms, dec_ms, dis_ms,
                    sto_ms, None, image, runs[sec], pday, shf, self._line, lots[lb], None,
                )
            )  # fmt: skip
            if self._with_tools:
                out.tools.extend(tools)
            if read is not None:
                out.codes.append((rowid, read))
        if self._with_tools:
            out.measures = _measure_rows(
                np.arange(ids.start, ids.stop), kind, area, quality, contrast, sharpness,
                lot_conf, date_conf, offset, rotation, match,
            )  # fmt: skip
        return out

    @staticmethod
    def _code_read(k: int, serial: str, seq: int) -> str | None:
        if k in (NO_CODE, NO_FRAME, NO_PART):
            return None
        if k == CODE_FORMAT:
            return f"S{serial[3:]}?"  # a misprinted serial: read, but not of the expected form
        if k == DUPLICATE:
            return f"SN{max(seq - 40, 0) + 1:09d}"  # a reprint of a label already used
        return serial

    @staticmethod
    def _tools(
        rowid: int, k: int, th: float, sc: float, qu: float, read: str | None, lc: float,
        dc: float, co: float, sh: float, nreg: int, px: int, x: int, y: int, off: float,
        rot: float, mat: float, dsu: float, dse: float, dla: float, lot: str,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """The surface (anomaly), serial (codes) and label tool rows of one part."""
        if k == NO_FRAME:
            return [
                _row(rowid, tid, ttype, "ERROR", NO_FRAME_REASON)
                for tid, ttype in (("surface", "anomaly"), ("serial", "codes"), ("label", "label"))
            ]
        rows: list[tuple[Any, ...]] = []
        # surface
        if k == NO_PART:
            rows.append(_row(rowid, "surface", "anomaly", "ERROR", NO_PART_REASON, duration=dsu))
        elif k == DEFECT:
            total = px * nreg
            reason = (
                f"defect found (score {sc:.2f} > {th:.2f}, "
                f"{nreg} region{'s' if nreg != 1 else ''}, {total} px²)"
            )
            region = ", ".join(
                f'{{"x": {x + 30 * j}, "y": {y}, "w": 12, "h": 9, "area_px": {px}, '
                f'"peak": {round(sc + 0.1, 3)!r}}}'
                for j in range(nreg)
            )
            meas = (
                f'{{"score": {sc!r}, "threshold": {th!r}, "regions": {float(nreg)!r}, '
                f'"max_region_px": {float(px)!r}}}'
            )
            details = f'{{"regions": [{region}], "regions_total": {nreg}}}'
            rows.append(
                (rowid, "surface", "anomaly", "FAIL", reason, meas, details, dsu, "[]", sc, th)
            )
        else:
            meas = f'{{"score": {sc!r}, "threshold": {th!r}, "regions": 0.0, "max_region_px": 0.0}}'
            details = '{"regions": [], "regions_total": 0}'
            rows.append((rowid, "surface", "anomaly", "PASS", "", meas, details, dsu, "[]", sc, th))
        # serial
        if read is None:
            reason = "no code read"
            codes, count, q, keys = "", 0.0, 0.0, "[]"
        else:
            reason = ""
            if k == CODE_FORMAT:
                reason = f"code {read!r} does not match the expected format"
            elif k == DUPLICATE:
                reason = f"duplicate serial {read!r} (first seen on part {int(read[2:])})"
            q = qu
            codes = (
                f'{{"text": "{read}", "format": "DataMatrix", "position": [[{x}.0, {y}.0], '
                f"[{x + 64}.0, {y}.0], [{x + 64}.0, {y + 64}.0], [{x}.0, {y + 64}.0]], "
                f'"quality": {qu!r}, "content": "text"}}'
            )
            count, keys = 1.0, f'["{read}"]'
        meas = f'{{"codes_read": {count!r}, "attempts": 1.0, "quality_min": {q!r}}}'
        details = f'{{"codes": [{codes}], "attempts": 1, "attempt": "plain"}}'
        verdict = "FAIL" if reason else "PASS"
        rows.append((rowid, "serial", "codes", verdict, reason, meas, details, dse, keys, q, None))
        # label
        if k == NO_PART:
            rows.append(_row(rowid, "label", "label", "FAIL", "label missing", duration=dla))
            return rows
        lot_reason = (
            f"lot unreadable (confidence {lc:.2f} < {LOT_MIN_CONFIDENCE:.2f})"
            if k == LOT_UNREADABLE
            else ""
        )
        date_reason = "date not found on the label" if k == DATE_MISSING else ""
        date_text = "" if k == DATE_MISSING else "EXP 2027-06"
        fields = [
            _field("lot", lot, lc, lot_reason),
            _field("date", date_text, dc if date_text else 0.0, date_reason),
        ]
        conf = (lc, dc if date_text else 0.0)
        meas = (
            f'{{"lot_contrast": {co!r}, "lot_sharpness": {sh!r}, "date_contrast": {co!r}, '
            f'"date_sharpness": {sh!r}, "lot_confidence": {conf[0]!r}, '
            f'"date_confidence": {conf[1]!r}}}'
        )
        details = (
            f'{{"fields": [{", ".join(fields)}], "offset_px": {off!r}, '
            f'"rotation_deg": {rot!r}, "match": {mat!r}, "scale": 1.0}}'
        )
        reason = "; ".join(r for r in (lot_reason, date_reason) if r)
        verdict = "FAIL" if reason else "PASS"
        rows.append(
            (rowid, "label", "label", verdict, reason, meas, details, dla, "[]", min(conf), None)
        )
        return rows


def _measure_rows(
    ids: np.ndarray, kind: np.ndarray, area: np.ndarray, quality: np.ndarray,
    contrast: np.ndarray, sharpness: np.ndarray, lot_conf: np.ndarray, date_conf: np.ndarray,
    offset: np.ndarray, rotation: np.ndarray, match: np.ndarray,
) -> list[tuple[str, str, int, float]]:  # fmt: skip
    """The ``tool_measures`` rows of a chunk's parts: the numbers ``_tools`` puts in the JSON
    that storage keeps as rows of their own (``storage/tool_measures.py``), column by column."""
    judged = (kind != NO_FRAME) & (kind != NO_PART)  # the surface and label tools had a part
    framed = kind != NO_FRAME  # the code tool ran
    read = framed & (kind != NO_CODE) & (kind != NO_PART)
    columns: list[tuple[str, str, np.ndarray, np.ndarray]] = [
        ("surface", "max_region_px", judged, np.where(kind == DEFECT, area, 0).astype(float)),
        ("serial", "attempts", framed, np.ones(len(kind))),
        ("serial", "quality_min", framed, np.where(read, quality, 0.0)),
        ("label", "offset_px", judged, offset),
        ("label", "rotation_deg", judged, rotation),
        ("label", "match", judged, match),
        ("label", "lot_contrast", judged, contrast),
        ("label", "lot_sharpness", judged, sharpness),
        ("label", "date_contrast", judged, contrast),
        ("label", "date_sharpness", judged, sharpness),
        ("label", "lot_confidence", judged, lot_conf),
        ("label", "date_confidence", judged, np.where(kind == DATE_MISSING, 0.0, date_conf)),
    ]
    out: list[tuple[str, str, int, float]] = []
    for tool_id, measure, has, value in columns:
        out.extend(
            zip(
                repeat(tool_id),
                repeat(measure),
                ids[has].tolist(),
                value[has].tolist(),
                strict=False,  # repeat() is endless
            )
        )
    return out


def _row(
    rowid: int, tool_id: str, tool_type: str, verdict: str, reason: str, duration: float = 0.0
) -> tuple[Any, ...]:
    """A tool row with no measurements (a tool that could not judge the part)."""
    return (rowid, tool_id, tool_type, verdict, reason, "{}", "{}", duration, "[]", None, None)


def _field(name: str, text: str, confidence: float, reason: str) -> str:
    verdict = "FAIL" if reason else "PASS"
    return (
        f'{{"name": "{name}", "text": "{text}", "value": "{text}", '
        f'"confidence": {confidence!r}, "verdict": "{verdict}", "reason": "{reason}"}}'
    )


def _decide(tools: Sequence[tuple[Any, ...]]) -> tuple[str, str]:
    """The part's verdict and reason from its tool rows, as ``pipeline.decide`` words them."""
    errors = [f"{r[1]}: {r[4]}" for r in tools if r[3] == "ERROR"]
    fails = [f"{r[1]}: {r[4]}" for r in tools if r[3] == "FAIL"]
    if errors:
        return "ERROR", "; ".join(errors + fails)
    if fails:
        return "FAIL", "; ".join(fails)
    return "PASS", ""
