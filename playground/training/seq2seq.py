"""Training an encoder-decoder: teacher forcing, then greedy or beam decoding of held-out sources.

The trainer is a plain generator, like the feed-forward one: it yields ``SequenceChunk``
(the mini-batches' costs, the encoder's ‖∂C/∂h_t‖ per time step and its gate activity),
``SequenceEpoch`` after every pass (held-out cost, exact match, token accuracy, a sample of
translations and the encoder's final hidden states of a fixed probe set of held-out
phrases), and one ``Finished``.  It checks the shared ``TrainingControl`` between
mini-batches, so the window can pause, step and stop it, and a seed fixes everything:
initial weights, the shuffling, and therefore every figure of the run.

Training feeds the decoder the *right* previous token ("teacher forcing"); at evaluation
it must use its own guesses, so the held-out figures are what a user of the translator
would see.  Exact match counts a translation right only if every token and the length
are right, the strict measure the number task is judged by.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from functools import partial

import numpy as np

from ..datasets.catalog import names_of_kind
from ..datasets.dataset import DatasetError
from ..datasets.sequences import (
    BOS,
    EOS,
    PAD,
    UNK,
    PairCorpus,
    copy_task,
    detokenize,
    load_pairs_tsv,
    number_translation,
    reverse_task,
    reverse_within_lengths,
    tokenize,
)
from ..engine.encoder_decoder import EncoderDecoder
from ..engine.layers.recurrent_base import RecurrentLayer
from ..engine.optimizers import Optimizer, OptimizerSettings, clip_by_norm
from ..model import build_network, load_weights_into, with_overrides
from ..model.settings import DatasetSettings, TrainingSettings
from .control import TrainingControl
from .families import Family, PreparedRun, RunOptions, register_family
from .protocol import STOPPED, ChunkResult, ChunkSizer, Finished, run_batches
from .sequence_events import HiddenStates, SequenceChunk, SequenceEpoch, Translation, gate_means_of
from .trainer import DataMismatch

#: held-out numbers of the number task: exact match is then measured in steps of 0.1%
NUMBER_HELD_OUT = 1000
NUMBER_TRAINING_DEFAULT = 20_000
SYMBOL_TRAINING_DEFAULT = 4000
#: held-out pairs shown in the translations table, and encoded for the hidden-state view
SAMPLE_TRANSLATIONS = 12
PROBE_PHRASES = 300
#: decoded sequences may run this many tokens past the longest training target before being cut
EXTRA_DECODE_STEPS = 2


def load_pair_corpus(settings: DatasetSettings, *, seed: int, data_file=None) -> PairCorpus:
    """The pairs a sequence-to-sequence network trains on, from the file's ``dataset`` section."""
    name = settings.name
    if name == "numbers":
        size = settings.max_number + 1
        n_val = min(NUMBER_HELD_OUT, max(1, size // 5))
        n_train = min(settings.n_samples or NUMBER_TRAINING_DEFAULT, size - n_val)
        return number_translation(
            maximum=settings.max_number,
            n_train=n_train,
            n_val=n_val,
            seed=seed,
            source_level=settings.token_level,
            target_level=settings.token_level,
        )
    if name in ("copy", "reverse"):
        task = copy_task if name == "copy" else reverse_task
        return task(n_train=settings.n_samples or SYMBOL_TRAINING_DEFAULT, seed=seed)
    if name == "pairs":
        if data_file is None:
            raise DatasetError(
                "the pairs data set needs a file: pass --data-file FILE (source<TAB>target per line)",
                window="the pairs data set needs a file of source<TAB>target lines: choose one with "
                "Dataset ▸ Open sentence-pairs file…",
            )
        return load_pairs_tsv(data_file, settings.token_level, seed=seed)
    raise DatasetError(
        f"an encoder-decoder trains on sentence pairs ({', '.join(names_of_kind('pairs'))}), "
        f'not on the "{name}" data set'
    )


def _fit_width(ids: np.ndarray, width: int, what: str, layer_id: str) -> np.ndarray:
    """Pad id rows to the input layer's declared length, or DataMismatch when they are longer."""
    if ids.shape[1] > width:
        raise DataMismatch(
            f'layer "{layer_id}": the {what} has sequences of up to {ids.shape[1]} tokens, but the '
            f"input layer takes {width}: set its shape to [{ids.shape[1]}] or more"
        )
    out = np.full((len(ids), width), PAD, np.int32)
    out[:, : ids.shape[1]] = ids
    return out


def _check_vocabulary(layer, size: int, what: str) -> None:
    """The first layer after an input must know every token id of its side's vocabulary."""
    known = getattr(layer.config, "vocabulary", None)
    if known is not None and known < size:
        raise DataMismatch(
            f'layer "{layer.id}": the {what} vocabulary has {size} tokens, but the layer takes '
            f"ids below {known}: set its vocabulary to {size}"
        )


class SequencePairs:
    """One split as the arrays a mini-batch is cut from: encoder input, decoder input and targets."""

    def __init__(self, model: EncoderDecoder, arrays, reverse: bool):
        source = reverse_within_lengths(arrays.source, arrays.source_lengths) if reverse else arrays.source
        self.source = _fit_width(source, model.encoder[0].output_shape[0], "source", model.encoder[0].id)
        self.source_lengths = arrays.source_lengths.astype(np.int64)
        self.target = _fit_width(
            arrays.target, model.decoder[0].output_shape[0], "target (with <eos>)", model.decoder[0].id
        )
        self.target_lengths = arrays.target_lengths
        # teacher forcing: the decoder reads <bos> and then the right previous token
        self.decoder_input = np.full_like(self.target, PAD)
        self.decoder_input[:, 0] = BOS
        self.decoder_input[:, 1:] = self.target[:, :-1]
        self.decoder_input[self.decoder_input == EOS] = PAD

    def __len__(self) -> int:
        return len(self.source)


# --- decoding -----------------------------------------------------------------------------------
def greedy_decode(model: EncoderDecoder, source, lengths, max_length: int) -> np.ndarray:
    """The likeliest next token at every step, fed back as the next input; (n, max_length) ids."""
    states = model.start_states(model.encode(source, lengths))
    tokens = np.full(len(source), BOS, np.int32)
    out = np.full((len(source), max_length), PAD, np.int32)
    finished = np.zeros(len(source), bool)
    for step in range(max_length):
        probs, states = model.decode_step(tokens, states)
        tokens = probs.argmax(axis=1).astype(np.int32)
        out[:, step] = np.where(finished, PAD, tokens)
        finished |= tokens == EOS
        if finished.all():
            break
    return out


def beam_decode(model: EncoderDecoder, source, lengths, max_length: int, width: int) -> np.ndarray:
    """Keep the ``width`` likeliest partial translations (summed log-probabilities) of each source.

    Greedy decoding commits to each token; a beam can still prefer a translation whose
    first token was only second best.  A finished hypothesis (<eos> emitted) keeps its
    score and is extended only by padding.  Returns the best hypothesis per source.
    """
    n = len(source)
    encoder_state = model.encode(source, lengths)
    states = model.start_states(tuple(np.repeat(part, width, axis=0) for part in encoder_state))
    scores = np.full((n, width), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: expand only the first
    tokens = np.full(n * width, BOS, np.int32)
    history = np.full((n, width, max_length), PAD, np.int32)
    finished = np.zeros((n, width), bool)
    for step in range(max_length):
        probs, states = model.decode_step(tokens, states)
        log_probs = np.log(np.maximum(probs.astype(np.float64), 1e-12)).reshape(n, width, -1)
        vocabulary = log_probs.shape[2]
        log_probs[finished] = -np.inf
        log_probs[finished, PAD] = 0.0
        candidates = (scores[:, :, None] + log_probs).reshape(n, -1)
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
        origin, chosen = best // vocabulary, (best % vocabulary).astype(np.int32)
        rows = np.arange(n)[:, None]
        scores = candidates[rows, best]
        history = history[rows, origin]
        history[:, :, step] = chosen
        finished = finished[rows, origin] | (chosen == EOS)
        flat = (rows * width + origin).reshape(-1)
        states = {key: tuple(part[flat] for part in value) for key, value in states.items()}
        tokens = chosen.reshape(-1)
        if finished.all():
            break
    return history[:, 0]


def decode(model: EncoderDecoder, source, lengths, max_length: int, beam_width: int, chunk: int = 500):
    """Greedy (beam width 1) or beam decoding, in chunks so memory stays bounded."""
    parts = []
    for start in range(0, len(source), chunk):
        rows = slice(start, start + chunk)
        if beam_width == 1:
            parts.append(greedy_decode(model, source[rows], lengths[rows], max_length))
        else:
            parts.append(beam_decode(model, source[rows], lengths[rows], max_length, beam_width))
    return np.concatenate(parts)


def token_figures(predicted: np.ndarray, target: np.ndarray, target_lengths: np.ndarray) -> tuple[float, float]:
    """(exact match, token accuracy): whole outputs right, and target tokens (with <eos>) right in place.

    A reference token the vocabulary does not know (<unk>) never counts as right: the
    network cannot have produced the real word.
    """
    width = max(predicted.shape[1], target.shape[1])
    padded = np.full((len(predicted), width), PAD, np.int32)
    padded[:, : predicted.shape[1]] = predicted
    reference = np.full_like(padded, PAD)
    reference[:, : target.shape[1]] = target
    valid = np.arange(width)[None, :] < target_lengths[:, None]
    same = (padded == reference) & (reference != UNK)
    right = same & valid
    exact = np.where(valid, same, padded == PAD).all(axis=1)
    return float(exact.mean()), float(right.sum() / valid.sum())


# --- the trainer --------------------------------------------------------------------------------
class Seq2SeqTrainer:
    """Trains an ``EncoderDecoder`` on a ``PairCorpus``; ``run()`` yields the sequence events."""

    def __init__(
        self,
        model: EncoderDecoder,
        corpus: PairCorpus,
        settings: TrainingSettings,
        control: TrainingControl | None = None,
        chunk_seconds: float = 0.25,
    ):
        self.model, self.corpus, self.settings = model, corpus, settings
        self.control = control or TrainingControl(settings.learning_rate)
        self.chunk_seconds = chunk_seconds
        _check_vocabulary(model.encoder[1], len(corpus.source_vocabulary), "source")
        _check_vocabulary(model.decoder[1], len(corpus.target_vocabulary), "target")
        units = model.output.config.units
        if units < len(corpus.target_vocabulary):
            raise DataMismatch(
                f'layer "{model.output.id}": the target vocabulary has {len(corpus.target_vocabulary)} '
                f"tokens, but the layer predicts {units}: set its units to "
                f"{len(corpus.target_vocabulary)}"
            )
        self.reverse = settings.reverse_source == "yes"
        self.train = SequencePairs(model, corpus.train, self.reverse)
        self.val = SequencePairs(model, corpus.val, self.reverse)
        self.max_length = int(corpus.train.target_lengths.max()) + EXTRA_DECODE_STEPS
        for layer in model.layers:
            if isinstance(layer, RecurrentLayer):
                layer.truncate = settings.bptt_steps
        self.optimizer = Optimizer(OptimizerSettings(settings.optimizer, settings.momentum), model.slots())
        self.batch_size = min(settings.batch_size, len(self.train))
        self.steps_done = 0
        self.clips_total = 0
        self._epoch_loss = 0.0
        self.history: list[SequenceEpoch] = []

    # --- one mini-batch ------------------------------------------------------------------------
    def _step(self, rows) -> tuple[float, bool]:
        data = self.train
        loss, _ = self.model.loss_and_gradients(
            data.source[rows], data.source_lengths[rows], data.decoder_input[rows], data.target[rows]
        )
        if not math.isfinite(loss):
            return loss, False
        _, clipped = clip_by_norm([grad for _, grad, _ in self.model.slots()], self.settings.clip_norm)
        n = len(data)
        self.optimizer.step(self.control.learning_rate, self.settings.l2 / n, self.settings.l1 / n)
        return loss, clipped

    # --- evaluation ----------------------------------------------------------------------------
    def held_out_loss(self, chunk: int = 500) -> float:
        """Teacher-forced mean cost on the held-out pairs (no update: gradients are overwritten next step)."""
        data, total = self.val, 0.0
        for start in range(0, len(data), chunk):
            rows = slice(start, start + chunk)
            loss, _ = self.model.loss_and_gradients(
                data.source[rows], data.source_lengths[rows], data.decoder_input[rows], data.target[rows]
            )
            total += loss * len(data.source[rows])
        return total / len(data)

    def translate(self, beam_width: int | None = None) -> np.ndarray:
        """Decoded ids of every held-out source."""
        return decode(
            self.model,
            self.val.source,
            self.val.source_lengths,
            self.max_length,
            beam_width or self.settings.beam_width,
        )

    def probe_states(self) -> HiddenStates:
        """The encoder's final h for the first held-out phrases, with their colourings."""
        count = min(PROBE_PHRASES, len(self.val))
        state = self.model.encode(self.val.source[:count], self.val.source_lengths[:count])
        return HiddenStates(
            [source for source, _ in self.corpus.val_pairs[:count]],
            state[0].astype(np.float64),
            {name: values[:count] for name, values in self.corpus.val_properties.items()},
        )

    def _epoch_event(self, epoch, loss, seconds, samples) -> SequenceEpoch:
        predicted = self.translate()
        exact, accuracy = token_figures(predicted, self.val.target, self.val.target_lengths)
        vocabulary = self.corpus.target_vocabulary
        sample = [
            Translation(
                source,
                vocabulary.decode(predicted[i]),
                detokenize(tokenize(target, vocabulary.level), vocabulary.level),
            )
            for i, (source, target) in enumerate(self.corpus.val_pairs[:SAMPLE_TRANSLATIONS])
        ]
        return SequenceEpoch(
            epoch,
            self.steps_done,
            loss,
            self.held_out_loss(),
            seconds,
            samples / seconds if seconds > 0 else 0.0,
            self.clips_total,
            None,
            exact,
            accuracy,
            sample,
            self.probe_states(),
        )

    # --- the run -------------------------------------------------------------------------------
    def _chunk(self, epoch: int, order: np.ndarray, first: int, count: int) -> ChunkResult:
        """Train ``count`` mini-batches from batch index ``first``; diverges at the first non-finite loss."""
        batch = self.batch_size
        first_step, losses, norms, clips = self.steps_done, [], [], 0
        divergence = None
        for k in range(first, first + count):
            loss, clipped = self._step(order[k * batch : (k + 1) * batch])
            if not math.isfinite(loss):
                divergence = epoch
                break
            self.steps_done += 1
            clips += clipped
            losses.append(loss)
            norms.append(self.model.encoder_recurrent.time_grad_norms.copy())
        self.clips_total += clips
        self._epoch_loss += sum(losses)
        chunk = (
            SequenceChunk(
                epoch,
                first_step,
                np.array(losses),
                np.array(norms),
                clips,
                *gate_means_of(self.model.encoder_recurrent),
                self.model.encoder_recurrent.id,
            )
            if losses
            else None
        )
        return ChunkResult(len(losses), chunk, divergence)

    def run(self) -> Iterator[SequenceChunk | SequenceEpoch | Finished]:
        settings, control = self.settings, self.control
        rng = np.random.default_rng(settings.seed)
        n, batch = len(self.train), self.batch_size
        batches = n // batch  # full batches only: the shapes never change
        sizer = ChunkSizer(seconds=self.chunk_seconds)
        for epoch in range(1, settings.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(n)
            self._epoch_loss = 0.0
            outcome = yield from run_batches(control, batches, partial(self._chunk, epoch, order), sizer)
            if outcome is STOPPED:
                yield Finished.stopped(epoch - 1, self.steps_done, self.history)
                return
            if outcome is not None:
                yield Finished.diverged(
                    self.model.encoder_recurrent.id,
                    self.steps_done,
                    epoch,
                    self.steps_done,
                    self.history,
                    "Try a smaller learning rate or gradient clipping (clip_norm).",
                    located=False,
                )
                return
            seconds = time.perf_counter() - started
            record = self._epoch_event(epoch, self._epoch_loss / batches, seconds, batches * batch)
            self.history.append(record)
            yield record
        yield Finished.completed(f"trained {settings.epochs} epochs", settings.epochs, self.steps_done, self.history)


# --- the encoder-decoder family ----------------------------------------------------------------------
def prepare_encoder_decoder(spec, options: RunOptions, control: TrainingControl | None = None) -> PreparedRun:
    spec.training = with_overrides(
        spec.training,
        **options.training_changes(),
        reverse_source=options.reverse_source,
        beam_width=options.beam_width,
    )
    spec.dataset = with_overrides(spec.dataset, name=options.dataset)
    training = spec.training
    model = build_network(spec)
    corpus = load_pair_corpus(spec.dataset, seed=training.seed, data_file=options.data_file)
    model.initialize(training.initializer, training.seed)
    if options.load_weights:
        load_weights_into(model, options.load_weights)
    return PreparedRun(
        Seq2SeqTrainer(model, corpus, training, control=control),
        model,
        f"{corpus.description}; source reversed: {training.reverse_source}, beam width "
        f"{training.beam_width}; {model.parameter_count():,} parameters",
        training.epochs,
    )


def _encoder_decoder_line(event, run: PreparedRun) -> str | None:
    if not isinstance(event, SequenceEpoch):
        return None
    return (
        f"epoch {event.epoch:>3}/{run.epochs}  loss {event.loss:.4f}  val loss {event.val_loss:.4f}  exact match "
        f"{100 * event.exact_match:.1f}%  tokens {100 * event.token_accuracy:.1f}%  {event.seconds:.1f} s  "
        f"{event.samples_per_s:.0f} pairs/s"
    )


def _encoder_decoder_summary(run: PreparedRun) -> list[str]:
    history = run.trainer.history
    return [
        f"  {sample.source}  →  {sample.output}  ({'right' if sample.exact else sample.reference})"
        for sample in (history[-1].translations[:3] if history else [])
    ]


ENCODER_DECODER = register_family(
    Family(
        "encoder-decoder",
        lab="sequence",
        precedence=10,
        matches=lambda spec: bool(spec.state_edges),
        prepare=prepare_encoder_decoder,
        event_line=_encoder_decoder_line,
        summary=_encoder_decoder_summary,
    )
)
