#!/usr/bin/env python3
"""Trains the digits models Assay's first audited-inference jobs run, and exports them.

Data: scikit-learn's bundled digits set (1,797 8x8 images, inside the package; nothing is
downloaded). Pixels are scaled to [0, 1]; the first 1,437 images train, the last 360 test.

Writes, next to this script (all committed, so building and testing need no Python):
  mlp.onnx            64-32-10 MLP: Gemm(transB=1) -> Relu -> MatMul -> Add (logits)
  test_x.npy          the 360 test images, float32 [360, 64]
  test_y.npy          their labels, int64 [360]
  mlp_ort_logits.npy  ONNX Runtime CPU's logits for test_x, float32 [360, 10] (the reference
                      `assay` compares the engine's outputs with)

Run: python3 models/digits/train.py   (needs numpy, scikit-learn, onnx, onnxruntime;
scripts/install-deps.sh puts them in ~/.cache/assay-onnx)
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = 1437


def mlp_model(w1, b1, w2, b2):
    """The trained weights as ONNX (opset 13), batch dimension symbolic ("N")."""
    inits = [
        numpy_helper.from_array(w1.T.astype(np.float32).copy(), "w1"),  # [32, 64]: Gemm transB=1
        numpy_helper.from_array(b1.astype(np.float32), "b1"),
        numpy_helper.from_array(w2.astype(np.float32), "w2"),  # [32, 10]: MatMul
        numpy_helper.from_array(b2.astype(np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="dense1"),
        helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
        helper.make_node("MatMul", ["hr", "w2"], ["z"], name="dense2"),
        helper.make_node("Add", ["z", "b2"], ["logits"], name="bias2"),
    ]
    graph = helper.make_graph(
        nodes,
        "digits_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=600, random_state=0)
    clf.fit(x[:TRAIN], y[:TRAIN])
    model = mlp_model(clf.coefs_[0], clf.intercepts_[0], clf.coefs_[1], clf.intercepts_[1])
    path = os.path.join(HERE, "mlp.onnx")
    onnx.save(model, path)
    test_x, test_y = x[TRAIN:], y[TRAIN:]
    np.save(os.path.join(HERE, "test_x.npy"), test_x)
    np.save(os.path.join(HERE, "test_y.npy"), test_y)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = session.run(None, {"x": test_x})[0].astype(np.float32)
    np.save(os.path.join(HERE, "mlp_ort_logits.npy"), logits)
    accuracy = float((logits.argmax(axis=1) == test_y).mean())
    print(f"digits mlp: trained on {TRAIN}, test accuracy (onnxruntime) {accuracy:.4f} on {len(test_y)}")


if __name__ == "__main__":
    main()
