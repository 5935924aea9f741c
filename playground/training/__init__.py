"""Training without a display: one training protocol (events, the shared loop), the trainer of
each family, their control, metric streams and lessons."""

from .control import TrainingControl
from .protocol import ChunkEvent, EpochEvent, Event, Finished, RunStarted, Trainer
from .trainer import DataMismatch, EpochRecord, FeedForwardTrainer, StepChunk, evaluate, prepare_data

# every family's module registers it on import: importing the package fills the registry
from . import collaborative, rbm_trainer, seq2seq, sequence_trainer  # noqa: E402, F401  isort: skip

__all__ = [
    "ChunkEvent",
    "DataMismatch",
    "EpochEvent",
    "EpochRecord",
    "Event",
    "FeedForwardTrainer",
    "Finished",
    "RunStarted",
    "StepChunk",
    "Trainer",
    "TrainingControl",
    "evaluate",
    "prepare_data",
]
