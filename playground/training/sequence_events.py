"""What a sequence-model run reports: the events its trainer yields.

They are the time-axis twins of the feed-forward trainer's ``StepChunk`` and
``EpochRecord``: where a deep feed-forward net reports the gradient magnitude per
*layer*, a recurrent net unrolled over T steps reports it per *time step*, because an
RNN over 50 steps is a 50-layer-deep network whose gradient vanishes along time.  The
window's sequence views (gradient over time, gate activity, translations, hidden-state
PCA) read these and nothing else, so the trainer and the views can change on their own.
The run ends with the shared ``Finished`` (``protocol.py``); a chunk's per-time-step figures
stay out of metrics files, which keep one line per epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .protocol import ChunkEvent, EpochEvent


@dataclass
class SequenceChunk(ChunkEvent):
    """Figures of one or more consecutive mini-batches."""

    epoch: int
    first_step: int
    losses: np.ndarray  # (steps,) mean cost of each mini-batch
    #: (steps, T): ‖∂C/∂h_t‖ for every time step t of the recurrent layer being watched
    #: (the encoder for an encoder-decoder), measured before clipping; t = 0 is the first input
    time_grad_norms: np.ndarray
    #: gradient clips by norm applied in this chunk (0 when clipping is off)
    clips: int = 0
    #: LSTM only: (T,) mean forget-gate and input-gate activations per time step, over the
    #: chunk's last mini-batch; None for a SimpleRNN
    forget_gate: np.ndarray | None = None
    input_gate: np.ndarray | None = None
    #: which recurrent layer the figures describe, e.g. "lstm" or "encoder"
    layer_id: str = ""


@dataclass
class Translation:
    source: str
    output: str
    reference: str

    @property
    def exact(self) -> bool:
        return self.output == self.reference


@dataclass
class HiddenStates:
    """Encoder final hidden states of a fixed set of held-out phrases (the PCA view)."""

    phrases: list[str]
    states: np.ndarray  # (phrases, hidden)
    #: colourings offered to the user: name -> one value per phrase (e.g. "hundreds digit", "length")
    properties: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class SequenceEpoch(EpochEvent):
    """After each pass over the training set, measured on the held-out set."""

    epoch: int
    step: int
    loss: float
    val_loss: float
    seconds: float
    samples_per_s: float
    clips_total: int = 0
    val_mse: float | None = None  # regression tasks (the adding problem)
    exact_match: float | None = None  # translation tasks: whole output right, 0..1
    token_accuracy: float | None = None  # translation tasks: tokens right, 0..1
    translations: list[Translation] = field(default_factory=list)  # a sample of held-out pairs
    hidden_states: HiddenStates | None = None

    def record(self) -> dict:
        """A JSON-ready summary for a metrics file (without the bulky samples)."""
        out = {
            "kind": "epoch",
            "epoch": self.epoch,
            "step": self.step,
            "loss": self.loss,
            "val_loss": self.val_loss,
            "seconds": self.seconds,
            "samples_per_s": self.samples_per_s,
            "clips_total": self.clips_total,
        }
        for name in ("val_mse", "exact_match", "token_accuracy"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def gate_means_of(layer) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Copies of an LSTM's mean forget- and input-gate activations per time step (its last
    mini-batch), or (None, None) for a layer without gates (a SimpleRNN)."""
    gates = getattr(layer, "gate_means", None)
    return (None, None) if gates is None else (gates["forget"].copy(), gates["input"].copy())
