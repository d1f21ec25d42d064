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
  cnn.onnx            a small CNN on the same [N, 64] input: Reshape to [N, 1, 8, 8] -> Conv
                      (8 filters 3x3, pad 1; fixed random filters) -> BatchNormalization
                      (the training set's statistics) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm
                      (trained: multinomial logistic regression on the pooled features)
  cnn_ort_logits.npy  ONNX Runtime CPU's logits of the CNN for test_x

Run: python3 models/digits/train.py   (needs numpy, scikit-learn, onnx, onnxruntime;
scripts/install-deps.sh puts them in ~/.cache/assay-onnx)
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = 1437


def classifier(name, nodes, inits):
    """An opset-13 model from `nodes`: input x [N, 64] (batch symbolic), output logits [N, 10]."""
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


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
    return classifier("digits_mlp", nodes, inits)


def conv3x3_pad1(x, w):
    """x [N, 1, 8, 8], w [F, 1, 3, 3] -> [N, F, 8, 8] (cross-correlation, as ONNX Conv)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], w.shape[0], 8, 8), dtype=np.float64)
    for ky in range(3):
        for kx in range(3):
            patch = padded[:, 0, ky : ky + 8, kx : kx + 8]
            out += patch[:, None, :, :] * w[None, :, 0, ky, kx, None, None]
    return out


def cnn_features(x, w, mean, std):
    z = conv3x3_pad1(x.reshape(-1, 1, 8, 8), w)
    z = np.maximum((z - mean[None, :, None, None]) / std[None, :, None, None], 0.0)
    return z.reshape(-1, 8, 4, 2, 4, 2).max(axis=(3, 5)).reshape(len(x), -1)


def cnn_model(w, mean, var, gemm_w, gemm_b):
    f = w.shape[0]
    inits = [
        numpy_helper.from_array(np.array([0, 1, 8, 8], dtype=np.int64), "shape"),
        numpy_helper.from_array(w.astype(np.float32), "conv_w"),
        numpy_helper.from_array(np.ones(f, np.float32), "bn_scale"),
        numpy_helper.from_array(np.zeros(f, np.float32), "bn_shift"),
        numpy_helper.from_array(mean.astype(np.float32), "bn_mean"),
        numpy_helper.from_array(var.astype(np.float32), "bn_var"),
        numpy_helper.from_array(gemm_w.astype(np.float32), "fc_w"),  # [10, 128]: transB=1
        numpy_helper.from_array(gemm_b.astype(np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["img"], name="image"),
        helper.make_node("Conv", ["img", "conv_w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("BatchNormalization", ["c", "bn_scale", "bn_shift", "bn_mean", "bn_var"], ["n"], epsilon=1e-5, name="norm"),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        helper.make_node("Flatten", ["p"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="classifier"),
    ]
    return classifier("digits_cnn", nodes, inits)


def train_cnn(x, y):
    """Fixed random 3x3 filters, BatchNorm from the training set, a trained classifier."""
    w = np.random.default_rng(0).standard_normal((8, 1, 3, 3)) / 3.0
    conv = conv3x3_pad1(x[:TRAIN].reshape(-1, 1, 8, 8), w)
    mean, var = conv.mean(axis=(0, 2, 3)), conv.var(axis=(0, 2, 3))
    # ONNX BatchNormalization divides by sqrt(var + epsilon).
    features = cnn_features(x[:TRAIN], w, mean, np.sqrt(var + 1e-5))
    clf = LogisticRegression(max_iter=3000, random_state=0)
    clf.fit(features, y[:TRAIN])
    return cnn_model(w, mean, var, clf.coef_, clf.intercept_)


def reference(path, test_x, test_y, name):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = session.run(None, {"x": test_x})[0].astype(np.float32)
    np.save(os.path.join(HERE, f"{name}_ort_logits.npy"), logits)
    accuracy = float((logits.argmax(axis=1) == test_y).mean())
    print(f"digits {name}: test accuracy (onnxruntime) {accuracy:.4f} on {len(test_y)}")


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
    reference(path, test_x, test_y, "mlp")
    cnn_path = os.path.join(HERE, "cnn.onnx")
    onnx.save(train_cnn(x, y), cnn_path)
    reference(cnn_path, test_x, test_y, "cnn")


if __name__ == "__main__":
    main()
