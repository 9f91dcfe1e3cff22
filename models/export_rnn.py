#!/usr/bin/python3
"""export_rnn.py — export recurrent models from PyTorch to ONNX with
reference pairs computed by PyTorch (the oracle of ortc's whole-model
tests): for each of two input sizes k, NAME.case<k>.<input>.npy and
NAME.case<k>.<output>.npy. It does not run ortc.

Models (random weights, torch.manual_seed(--seed) before construction;
token ids in, dynamic batch and sequence length):
  lstm_tagger     nn.Embedding -> two-layer bidirectional nn.LSTM
                  (batch_first) -> nn.Linear per token: tag logits (N, T, 9)
  gru_classifier  nn.Embedding -> two-layer nn.GRU (batch_first) -> nn.Linear
                  on the last layer's final state: class logits (N, 5)
  packed_lstm     nn.Embedding -> pack_padded_sequence(lengths) -> one-layer
                  bidirectional nn.LSTM -> pad_packed_sequence -> nn.Linear per
                  token, and the final hidden states h_n (2, N, 24). PyTorch
                  1.13 exports the packing as the LSTM's sequence_lens input
                  (the lengths cast to int32): padded steps are skipped, their
                  outputs are 0, h_n holds each sequence's last valid step.
                  enforce_sorted=True (lengths in descending order): unsorted
                  batches export a sort (TopK) around the LSTM. The batch is
                  fixed: the export bakes the traced batch into the zero
                  initial states it expands (PyTorch 1.13), so only the
                  sequence length is dynamic.

Example:
  models/export_rnn.py --out build/rnn-models
  models/export_rnn.py --out /tmp/m --models packed_lstm --opset 14
"""
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from export_common import export_main

VOCAB = 500
# Two input sizes per model: (batch, sequence length); packed_lstm keeps the
# batch (see above) and takes the lengths of its sequences (descending, the
# first one full).
CASES = [(3, 7), (2, 12)]
PACKED_CASES = [(3, 7), (3, 12)]
LENGTHS = [[7, 5, 2], [12, 9, 4]]


class LstmTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32)
        self.lstm = nn.LSTM(32, 48, num_layers=2, bidirectional=True, batch_first=True)
        self.out = nn.Linear(96, 9)

    def forward(self, tokens):
        y, _ = self.lstm(self.emb(tokens))
        return self.out(y)


class GruClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32)
        self.gru = nn.GRU(32, 64, num_layers=2, batch_first=True)
        self.out = nn.Linear(64, 5)

    def forward(self, tokens):
        _, h = self.gru(self.emb(tokens))
        return self.out(h[-1])


class PackedLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32, padding_idx=0)
        self.lstm = nn.LSTM(32, 24, bidirectional=True, batch_first=True)
        self.out = nn.Linear(48, 9)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.emb(tokens), lengths, batch_first=True,
                                      enforce_sorted=True)
        y, (h, _) = self.lstm(packed)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=tokens.shape[1])
        return self.out(y), h


MODELS = {
    "lstm_tagger": (LstmTagger, ["tokens"], ["tags"]),
    "gru_classifier": (GruClassifier, ["tokens"], ["logits"]),
    "packed_lstm": (PackedLstm, ["tokens", "lengths"], ["tags", "h_n"]),
}


def case_inputs(name, k, gen):
    batch, seq = (PACKED_CASES if name == "packed_lstm" else CASES)[k]
    tokens = torch.randint(1, VOCAB, (batch, seq), generator=gen)
    if name != "packed_lstm":
        return (tokens,)
    lengths = torch.tensor(LENGTHS[k], dtype=torch.int64)
    for b, n in enumerate(LENGTHS[k]):
        tokens[b, n:] = 0  # padding
    return tokens, lengths


def export(name, out_dir, opset, seed):
    cls, in_names, out_names = MODELS[name]
    torch.manual_seed(seed)
    model = cls().eval()
    gen = torch.Generator().manual_seed(seed + 1)
    cases = [case_inputs(name, k, gen) for k in range(len(CASES))]
    if name == "packed_lstm":
        dynamic = {"tokens": {1: "seq"}, "tags": {1: "seq"}}
    else:
        dynamic = {"tokens": {0: "batch", 1: "seq"}, "tags": {0: "batch", 1: "seq"},
                   "logits": {0: "batch"}}
    path = os.path.join(out_dir, name + ".onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, cases[0], path, input_names=in_names, output_names=out_names,
                          dynamic_axes={k: v for k, v in dynamic.items()
                                        if k in in_names or k in out_names},
                          opset_version=opset)
    with torch.no_grad():
        for k, inputs in enumerate(cases):
            outs = model(*inputs)
            outs = outs if isinstance(outs, tuple) else (outs,)
            for n, t in zip(in_names, inputs):
                np.save(os.path.join(out_dir, f"{name}.case{k}.{n}.npy"), t.numpy())
            for n, t in zip(out_names, outs):
                np.save(os.path.join(out_dir, f"{name}.case{k}.{n}.npy"), t.numpy())
    return path


def main():
    return export_main(__doc__, MODELS, export, opset=14)


if __name__ == "__main__":
    sys.exit(main())
