#!/usr/bin/env python3
"""Times ONNX Runtime's CPU provider on a batch, for the inference benchmark.

Usage: ort_bench.py MODEL.onnx BATCH.npy OUT.npy
Runs the whole batch once to warm up, then three times, and prints the best as
`ort_seconds: S` (and writes the outputs to OUT.npy so the benchmark can check them).
"""
import sys
import time

import numpy as np
import onnxruntime as ort


def main(model, batch, out):
    x = np.load(batch)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    y = session.run(None, {name: x})[0]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        y = session.run(None, {name: x})[0]
        best = min(best, time.perf_counter() - start)
    np.save(out, y.astype(np.float32))
    print(f"ort_seconds: {best:.9f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
