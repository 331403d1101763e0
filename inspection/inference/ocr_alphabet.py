"""The recogniser's alphabet: the characters a label field may be read as.

rapidocr's recogniser knows 18,708 characters (Chinese, Japanese, Korean, Latin, Greek,
Cyrillic, symbols, emoji). A lot code, date or serial on a European or American line uses a
hundred of them. Narrowing the model's last layer to those:

- saves its work: the last layer is a (120 × 18,710) product for every column of every line,
  and its softmax and the decoder's argmax run over all of them (about an eighth of the label
  tool's time, measured);
- stops look-alikes from other scripts winning a read: a Cyrillic ``О`` or a CJK ``〇`` where
  the label has ``O`` or ``0``, which no Latin field rule can pass.

The narrowed model is made in memory from the installed one when an engine starts; nothing is
written or fetched. ``all`` keeps the whole alphabet for fields in other scripts. What
``latin`` keeps is ``inspection.recipe.tools.LATIN_ALPHABET``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from inspection.errors import ModelError

Alphabet = Literal["latin", "all"]


def narrowed(model: Path, characters: Sequence[str], keep: str) -> tuple[bytes, list[str]]:
    """The recogniser ``model`` (its last layer scoring blank, ``characters`` in order, then a
    space) with only the characters in ``keep``: the model's bytes and its characters, for
    rapidocr's CTC decoder (which adds the blank and the space itself).

    ModelError when the model does not end as such a recogniser does (MatMul, Add, Softmax).
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    try:
        proto = onnx.load(str(model))
    except Exception as exc:  # onnx raises protobuf's untyped errors
        raise ModelError(f"{model}: not a readable ONNX model ({exc})") from None
    graph = proto.graph
    made_by = {out: node for node in graph.node for out in node.output}
    weights = {init.name: init for init in graph.initializer}

    def through_identity(name: str) -> onnx.NodeProto | None:
        node = made_by.get(name)
        while node is not None and node.op_type == "Identity":
            node = made_by.get(node.input[0])
        return node

    softmax = through_identity(graph.output[0].name)
    add = through_identity(softmax.input[0]) if softmax is not None else None
    matmul = through_identity(add.input[0]) if add is not None else None
    if (
        softmax is None
        or softmax.op_type != "Softmax"
        or add is None
        or add.op_type != "Add"
        or matmul is None
        or matmul.op_type != "MatMul"
        or matmul.input[1] not in weights
        or add.input[1] not in weights
    ):
        raise ModelError(f"{model}: does not end in MatMul, Add, Softmax; cannot narrow it")
    w = numpy_helper.to_array(weights[matmul.input[1]])
    b = numpy_helper.to_array(weights[add.input[1]])
    classes = len(characters) + 2  # blank first, space last
    if w.ndim != 2 or w.shape[1] != classes or b.shape != (classes,):
        raise ModelError(
            f"{model}: its last layer scores {w.shape[-1]} classes, not the {classes} its "
            "character list names"
        )
    wanted = set(keep)
    kept = [c for c in characters if c in wanted]
    columns = [0, *(i + 1 for i, c in enumerate(characters) if c in wanted), classes - 1]
    weights[matmul.input[1]].CopyFrom(
        numpy_helper.from_array(np.ascontiguousarray(w[:, columns]), matmul.input[1])
    )
    weights[add.input[1]].CopyFrom(
        numpy_helper.from_array(np.ascontiguousarray(b[columns]), add.input[1])
    )
    # the graph's declared output size and any inferred sizes in between follow the new width
    del graph.value_info[:]
    dims = graph.output[0].type.tensor_type.shape.dim
    if dims and dims[-1].HasField("dim_value"):
        dims[-1].dim_value = len(columns)
    return proto.SerializeToString(), kept
