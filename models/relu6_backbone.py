"""Gives an exported backbone graph EfficientNet-Lite0's own activation, ReLU6, where swish was.

EfficientNet-Lite replaces every swish of EfficientNet with ReLU6, and its ImageNet weights were
trained so. Exports made with ``set_swish()`` before tracing (backbone manifests up to sha256
303f83f8…) put swish back in every block: not the network the weights were trained for, and
swish is a third of the backbone's run time on a CPU because it cannot be fused into the
convolution, where onnxruntime fuses ReLU6 (Clip) for free.

Each ``Mul(x, Sigmoid(x))`` becomes ``Clip(x, 0, 6)``, exactly what ``export_backbone.py`` now
traces (``nn.ReLU6``, the model code's own choice for Lite), so a maintainer without torch can
repair a committed graph::

    pip install onnx && python models/relu6_backbone.py models/backbone/efficientnet_lite0_features.onnx

The manifest's sha256 must then be updated (the script prints it).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np


def swish_to_relu6(model):  # type: ignore[no-untyped-def]
    """The ONNX ``model`` with each x·sigmoid(x) pair replaced by Clip(x, 0, 6); the count too."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    low = numpy_helper.from_array(np.array(0.0, np.float32), "relu6_low")
    high = numpy_helper.from_array(np.array(6.0, np.float32), "relu6_high")
    drop: set[int] = set()
    replace: dict[int, onnx.NodeProto] = {}
    for sigmoid in graph.node:
        if sigmoid.op_type != "Sigmoid":
            continue
        x = sigmoid.input[0]
        users = consumers.get(sigmoid.output[0], [])
        if (
            len(users) != 1
            or users[0].op_type != "Mul"
            or set(users[0].input) != {x, sigmoid.output[0]}
        ):
            raise ValueError(f"{sigmoid.name}: not the x·sigmoid(x) of a swish")
        mul = users[0]
        drop.add(id(sigmoid))
        replace[id(mul)] = helper.make_node(
            "Clip",
            [x, low.name, high.name],
            list(mul.output),
            name=mul.name.replace("Mul", "Clip") or f"{x}_relu6",
        )
    nodes = [replace.get(id(n), n) for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend([low, high])
    onnx.checker.check_model(model)
    return model, len(replace)


def main() -> None:
    import onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx_file", type=Path)
    path = parser.parse_args().onnx_file
    model, count = swish_to_relu6(onnx.load(str(path)))
    if count == 0:
        print(f"{path}: no swish found; left as it is")
        return
    onnx.save(model, str(path))
    print(f"{path}: {count} swish → ReLU6; sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
