#!/usr/bin/python3
"""export_loop.py — a torch.jit.script model with a data-dependent loop,
exported to ONNX as a Loop, with PyTorch's own outputs at two inputs whose
trip counts differ.

`Refine` maps its input to a state and refines the state while its size is
above a threshold (at most 64 steps), collecting the sum of every step's
state in a list: scripted, the `while` becomes an ONNX Loop whose condition
is computed in its body (through an If), the list a sequence carried by the
loop (SequenceInsert), and `torch.stack` after it an If over
ConcatFromSequence. How many trips the loop makes depends on the input's
scale: the two reference inputs (x drawn at scale 0.3 and 3) take 4 and 8
trips with these weights.

    /usr/bin/python3 models/export_loop.py --out DIR

writes DIR/refine_loop.onnx and, for each input NAME in small, large,
DIR/NAME.x.npy and PyTorch's outputs DIR/NAME.{y,trips,trace}.npy.
"""
import argparse
import os
from typing import List

import numpy as np
import torch

OPSET = 16
INPUTS = {"small": 0.3, "large": 3.0}  # name -> scale of the standard-normal draw


class Refine(torch.nn.Module):
    """Refines a state until it settles: a while loop whose trip count depends
    on the input, collecting every step's state."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inp = torch.nn.Linear(8, 16)
        self.step = torch.nn.Linear(16, 16)
        self.out = torch.nn.Linear(16, 4)

    def forward(self, x):
        h = self.inp(x)
        trace: List[torch.Tensor] = []
        n = torch.zeros(1, dtype=torch.long)
        while bool(h.abs().sum() > 1.0) and int(n) < 64:
            h = 0.6 * h + 0.05 * torch.tanh(self.step(h))
            trace.append(h.sum(1))
            n = n + 1
        steps = torch.stack(trace) if len(trace) > 0 else torch.zeros(0, x.shape[0])
        return self.out(h), n, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    model = torch.jit.script(Refine().eval())
    path = os.path.join(a.out, "refine_loop.onnx")
    torch.onnx.export(model, (torch.randn(2, 8),), path, input_names=["x"],
                      output_names=["y", "trips", "trace"], opset_version=OPSET,
                      dynamic_axes={"x": {0: "batch"}})
    for i, (name, scale) in enumerate(INPUTS.items()):
        g = torch.Generator().manual_seed(100 + i)
        x = torch.randn(2, 8, generator=g) * scale
        with torch.no_grad():
            y, trips, trace = model(x)
        np.save(os.path.join(a.out, f"{name}.x.npy"), x.numpy())
        for k, v in (("y", y), ("trips", trips), ("trace", trace)):
            np.save(os.path.join(a.out, f"{name}.{k}.npy"), v.numpy())
        print(f"{name}: {int(trips)} trips")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
