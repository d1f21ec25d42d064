#!/usr/bin/env python3
"""Writes the small ONNX models the compiler's bad-input tests refuse (committed; rerun
only to change them). Needs the `onnx` package (scripts/install-deps.sh)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, f"{name}.onnx"))


def value(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


rng = np.random.default_rng(0)
w = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
# An operator outside the supported set.
save("unsupported_op", [helper.make_node("Gemm", ["x", "w"], ["h"]), helper.make_node("Exp", ["h"], ["y"])],
     [value("x", ["N", 8])], [value("y", ["N", 4])], [w])
# A Softmax is supported only as the last step (the job commits the logits before it).
save("softmax_inside", [helper.make_node("Softmax", ["x"], ["p"], axis=1), helper.make_node("Gemm", ["p", "w"], ["y"])],
     [value("x", ["N", 8])], [value("y", ["N", 4])], [w])
# The item axis is dynamic: nothing fixes the kernel's sizes.
save("dynamic_shape", [helper.make_node("Relu", ["x"], ["y"])], [value("x", ["N", "F"])], [value("y", ["N", "F"])])
# A hidden layer of 2,048 values per item: over the compiler's per-item width.
wide = numpy_helper.from_array(rng.standard_normal((1, 2048)).astype(np.float32), "w")
save("too_wide", [helper.make_node("MatMul", ["x", "w"], ["y"])], [value("x", ["N", 1])], [value("y", ["N", 2048])], [wide])
# Two runtime inputs: the second operand is not a constant.
save("two_inputs", [helper.make_node("Add", ["x", "z"], ["y"])], [value("x", ["N", 4]), value("z", ["N", 4])], [value("y", ["N", 4])])
