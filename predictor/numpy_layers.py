"""NumPy twins of small torch layers, for forward passes of one patient at a time.

At batch 1 a forward pass of Mano's small networks is almost all per-operation overhead, and
on the CPU a NumPy operation on a few hundred numbers costs a fraction of a torch one
(`benchmarks/env_throughput.py` measures one patient's forward passes both ways). Each twin
copies a trained layer's weights once, as float32 arrays, and computes the same function on
float32 arrays of any batch size; `tests/test_numpy_layers.py` holds every twin to its torch
layer within float32 rounding. The networks that use them (`predictor.network.HybridLSTM`,
`mano_gym.dynamics.world_model.WorldModelNetwork`) keep their NumPy forward pass beside their
torch one.

Sigmoids are computed as `0.5 * tanh(x / 2) + 0.5` (no overflow, one transcendental op), with
the halving folded into the gate weights, which is exact in floating point.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def array(tensor: torch.Tensor) -> np.ndarray:
    """A float32 NumPy copy of a tensor (detached, on the CPU)."""
    return tensor.detach().cpu().numpy().astype(np.float32, copy=True)


class Dense:
    """A `nn.Sequential` (or a single layer) of `Linear`, `ReLU`, `Tanh` and `Dropout` (the
    identity at inference); a `TypeError` names any other layer."""

    def __init__(self, layers: nn.Module) -> None:
        self.steps: list[tuple[np.ndarray, np.ndarray] | str] = []
        for layer in layers if isinstance(layers, nn.Sequential) else [layers]:
            if isinstance(layer, nn.Linear):
                self.steps.append((array(layer.weight).T.copy(), array(layer.bias)))
            elif isinstance(layer, (nn.ReLU, nn.Tanh)):
                self.steps.append(type(layer).__name__)
            elif not isinstance(layer, nn.Dropout):
                raise TypeError(f"no NumPy twin for layer {type(layer).__name__}")

    @classmethod
    def side_by_side(cls, *layers: nn.Linear) -> Dense:
        """One linear layer that computes `layers` on the same input, their outputs side by
        side: one matrix product instead of several."""
        dense = cls(nn.Sequential())
        weights, biases = zip(*(cls(layer).steps[0] for layer in layers), strict=True)
        dense.steps = [(np.concatenate(weights, axis=1), np.concatenate(biases))]
        return dense

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for step in self.steps:
            if step == "ReLU":
                x = np.maximum(x, 0.0)
            elif step == "Tanh":
                x = np.tanh(x)
            else:
                weight, bias = step
                x = x @ weight + bias
        return x


def _gate_scale(hidden: int, gates: int, sigmoid_gates: tuple[int, ...]) -> np.ndarray:
    """Per output row of a fused gate matrix: 0.5 for the rows of sigmoid gates, else 1."""
    scale = np.ones(gates * hidden, np.float32)
    for gate in sigmoid_gates:
        scale[gate * hidden : (gate + 1) * hidden] = 0.5
    return scale


def _sigmoid_from_half_tanh(t: np.ndarray) -> np.ndarray:
    """sigmoid(x) from t = tanh(x / 2)."""
    return t * 0.5 + 0.5


class LSTM:
    """A `nn.LSTM` (batch first, any number of layers, no projections, unidirectional):
    `__call__(x (n, T, F))` gives the last layer's hidden state after the last step `(n, H)`.

    The layers run as a wavefront: in step s, layer k computes time step s - k from layer
    k - 1's output of the step before, so all layers update together in one block matrix
    product and T + L - 1 steps instead of T x L (8 instead of 14 for Mano's predictor), which
    at batch 1 halves the NumPy calls. Columns are grouped by gate (input, forget, cell,
    output), each holding every layer's units in layer order, so `h` and `c` are `(n, L x H)`.
    """

    def __init__(self, lstm: nn.LSTM) -> None:
        if not lstm.batch_first or lstm.bidirectional or lstm.proj_size:
            raise TypeError("the NumPy LSTM twin needs batch_first, one direction, no projection")
        size, layers = lstm.hidden_size, lstm.num_layers
        self.size, self.layers = size, layers
        width = layers * size

        def weights(name: str) -> list[np.ndarray]:
            return [array(getattr(lstm, f"{name}_l{k}")) for k in range(layers)]

        def gate_columns(k: int, gate: int) -> slice:  # layer k's units of gate `gate`
            return slice(gate * width + k * size, gate * width + (k + 1) * size)

        # sigmoid(x) = 0.5 tanh(x / 2) + 0.5: halve the rows of the three sigmoid gates
        halve = np.array([0.5, 0.5, 1.0, 0.5], np.float32)
        w_ih, w_hh = weights("weight_ih"), weights("weight_hh")
        biases = [a + b for a, b in zip(weights("bias_ih"), weights("bias_hh"), strict=True)]
        self.recurrent = np.zeros((width, 4 * width), np.float32)  # [h_0 .. h_L-1] -> gates
        self.bias = np.zeros(4 * width, np.float32)  # every layer's bias; layer 0's input below
        self.w_input = np.zeros((lstm.input_size, 4 * width), np.float32)  # x -> layer 0 gates
        for k in range(layers):
            for gate in range(4):
                rows, cols = slice(gate * size, (gate + 1) * size), gate_columns(k, gate)
                self.recurrent[k * size : (k + 1) * size, cols] = w_hh[k][rows].T * halve[gate]
                if k > 0:  # layer k's input is layer k - 1's output
                    below = slice((k - 1) * size, k * size)
                    self.recurrent[below, cols] = w_ih[k][rows].T * halve[gate]
                else:
                    self.w_input[:, cols] = w_ih[0][rows].T * halve[gate]
                self.bias[cols] = biases[k][rows] * halve[gate]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, steps = len(x), x.shape[1]
        size, layers, width = self.size, self.layers, self.layers * self.size
        inputs = x @ self.w_input  # layer 0's input part of every time step at once
        h = c = np.zeros((n, width), np.float32)
        for s in range(steps + layers - 1):
            pre = h @ self.recurrent + self.bias
            if s < steps:
                pre += inputs[:, s]
            gates = np.tanh(pre)
            sig = gates * 0.5 + 0.5  # the sigmoid gates, from tanh of their halved input
            c = sig[:, width : 2 * width] * c + sig[:, :width] * gates[:, 2 * width : 3 * width]
            h = sig[:, 3 * width :] * np.tanh(c)
            if s < layers - 1:  # layers above s have not started: they stay at zero
                h[:, (s + 1) * size :] = 0.0
                c[:, (s + 1) * size :] = 0.0
        return h[:, (layers - 1) * size :]


class _GRUWeights:
    """The fused weights of one GRU layer or cell, reset and update rows pre-halved."""

    def __init__(self, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray):
        self.hidden = len(w_hh) // 3
        scale = _gate_scale(self.hidden, 3, (0, 1))  # reset, update: sigmoids; new: tanh
        self.w_ih, self.b_ih = (w_ih * scale[:, None]).T.copy(), b_ih * scale
        self.w_hh, self.b_hh = (w_hh * scale[:, None]).T.copy(), b_hh * scale

    def step(self, inputs: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The next hidden state from this step's input part `x @ W_ih + b_ih` and `h`."""
        two = 2 * self.hidden
        hidden_part = h @ self.w_hh + self.b_hh
        reset_update = _sigmoid_from_half_tanh(np.tanh(inputs[:, :two] + hidden_part[:, :two]))
        new = np.tanh(inputs[:, two:] + reset_update[:, : self.hidden] * hidden_part[:, two:])
        return new + reset_update[:, self.hidden :] * (h - new)


class GRU:
    """A one-layer `nn.GRU` (batch first, unidirectional) from a zero state:
    `__call__(x (n, T, F))` gives every step's hidden state `(n, T, H)` and the last `(n, H)`."""

    def __init__(self, gru: nn.GRU) -> None:
        if not gru.batch_first or gru.bidirectional or gru.num_layers != 1:
            raise TypeError("the NumPy GRU twin needs batch_first, one direction, one layer")
        self.weights = _GRUWeights(
            *(
                array(getattr(gru, f"{name}_l0"))
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
        )

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weights = self.weights
        inputs = x @ weights.w_ih + weights.b_ih
        h = np.zeros((len(x), weights.hidden), np.float32)
        states = np.empty((len(x), x.shape[1], weights.hidden), np.float32)
        for t in range(x.shape[1]):
            h = states[:, t] = weights.step(inputs[:, t], h)
        return states, h


class GRUCell:
    """A `nn.GRUCell`: `__call__(x (n, F), h (n, H))` gives the next hidden state."""

    def __init__(self, cell: nn.GRUCell) -> None:
        self.weights = _GRUWeights(
            *(
                array(getattr(cell, name))
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
        )

    def __call__(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        return self.weights.step(x @ self.weights.w_ih + self.weights.b_ih, h)


def attention(query: np.ndarray, key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """`torch.nn.functional.scaled_dot_product_attention` without mask or dropout:
    `softmax(q k^T / sqrt(d)) v` over `(n, L, d)` arrays."""
    scores = query @ key.transpose(0, 2, 1) * np.float32(1.0 / np.sqrt(query.shape[-1]))
    return softmax(scores) @ value


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow."""
    return _sigmoid_from_half_tanh(np.tanh(x * 0.5))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
