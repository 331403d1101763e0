"""Printing one simulated pack: carton, label, codes and its defect, as a sprite ready to paste.

The plain carton (colour, fibre texture, edges, shadow) is made once per run; each part then gets a
copy with its own label, codes and defect, one light blur for the optics, and its pose rotation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from inspection.sources import synthetic_defects as defects
from inspection.sources.synthetic_plan import PartPlan
from inspection.sources.synthetic_render import (
    CODE128_CENTRE,
    CODE_ZONE,
    DATAMATRIX_CENTRE,
    LABEL_RECT,
    Geometry,
    Sprite,
)

log = logging.getLogger(__name__)

CARTON = 195.0  # grey level of the printed carton (light enough for crisp 2 px code spaces)
CARTON_TINT = (0.68, 0.96, 1.18)  # BGR: a kraft-brown carton in colour mode
INK = 26.0
LABEL_PAPER = 246.0
LABEL_INK = 22.0
REF_DM_MODULE = 7.0  # DataMatrix module size, reference px
REF_C128_MODULE = 2.0
REF_C128_HEIGHT = 74.0
SHADOW_DEPTH = 0.55
BLUR_SIGMA = 0.6  # the lens: everything printed is seen slightly soft
ANGLE_STEP = 0.25  # pose angles are drawn in these steps, so turned cartons can be reused

_FORMATS = {
    "DataMatrix": zxingcpp.BarcodeFormat.DataMatrix,
    "Code128": zxingcpp.BarcodeFormat.Code128,
}


def _paint(
    value: float, channels: int, tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> np.ndarray:
    """A pixel value for a grey level: shape () in grey, (3,) BGR in colour."""
    if channels == 1:
        return np.array(value, dtype=np.float32)
    return np.minimum(255.0, value * np.array(tint, dtype=np.float32))


@dataclass(frozen=True, slots=True)
class _Rotated:
    """The plain carton at one pose angle: flat sprite px → turned sprite px, and the results."""

    matrix: np.ndarray
    body: np.ndarray
    keep: np.ndarray
    corners: np.ndarray


class PackPrinter:
    """Makes pack sprites for one run. Not thread-safe: one per source."""

    def __init__(self, geometry: Geometry, rng: np.random.Generator) -> None:
        self.g = geometry
        self._alpha, self._carton = self._make_carton(rng)
        self._shadow_keep = self._make_shadow()
        self._keep = self._keep_from(self._alpha)
        self._labels: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._turned: dict[float, _Rotated] = {}

    # ---- once per run -------------------------------------------------------------------

    def _make_carton(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        g = self.g
        sh, sw, m = g.sprite_h, g.sprite_w, g.margin
        alpha = np.zeros((sh, sw), np.uint8)
        r = max(1, round(5 * g.scale))
        x0, y0, x1, y1 = m, m, m + g.pack_w - 1, m + g.pack_h - 1
        cv2.rectangle(alpha, (x0 + r, y0), (x1 - r, y1), 255, -1)
        cv2.rectangle(alpha, (x0, y0 + r), (x1, y1 - r), 255, -1)
        for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
            cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
        ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
        # Light from the top-left falls off a little across the carton.
        shade = 1.04 - 0.06 * (xs - m) / g.pack_w - 0.05 * (ys - m) / g.pack_h
        fibre = cv2.GaussianBlur(rng.standard_normal((sh, sw)).astype(np.float32), (0, 0), 1.1)
        grey = CARTON * shade + 9.0 * fibre
        # Bevelled edges: the carton's top face meets its sides in a darker rim.
        dist = cv2.distanceTransform((alpha > 127).astype(np.uint8), cv2.DIST_L2, 3)
        rim = max(2.0, 4.0 * g.scale)
        grey -= 40.0 * np.exp(-dist / rim) - 12.0 * np.exp(-(((dist - 2.5 * rim) / rim) ** 2))
        # A printed brand stripe along the top edge.
        stripe = (ys >= m + 4 * g.scale) & (ys < m + 12 * g.scale) & (dist > rim)
        grey[stripe] -= 62.0
        if g.channels == 3:
            colour = grey[:, :, None] * np.array(CARTON_TINT, dtype=np.float32)
            colour[stripe] = colour[stripe] * np.array([0.55, 0.55, 1.35], dtype=np.float32)
            body = colour * (alpha[:, :, None] / 255.0)
        else:
            body = grey * (alpha / 255.0)
        return alpha, cv2.GaussianBlur(np.clip(body, 0, 255).astype(np.uint8), (3, 3), BLUR_SIGMA)

    def _make_shadow(self) -> np.ndarray:
        """255 × (1 − shadow darkening) of the carton's drop shadow on the belt."""
        g = self.g
        shift = np.array([[1, 0, 5 * g.scale], [0, 1, 8 * g.scale]], dtype=np.float32)
        moved = cv2.warpAffine(self._alpha, shift, (g.sprite_w, g.sprite_h))
        soft = cv2.GaussianBlur(moved, (0, 0), max(1.0, 7.0 * g.scale))
        return (255.0 - SHADOW_DEPTH * soft).astype(np.uint8)

    def _keep_from(self, alpha: np.ndarray) -> np.ndarray:
        return cv2.multiply(255 - alpha, self._shadow_keep, scale=1.0 / 255.0)

    def _label(self, product: str, lot: str, expiry: str) -> tuple[np.ndarray, np.ndarray]:
        """The printed label and its coverage (255 = label), cached per text: a run prints the same
        label over and over."""
        key = (product, lot, expiry)
        cached = self._labels.get(key)
        if cached is not None:
            return cached
        g = self.g
        w, h = g.px(LABEL_RECT.w), g.px(LABEL_RECT.h)
        label: np.ndarray = np.full((h, w), LABEL_PAPER, np.uint8)
        s = g.scale
        font = cv2.FONT_HERSHEY_DUPLEX
        thick = max(1, round(2 * s))
        (tw, _), _ = cv2.getTextSize(product, font, 1.0, thick)
        fit = min(0.95, (w - 28 * s) / max(tw, 1))
        cv2.putText(
            label, product, (round(14 * s), round(46 * s)), font, fit, LABEL_INK, thick, cv2.LINE_AA
        )
        cv2.line(
            label,
            (round(14 * s), round(62 * s)),
            (w - round(14 * s), round(62 * s)),
            LABEL_INK,
            max(1, round(s)),
            cv2.LINE_AA,
        )
        for text, y in ((f"LOT {lot}", 112), (f"EXP {expiry}", 160)):
            cv2.putText(
                label,
                text,
                (round(14 * s), round(y * s)),
                font,
                1.15 * s,
                LABEL_INK,
                thick,
                cv2.LINE_AA,
            )
        cv2.putText(
            label,
            "KEEP DRY - STORE BELOW 25 C",
            (round(14 * s), round(200 * s)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * s,
            90,
            max(1, round(s)),
            cv2.LINE_AA,
        )
        label = cv2.GaussianBlur(label, (3, 3), BLUR_SIGMA)
        if g.channels == 3:
            label = cv2.cvtColor(label, cv2.COLOR_GRAY2BGR)
        if len(self._labels) > 64:
            self._labels.clear()
        self._labels[key] = (label, np.full((h, w), 255, np.uint8))
        return self._labels[key]

    def prepare(self, max_angle_deg: float) -> None:
        """Turn the plain carton to every pose angle up to ±``max_angle_deg`` now, not mid-run."""
        steps = round(max_angle_deg / ANGLE_STEP)
        for k in range(-steps, steps + 1):
            self._rotated(k * ANGLE_STEP)

    def _rotated(self, angle_deg: float) -> _Rotated:
        """The plain carton turned by ``angle_deg`` (cached: poses come in ANGLE_STEP steps)."""
        hit = self._turned.get(angle_deg)
        if hit is not None:
            return hit
        g = self.g
        rot = cv2.getRotationMatrix2D((g.sprite_w / 2, g.sprite_h / 2), angle_deg, 1.0)
        size = (g.sprite_w, g.sprite_h)
        m = g.margin
        corners = np.array(
            [[m, m], [m + g.pack_w, m], [m + g.pack_w, m + g.pack_h], [m, m + g.pack_h]],
            dtype=np.float32,
        )
        turned = _Rotated(
            matrix=rot,
            body=cv2.warpAffine(self._carton, rot, size, flags=cv2.INTER_LINEAR, borderValue=0),
            keep=cv2.warpAffine(self._keep, rot, size, flags=cv2.INTER_LINEAR, borderValue=255),
            corners=(corners @ rot[:, :2].T + rot[:, 2]).astype(np.float32),
        )
        self._turned[angle_deg] = turned
        return turned

    # ---- once per part ------------------------------------------------------------------

    def sprite(self, plan: PartPlan) -> Sprite:
        """The pack of ``plan`` printed, with its defect, turned to its pose.

        Codes and defects are drawn on a flat copy of the carton and only the areas they changed
        are turned and laid onto the cached turned carton, which costs a fraction of turning all.
        """
        g = self.g
        rng = np.random.default_rng(plan.draw_seed)
        angle = round(plan.angle_deg / ANGLE_STEP) * ANGLE_STEP + 0.0  # no -0.0 key
        turned = self._rotated(angle)
        flat = self._carton.copy()
        changed: list[defects.Box] = []
        codes: list[defects.Box] = []
        for name in plan.codes:
            box = self._print_code(flat, name, plan)
            if name in plan.damaged_codes:
                defects.damage_code(flat, box, _FORMATS[name], INK, CARTON * 0.98, g, rng)
            codes.append(defects.code_surround(box, flat.shape))
        alpha: np.ndarray | None = None
        if plan.defect == "scratch":
            changed.append(defects.scratch(flat, g, rng))
        elif plan.defect == "stain":
            changed.append(defects.stain(flat, g, rng))
        elif plan.defect == "dent":
            alpha = self._alpha.copy()
            box, outline_changed = defects.dent(flat, alpha, g, rng)
            changed.append(box)
            if not outline_changed:
                alpha = None
        body = turned.body.copy()
        for box in changed:
            self._lay(flat, body, box, turned.matrix, soften=True)
        # Codes stay crisp: 2 px modules need every bit of contrast, and the turn softens them.
        for box in codes:
            self._lay(flat, body, box, turned.matrix, soften=False)
        if plan.defect != "missing_label":
            self._apply_label(body, plan, turned.matrix)
        keep = turned.keep
        if alpha is not None:  # a chipped pack: the belt shows through the chip
            keep = cv2.warpAffine(
                self._keep_from(alpha),
                turned.matrix,
                (g.sprite_w, g.sprite_h),
                flags=cv2.INTER_LINEAR,
                borderValue=255,
            )
        if g.channels == 3:
            keep = cv2.cvtColor(keep, cv2.COLOR_GRAY2BGR)
        return Sprite(premul=body, keep=keep, pack_corners=turned.corners)

    def _lay(
        self, flat: np.ndarray, body: np.ndarray, box: defects.Box, rot: np.ndarray, *, soften: bool
    ) -> None:
        """Turn one changed area of the flat print onto the turned body (blurred like the carton
        first when ``soften``)."""
        g = self.g
        x0, y0, x1, y1 = box
        x0, y0 = max(0, x0 - 3), max(0, y0 - 3)
        x1, y1 = min(g.sprite_w, x1 + 3), min(g.sprite_h, y1 + 3)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        patch = flat[y0:y1, x0:x1]
        patch = cv2.GaussianBlur(patch, (3, 3), BLUR_SIGMA) if soften else patch.copy()
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        moved = pts @ rot[:, :2].T + rot[:, 2]
        bx0, by0 = np.floor(moved.min(axis=0)).astype(int)
        bx1, by1 = np.ceil(moved.max(axis=0)).astype(int)
        bx0, by0 = max(0, int(bx0)), max(0, int(by0))
        bx1, by1 = min(g.sprite_w, int(bx1)), min(g.sprite_h, int(by1))
        if bx1 <= bx0 or by1 <= by0:
            return
        m = rot.copy()
        m[:, 2] = rot[:, 2] + rot[:, :2] @ np.array([x0, y0], dtype=np.float64) - (bx0, by0)
        # Pixels that map outside the patch keep the turned carton, which is what they show anyway.
        cv2.warpAffine(
            patch,
            m,
            (bx1 - bx0, by1 - by0),
            dst=body[by0:by1, bx0:bx1],
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
        )

    def _apply_label(self, body: np.ndarray, plan: PartPlan, pose: np.ndarray) -> None:
        """Stick the label on, turned by its own tilt and the pack's pose in one warp."""
        g = self.g
        paper, cover = self._label(plan.product, plan.lot, plan.expiry)
        if plan.print_fade > 0.0:
            # the ink lets the paper through: every printed pixel moves towards the paper's grey
            keep = 1.0 - plan.print_fade
            faded = LABEL_PAPER - (LABEL_PAPER - paper.astype(np.float32)) * keep
            paper = np.clip(faded, 0, 255).astype(np.uint8)
        lh, lw = cover.shape[:2]
        cx = g.margin + (LABEL_RECT.x + LABEL_RECT.w / 2 + plan.label_dx) * g.scale
        cy = g.margin + (LABEL_RECT.y + LABEL_RECT.h / 2 + plan.label_dy) * g.scale
        tilt = cv2.getRotationMatrix2D((lw / 2, lh / 2), plan.label_angle_deg, 1.0)
        tilt[:, 2] += (cx - lw / 2, cy - lh / 2)
        # label px → flat sprite px → turned sprite px
        full = pose[:, :2] @ tilt
        full[:, 2] += pose[:, 2]
        corners = np.array([[0, 0], [lw, 0], [lw, lh], [0, lh]], dtype=np.float64)
        moved = corners @ full[:, :2].T + full[:, 2]
        bx0, by0 = (max(0, int(v) - 2) for v in np.floor(moved.min(axis=0)))
        bx1 = min(g.sprite_w, int(np.ceil(moved[:, 0].max())) + 2)
        by1 = min(g.sprite_h, int(np.ceil(moved[:, 1].max())) + 2)
        full[:, 2] -= (bx0, by0)
        size = (bx1 - bx0, by1 - by0)
        paper_t = cv2.warpAffine(paper, full, size, flags=cv2.INTER_LINEAR, borderValue=0)
        cover_t = cv2.warpAffine(cover, full, size, flags=cv2.INTER_LINEAR, borderValue=0)
        if g.channels == 3:
            cover_t = cv2.cvtColor(cover_t, cv2.COLOR_GRAY2BGR)
        roi = body[by0:by1, bx0:bx1]
        cv2.multiply(roi, 255 - cover_t, dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, paper_t, dst=roi)

    def _print_code(self, body: np.ndarray, name: str, plan: PartPlan) -> tuple[int, int, int, int]:
        """Print one code straight onto the carton; returns its box x0, y0, x1, y1 in sprite px."""
        g = self.g
        fmt = _FORMATS[name]
        if name == "DataMatrix":
            code = zxingcpp.create_barcode(plan.serial, fmt, force_square=True)
            module = max(1, int(REF_DM_MODULE * g.scale))
        else:
            code = zxingcpp.create_barcode(plan.serial, fmt)
            module = max(1, int(REF_C128_MODULE * g.scale))
        image = np.asarray(zxingcpp.write_barcode_to_image(code, scale=1, add_quiet_zones=False))
        if name == "Code128":
            image = image[:1]  # one row is the whole 1D symbol; the bar height is ours to choose
            height = max(8, g.px(REF_C128_HEIGHT))
            ink = np.repeat(np.repeat(image < 128, module, axis=1), height, axis=0)
        else:
            ink = np.repeat(np.repeat(image < 128, module, axis=0), module, axis=1)
        if len(plan.codes) == 1:
            ref = (CODE_ZONE.x + CODE_ZONE.w / 2, CODE_ZONE.y + CODE_ZONE.h / 2)
        else:
            ref = DATAMATRIX_CENTRE if name == "DataMatrix" else CODE128_CENTRE
        h, w = ink.shape
        x0 = round(g.margin + ref[0] * g.scale - w / 2)
        y0 = round(g.margin + ref[1] * g.scale - h / 2)
        # Codes too big for a tiny frame are cut at the sprite's edge rather than failing.
        x0, y0 = max(0, x0), max(0, y0)
        ink = ink[: g.sprite_h - y0, : g.sprite_w - x0]
        h, w = ink.shape
        body[y0 : y0 + h, x0 : x0 + w][ink] = _paint(INK, g.channels)
        return x0, y0, x0 + w, y0 + h
