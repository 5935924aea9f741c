"""Training without a display: the trainer generator, its control, metric streams and lessons."""
from .control import TrainingControl
from .trainer import DataMismatch, EpochRecord, Finished, StepChunk, Trainer, evaluate, prepare_data

__all__ = ["DataMismatch", "EpochRecord", "Finished", "StepChunk", "Trainer", "TrainingControl", "evaluate",
           "prepare_data"]
