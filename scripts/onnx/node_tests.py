#!/usr/bin/env python3
"""Writes the `onnx` package's backend node tests for the operators Assay's model compiler
supports, in the form a job takes: one batched input, every other operand a constant.

Usage: node_tests.py OUT_DIR

For each single-node test case of a supported operator and each of its data sets, writes
OUT_DIR/<case>_<set>/ with
  model.onnx    the case's model with inputs 1.. moved into initializers (their test values)
  input.npy     the case's input 0 (the batch: its first axis is the batch axis)
  expected.npy  the case's output 0, as the onnx package computed it
The cases themselves are the package's (onnx.backend.test.case.node); nothing here
changes an operator, its attributes or a value.
"""
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper

SUPPORTED = {
    "Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape",
    "Conv", "MaxPool", "AveragePool", "BatchNormalization",
    "Sigmoid", "Tanh", "Softmax",
}


def main(out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases

        cases = collect_testcases()
    written = 0
    for case in cases:
        nodes = case.model.graph.node
        if len(nodes) != 1 or nodes[0].op_type not in SUPPORTED:
            continue
        for k, (inputs, outputs) in enumerate(case.data_sets):
            graph = case.model.graph
            consts = [
                numpy_helper.from_array(np.asarray(v), graph.input[j].name)
                for j, v in enumerate(inputs)
                if j > 0
            ]
            new_graph = helper.make_graph(
                list(graph.node),
                graph.name,
                [graph.input[0]],
                list(graph.output),
                list(graph.initializer) + consts,
            )
            model = helper.make_model(new_graph, opset_imports=case.model.opset_import)
            model.ir_version = case.model.ir_version
            d = os.path.join(out, f"{case.name}_{k}")
            os.makedirs(d, exist_ok=True)
            onnx.save(model, os.path.join(d, "model.onnx"))
            np.save(os.path.join(d, "input.npy"), np.ascontiguousarray(inputs[0]))
            np.save(os.path.join(d, "expected.npy"), np.ascontiguousarray(outputs[0]))
            written += 1
    print(f"wrote {written} node test cases (onnx {onnx.__version__}) to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
