#!/usr/bin/python3
"""ort_script.py — a script written for ONNX Runtime, unchanged except its
import line: create a session, read the first input's name, run, save the
first output. test_api.py runs it on every AlexNet export and the
Fashion-MNIST models and compares the output with PyTorch's.

  ort_script.py MODEL INPUT.npy OUTPUT.npy
"""
import sys

import numpy as np

import ortc as ort  # the only change: this line was `import onnxruntime as ort`


def main(model_path, input_path, output_path):
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    x = np.load(input_path)
    outputs = sess.run(None, {input_name: x})
    np.save(output_path, outputs[0])
    print(f"{model_path}: input {input_name} {list(x.shape)} -> {sess.get_outputs()[0].name} "
          f"{list(outputs[0].shape)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
