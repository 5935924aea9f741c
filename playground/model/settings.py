"""The ``training`` section of a network file: how to train, on what data.

Declared with the same ``option`` fields as layer configs, so the file loader, the
command line and the window's inspector validate values the same way (a NaN learning
rate gets the same clear message everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..datasets.catalog import CATALOGUE
from ..engine.config import config_from_dict, config_to_dict, option
from ..engine.costs import COSTS
from ..engine.initializers import INITIALIZERS
from ..engine.optimizers import OPTIMIZERS

FUNCTIONS = ("sine", "abs", "step", "bump")


@dataclass(frozen=True)
class DatasetSettings:
    name: str = option("digits", help="Where the examples come from.", choices=tuple(CATALOGUE))
    n_samples: int = option(
        0, help="Examples to generate for built-in sets (0: the set's default).", minimum=0, maximum=1_000_000
    )
    noise: float = option(0.1, help="Noise of the generated 2D sets.", minimum=0.0, maximum=10.0)
    n_bits: int = option(8, help="Bits of the parity problem.", minimum=1, maximum=16)
    function: str = option("sine", help="Target of the function-regression set.", choices=FUNCTIONS)
    label_column: str = option("label", help="Label column of a CSV file.")
    sequence_length: int = option(
        50, help="Time steps of each generated sequence (the adding problem).", minimum=2, maximum=10_000
    )
    max_number: int = option(
        999_999,
        help="Number translation: numbers 0 to this are written out in Czech and English words.",
        minimum=10,
        maximum=999_999_999,
    )
    token_level: str = option(
        "word", help="Number translation and pairs files: tokens are words or characters.", choices=("word", "char")
    )


@dataclass(frozen=True)
class TrainingSettings:
    cost: str = option("cross-entropy", help="What the network minimises.", choices=tuple(COSTS))
    optimizer: str = option("sgd", help="How each gradient becomes a step.", choices=OPTIMIZERS)
    learning_rate: float = option(0.5, help="η: the size of each step.", minimum=1e-9, maximum=1e4)
    momentum: float = option(0.0, help="SGD momentum μ (0: plain SGD).", minimum=0.0, maximum=0.999)
    batch_size: int = option(10, help="Examples per mini-batch.", minimum=1, maximum=100_000)
    epochs: int = option(30, help="Passes over the training set.", minimum=1, maximum=100_000)
    l2: float = option(0.0, help="λ of the L2 term (λ/2n)‖w‖², n the training-set size.", minimum=0.0, maximum=1e6)
    l1: float = option(0.0, help="λ of the L1 term (λ/n)‖w‖₁.", minimum=0.0, maximum=1e6)
    initializer: str = option("normal-scaled", help="How weights start.", choices=tuple(INITIALIZERS))
    seed: int = option(0, help="Seed for initial weights, shuffling and dropout.", minimum=0, maximum=2**31 - 1)
    train_limit: int = option(0, help="Use only the first N training examples (0: all).", minimum=0, maximum=10_000_000)
    clip_norm: float = option(
        0.0,
        help="Rescale the whole gradient to this norm when it is longer "
        "(gradient clipping; 0: off). Each clip is counted.",
        minimum=0.0,
        maximum=1e6,
    )
    bptt_steps: int = option(
        0,
        help="Recurrent nets: backpropagate through time in blocks of this many steps "
        "(truncated BPTT; 0: through the whole sequence).",
        minimum=0,
        maximum=100_000,
    )
    reverse_source: str = option(
        "no",
        help="Encoder-decoders: feed each source sequence backwards (Sutskever et "
        "al.), so its first token is read last, next to the first output.",
        choices=("no", "yes"),
    )
    beam_width: int = option(
        1,
        help="Encoder-decoders: hypotheses kept while decoding held-out sources "
        "(1: greedy, the likeliest token at every step).",
        minimum=1,
        maximum=16,
    )


@dataclass(frozen=True)
class AugmentationSettings:
    """Fabricated training examples (the ``augmentation`` entry of the ``training`` section).

    Every strength at 0 (the default) switches its transformation off; each has its own
    seed so one can be changed while the others draw the very same numbers.
    """

    shift: int = option(
        0, help="Largest shift in pixels, drawn per image and axis from −shift..shift.", minimum=0, maximum=32
    )
    shift_seed: int = option(1, help="Seed of the shifts.", minimum=0, maximum=2**31 - 1)
    rotation: float = option(
        0.0, help="Largest rotation in degrees, drawn uniformly from ±rotation.", minimum=0.0, maximum=180.0
    )
    rotation_seed: int = option(2, help="Seed of the rotations.", minimum=0, maximum=2**31 - 1)
    scale: float = option(
        0.0, help="Largest change of size: each image is scaled by a factor in 1 ± scale.", minimum=0.0, maximum=0.9
    )
    scale_seed: int = option(3, help="Seed of the scalings.", minimum=0, maximum=2**31 - 1)
    elastic: float = option(
        0.0,
        help="Elastic distortion α: how far, in pixels, the smoothed random "
        "displacement field moves the strokes (Simard et al. used 34 with σ = 4).",
        minimum=0.0,
        maximum=100.0,
    )
    elastic_sigma: float = option(
        4.0,
        help="Elastic distortion σ: smoothness of the field in pixels (small: jitter, large: gentle bends).",
        minimum=0.5,
        maximum=20.0,
    )
    elastic_seed: int = option(4, help="Seed of the elastic distortions.", minimum=0, maximum=2**31 - 1)
    noise: float = option(
        0.0, help="Standard deviation of Gaussian noise added to every pixel.", minimum=0.0, maximum=10.0
    )
    noise_seed: int = option(5, help="Seed of the noise.", minimum=0, maximum=2**31 - 1)

    @property
    def enabled(self) -> bool:
        return bool(self.shift or self.rotation or self.scale or self.elastic or self.noise)


FINE_TUNE_MODES = ("none", "classifier", "autoencoder")


@dataclass(frozen=True)
class PretrainingSettings:
    """Greedy layer-wise pretraining of a stack of RBMs (the ``pretraining`` entry of the
    ``training`` section), and what follows it.  The fine-tuning itself uses the rest of the
    ``training`` section (epochs, learning rate, mini-batch, cost) like any network."""

    epochs: int = option(5, help="Passes over the training set for each RBM of the stack.", minimum=1, maximum=100_000)
    batch_size: int = option(20, help="Examples per contrastive-divergence mini-batch.", minimum=1, maximum=100_000)
    fine_tune: str = option(
        "none",
        help="After pretraining: none; classifier (backprop through the stack and "
        "its softmax layer); autoencoder (unroll into encoder and mirrored decoder, trained "
        "on reconstruction).",
        choices=FINE_TUNE_MODES,
    )
    monitor_examples: int = option(
        1000,
        help="Training and validation examples the epoch figures (free energy, "
        "reconstruction error, pseudo-likelihood) are measured on.",
        minimum=10,
        maximum=1_000_000,
    )


def pretraining_from_dict(data) -> PretrainingSettings:
    return config_from_dict(PretrainingSettings, data)


def augmentation_from_dict(data) -> AugmentationSettings:
    return config_from_dict(AugmentationSettings, data)


def augmentation_to_dict(settings: AugmentationSettings) -> dict:
    return config_to_dict(settings)


def training_from_dict(data: dict) -> tuple[TrainingSettings, DatasetSettings]:
    """Split the file's ``training`` object into settings and its nested ``dataset``."""
    data = dict(data)
    dataset = data.pop("dataset", {})
    data.pop("augmentation", None)  # read by augmentation_from_dict
    data.pop("pretraining", None)  # read by pretraining_from_dict
    if isinstance(dataset, str):
        dataset = {"name": dataset}
    return config_from_dict(TrainingSettings, data), config_from_dict(DatasetSettings, dataset)


def training_to_dict(training: TrainingSettings, dataset: DatasetSettings) -> dict:
    return {**config_to_dict(training), "dataset": config_to_dict(dataset)}


def with_overrides(settings, **changes):
    """A copy with the non-None ``changes`` applied and validated like file values."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return settings
    merged = {**config_to_dict(settings), **changes}
    return config_from_dict(type(settings), merged)


__all__ = [
    "FINE_TUNE_MODES",
    "AugmentationSettings",
    "DatasetSettings",
    "PretrainingSettings",
    "TrainingSettings",
    "augmentation_from_dict",
    "augmentation_to_dict",
    "pretraining_from_dict",
    "training_from_dict",
    "training_to_dict",
    "with_overrides",
]
