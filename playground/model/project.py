"""Project files: the network, its training settings, the trained weights and the metric
history of the current run, in one ``.npz`` archive.

    header                  uint8 JSON {"format": "playground-project", "format_version": 1,
                                        "layer_ids": [...], "epoch_records": [...]}
    network                 uint8 JSON: the network file (nodes, edges, training, ui, lesson)
    weights/<layer>.<param> float arrays, as in a weights file (optional)
    metrics/steps           int64 (n,)     global step of each recorded mini-batch
    metrics/epochs          int32 (n,)
    metrics/losses          float32 (n,)
    metrics/accuracies      float32 (n,)   NaN where the task is not classification
    metrics/layer_metrics   float32 (n, layers, 4): weight-grad norm, bias-grad norm,
                                                    weight norm, saturation

A project may come from anyone, so reading it never unpickles (``allow_pickle=False``),
and every array's header is checked against the budgets in ``playground.budgets``
before any data is read (``archive.py``): an object array, too many entries or members
that together claim too much are refused without inflating anything.  The network's
JSON is checked for size, depth and layer count before it is parsed, weights against the
network's shapes before they are read, and a long metric history is downsampled while it
is streamed in.  Every problem becomes one ``ProjectError`` whose message names the file
and what is wrong.  Nothing is applied to the caller's state until the whole file has
been read and checked.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .. import budgets
from ..files import atomic_write_bytes, failure_message
from ..inputs import check_json_budget
from .analysis import parameter_arrays
from .archive import ARCHIVE_ERRORS, Member, check_members, open_archive, read_header, read_member
from .network_file import load_spec, spec_from_json, spec_to_dict
from .spec import NetworkFileError, NetworkSpec
from .weights import WeightsError, check_weight_shapes, check_weight_values

FORMAT = "playground-project"
FORMAT_VERSION = 1
METRIC_COLUMNS = 4
EPOCH_FIELDS = (
    "epoch",
    "step",
    "loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "seconds",
    "samples_per_s",
    "examples",
    "compute_seconds",
)
#: fields a project written before they existed lacks: read as 0
LATER_EPOCH_FIELDS = ("examples", "compute_seconds")


class ProjectError(ValueError):
    """A project file that cannot be used; the message says which file and why."""


# --- metric history ------------------------------------------------------------------------
@dataclass
class EpochSummary:
    """One finished pass over the training set, with its validation figures."""

    epoch: int
    step: int
    loss: float
    val_loss: float
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    seconds: float = 0.0
    samples_per_s: float = 0.0
    examples: int = 0
    compute_seconds: float = 0.0

    @classmethod
    def from_record(cls, record) -> EpochSummary:
        """From the trainer's ``EpochRecord`` (or anything with the same attributes)."""
        return cls(
            *(
                getattr(record, name, 0) if name in LATER_EPOCH_FIELDS else getattr(record, name)
                for name in EPOCH_FIELDS
            )
        )

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in EPOCH_FIELDS}


class MetricHistory:
    """Every recorded mini-batch of a run, in arrays that grow as training goes on.

    The window appends what the trainer's metric stream holds; plots read the arrays.
    Past ``max_steps`` rows, neighbouring pairs are averaged and from then on each row
    stands for ``stride`` consecutive mini-batches (their mean; the step of the last), so
    a run of any length keeps bounded memory and cheap plots while its curves keep their
    shape.
    """

    def __init__(self, layer_ids: list[str] | None = None, max_steps: int = 50_000):
        self.layer_ids: list[str] = list(layer_ids or [])
        self.max_steps = max(int(max_steps), 2)
        self.stride = 1
        self.epochs: list[EpochSummary] = []
        self._n = 0
        self._last_step = -1
        self._pending: tuple | None = None  # rows waiting to fill a group of ``stride``
        self._allocate(1024)

    def _allocate(self, capacity: int) -> None:
        layers = len(self.layer_ids)
        self._steps = np.zeros(capacity, np.int64)
        self._epoch_of = np.zeros(capacity, np.int32)
        self._losses = np.zeros(capacity, np.float32)
        self._accuracies = np.zeros(capacity, np.float32)
        self._metrics = np.zeros((capacity, layers, METRIC_COLUMNS), np.float32)

    def __len__(self) -> int:
        return self._n

    @property
    def last_step(self) -> int:
        """The global step of the newest mini-batch received, or -1 when nothing is recorded."""
        return self._last_step

    @property
    def last_epoch(self) -> int:
        return max((e.epoch for e in self.epochs), default=int(self._epoch_of[self._n - 1]) if self._n else 0)

    def append(self, steps, epochs, losses, accuracies, layer_ids, layer_metrics) -> None:
        """Add rows; ``layer_metrics`` is (n, layers, 4) for ``layer_ids``."""
        n = len(steps)
        if n == 0:
            return
        if list(layer_ids) != self.layer_ids:
            if self._n or self._pending is not None:
                raise ValueError(f"the layers changed from {self.layer_ids} to {list(layer_ids)} within one run")
            self.layer_ids = list(layer_ids)
            self._allocate(max(1024, min(n, self.max_steps + 1)))
        with np.errstate(over="ignore"):  # an exploding loss is recorded as inf
            rows = (
                np.asarray(steps, np.int64),
                np.asarray(epochs, np.int32),
                np.asarray(losses, np.float32),
                np.full(n, np.nan, np.float32) if accuracies is None else np.asarray(accuracies, np.float32),
                np.asarray(layer_metrics, np.float32).reshape(n, len(self.layer_ids), METRIC_COLUMNS),
            )
        self._last_step = int(rows[0][-1])
        if self.stride > 1:
            if self._pending is not None:
                rows = tuple(np.concatenate([a, b]) for a, b in zip(self._pending, rows))
            groups = len(rows[0]) // self.stride
            used = groups * self.stride
            self._pending = tuple(a[used:] for a in rows) if used < len(rows[0]) else None
            if groups == 0:
                return
            rows = self._grouped(tuple(a[:used] for a in rows), self.stride)
        self._write(rows)

    @staticmethod
    def _grouped(rows, k: int):
        steps, epochs, losses, accuracies, metrics = rows
        groups = len(steps) // k  # not -1: a history of no layers has metrics of size 0
        with np.errstate(invalid="ignore"):
            return (
                steps[k - 1 :: k],
                epochs[k - 1 :: k],
                losses.reshape(groups, k).mean(axis=1),
                accuracies.reshape(groups, k).mean(axis=1),
                metrics.reshape(groups, k, *metrics.shape[1:]).mean(axis=1),
            )

    def _write(self, rows) -> None:
        n = len(rows[0])
        needed = self._n + n
        if needed > len(self._steps):
            self._grow(needed)
        where = slice(self._n, needed)
        for target, values in zip((self._steps, self._epoch_of, self._losses, self._accuracies, self._metrics), rows):
            target[where] = values
        self._n = needed
        while self._n > self.max_steps:
            self._halve()

    def _grow(self, needed: int) -> None:
        capacity = max(needed, min(2 * len(self._steps), self.max_steps + 1))
        old = (self._steps, self._epoch_of, self._losses, self._accuracies, self._metrics)
        self._allocate(capacity)
        for new, previous in zip((self._steps, self._epoch_of, self._losses, self._accuracies, self._metrics), old):
            new[: self._n] = previous[: self._n]

    def _halve(self) -> None:
        """Average neighbouring rows: half the rows, same curves, twice the stride."""
        arrays = (self._steps, self._epoch_of, self._losses, self._accuracies, self._metrics)
        pairs = self._n // 2
        tail = self._n - 2 * pairs
        grouped = self._grouped(tuple(a[: 2 * pairs] for a in arrays), 2)
        for target, values in zip(arrays, grouped):
            target[:pairs] = values
        if tail:  # an odd last row stays as it is
            for target in arrays:
                target[pairs] = target[self._n - 1]
        self._n = pairs + tail
        self.stride *= 2

    def add_epoch(self, summary: EpochSummary) -> None:
        self.epochs.append(summary)

    # read-only views of the recorded rows (they change as rows are added: copy to keep)
    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n]

    @property
    def epoch_of_step(self) -> np.ndarray:
        return self._epoch_of[: self._n]

    @property
    def losses(self) -> np.ndarray:
        return self._losses[: self._n]

    @property
    def accuracies(self) -> np.ndarray:
        return self._accuracies[: self._n]

    @property
    def layer_metrics(self) -> np.ndarray:
        return self._metrics[: self._n]

    def copy(self) -> MetricHistory:
        other = MetricHistory(self.layer_ids, self.max_steps)
        if self._n:
            other._write(
                (
                    self.steps.copy(),
                    self.epoch_of_step.copy(),
                    self.losses.copy(),
                    self.accuracies.copy(),
                    self.layer_metrics.copy(),
                )
            )
        other.stride = max(other.stride, self.stride)
        other._pending = None if self._pending is None else tuple(a.copy() for a in self._pending)
        other._last_step = self._last_step
        other.epochs = list(self.epochs)
        return other

    def up_to(self, step: int) -> MetricHistory:
        """A copy of the rows and epochs recorded up to global step ``step`` (the timeline's replay)."""
        other = self.copy()
        n = int(np.searchsorted(other.steps, step, side="right"))
        other._n, other._pending = n, None
        other._last_step = int(other._steps[n - 1]) if n else -1
        other.epochs = [summary for summary in other.epochs if summary.step <= step]
        return other


# --- the project ---------------------------------------------------------------------------
@dataclass
class Project:
    spec: NetworkSpec
    weights: dict[str, np.ndarray] | None = None
    history: MetricHistory | None = None
    extra: dict = field(default_factory=dict)


def _json_array(value) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8"), dtype=np.uint8)


def project_bytes(project: Project) -> bytes:
    """The ``.npz`` archive of ``project``, ready to be written."""
    history = project.history
    arrays: dict[str, np.ndarray] = {}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "layer_ids": [], "epoch_records": [], "stride": 1}
    if history is not None and (len(history) or history.epochs):
        header.update(
            layer_ids=list(history.layer_ids),
            stride=history.stride,
            epoch_records=[summary.to_dict() for summary in history.epochs],
        )
        arrays.update(
            {
                "metrics/steps": history.steps.astype(np.int64),
                "metrics/epochs": history.epoch_of_step.astype(np.int32),
                "metrics/losses": history.losses.astype(np.float32),
                "metrics/accuracies": history.accuracies.astype(np.float32),
                "metrics/layer_metrics": history.layer_metrics.astype(np.float32),
            }
        )
    if project.extra:
        header["extra"] = project.extra
    arrays["header"] = _json_array(header)
    arrays["network"] = _json_array(spec_to_dict(project.spec))
    for key, value in (project.weights or {}).items():
        arrays[f"weights/{key}"] = np.ascontiguousarray(value)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def save_project(path: str | Path, project: Project) -> None:
    """Write atomically: a crash or a full disk never leaves half a project where a good one was."""
    atomic_write_bytes(path, project_bytes(project))


def _json_member(archive, members: dict[str, Member], name: str, where: str) -> bytes:
    """The raw JSON text of member ``name``, its size checked from its header before it is read."""
    member = members.get(name)
    if member is None:
        raise ProjectError(f'{where}: not a playground project (it has no "{name}" entry)')
    if member.dtype != np.uint8 or len(member.shape) != 1:
        raise ProjectError(f'{where}: "{name}" must be UTF-8 JSON text stored as bytes')
    if member.nbytes > budgets.MAX_JSON_BYTES:
        raise ProjectError(
            f'{where}: "{name}" ' + budgets.over_budget(f"is {member.nbytes:,} bytes of JSON", "MAX_JSON_BYTES")
        )
    return read_member(archive, member, where, ProjectError).tobytes()


def _json_value(raw: bytes, name: str, where: str):
    check_json_budget(raw, f'{where}: "{name}"', ProjectError)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectError(f'{where}: "{name}" is not valid JSON ({error})') from None


def _number(value, what: str, where: str, optional: bool = False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProjectError(f"{where}: {what} must be a number, not {value!r}")
    return value


def _epoch_summaries(raw, where: str) -> list[EpochSummary]:
    if not isinstance(raw, list):
        raise ProjectError(f'{where}: "epoch_records" must be a list')
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ProjectError(f"{where}: epoch record {index} must be an object")
        values = {}
        for name in EPOCH_FIELDS:
            if name in LATER_EPOCH_FIELDS and name not in item:
                continue
            optional = name in ("train_accuracy", "val_accuracy")
            values[name] = _number(item.get(name), f'epoch record {index} "{name}"', where, optional)
        values["epoch"], values["step"] = int(values["epoch"]), int(values["step"])
        values["examples"] = int(values.get("examples", 0))
        out.append(EpochSummary(**values))
    return out


_HISTORY_COLUMNS = ("steps", "epochs", "losses", "accuracies", "layer_metrics")
#: rows read from each history column at a time: the history downsamples as they arrive
HISTORY_CHUNK_ROWS = 65_536


def _history(archive, members: dict[str, Member], header: dict, where: str) -> MetricHistory | None:
    """The metric history, streamed in chunks into a ``MetricHistory`` so that a long one is
    downsampled while it is read: memory stays bounded by the chunk and the history's limit."""
    layer_ids = header.get("layer_ids", [])
    if not isinstance(layer_ids, list) or not all(isinstance(i, str) for i in layer_ids):
        raise ProjectError(f'{where}: "layer_ids" must be a list of layer ids')
    epochs = _epoch_summaries(header.get("epoch_records", []), where)
    present = [name for name in _HISTORY_COLUMNS if f"metrics/{name}" in members]
    if not present and not epochs:
        return None
    if present and len(present) != len(_HISTORY_COLUMNS):
        missing = sorted(set(_HISTORY_COLUMNS) - set(present))
        raise ProjectError(f'{where}: the metric history is incomplete (no "metrics/{missing[0]}")')
    history = MetricHistory(layer_ids)
    if present:
        _stream_history(archive, [members[f"metrics/{name}"] for name in _HISTORY_COLUMNS], history, where)
    stride = header.get("stride", 1)
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise ProjectError(f'{where}: "stride" must be a positive whole number')
    history.stride *= stride
    history.epochs = epochs
    return history


def _stream_history(archive, columns: list[Member], history: MetricHistory, where: str) -> None:
    steps, epochs = columns[0], columns[1]
    n = steps.shape[0] if len(steps.shape) == 1 else -1
    expected = [(n,)] * 4 + [(n, len(history.layer_ids), METRIC_COLUMNS)]
    for member, shape in zip(columns, expected):
        if member.shape != shape:
            raise ProjectError(f'{where}: "{member.name}" has shape {list(member.shape)}, expected {list(shape)}')
        if member.fortran_order and len(shape) > 1:
            raise ProjectError(f'{where}: "{member.name}" is stored column by column; projects never are')
    if steps.dtype.kind not in "iu" or epochs.dtype.kind not in "iu":
        raise ProjectError(f'{where}: "metrics/steps" and "metrics/epochs" must hold whole numbers')
    if n > budgets.MAX_HISTORY_ROWS:
        raise ProjectError(f"{where}: " + budgets.over_budget(f"the metric history has {n:,} rows", "MAX_HISTORY_ROWS"))
    last_step = None
    try:
        streams = [archive.open(member.info) for member in columns]
        try:
            for stream in streams:
                read_header(stream)
            for start in range(0, n, HISTORY_CHUNK_ROWS):
                rows = min(HISTORY_CHUNK_ROWS, n - start)
                chunk = [_read_rows(stream, member, rows) for stream, member in zip(streams, columns)]
                chunk_steps = chunk[0].astype(np.int64)
                if np.any(np.diff(chunk_steps) <= 0) or (last_step is not None and chunk_steps[0] <= last_step):
                    raise ProjectError(f'{where}: "metrics/steps" must increase')
                last_step = chunk_steps[-1]
                history.append(*chunk[:4], history.layer_ids, chunk[4])
        finally:
            for stream in streams:
                stream.close()
    except ARCHIVE_ERRORS as error:
        raise ProjectError(f"{where}: the metric history is not readable ({error})") from None


def _read_rows(stream, member: Member, rows: int) -> np.ndarray:
    """The next ``rows`` rows of a member's data, or ValueError where the data ends early."""
    row_shape = member.shape[1:]
    size = rows * math.prod(row_shape) * member.dtype.itemsize
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f'"{member.name}" ends early')
    return np.frombuffer(data, member.dtype).reshape(rows, *row_shape)


def read_project(source: bytes | BinaryIO, where: str = "project") -> Project:
    """Parse and check a project archive (its bytes, or a binary stream)."""
    with open_archive(source, where, ProjectError) as archive:
        return _read_archive(archive, where)


def _read_archive(archive, where: str) -> Project:
    members = check_members(archive, where, ProjectError)
    header = _json_value(_json_member(archive, members, "header", where), "header", where)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ProjectError(f"{where}: not a playground project (the header does not say {FORMAT!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise ProjectError(
            f"{where}: project format_version {version!r} is not supported (this program reads up to {FORMAT_VERSION})"
        )
    try:
        spec = spec_from_json(_json_member(archive, members, "network", where), where)
    except NetworkFileError as error:
        raise ProjectError(str(error)) from None
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # a hostile shape the loader did not foresee
        raise ProjectError(f"{where}: the network description is malformed ({error})") from None
    unexpected = [
        name for name in members if name not in ("header", "network") and not name.startswith(("weights/", "metrics/"))
    ]
    if unexpected:
        raise ProjectError(f'{where}: unexpected entry "{unexpected[0]}" in the project')
    weights = {name[len("weights/") :]: member for name, member in members.items() if name.startswith("weights/")}
    if weights:
        weights = _read_weights(archive, weights, spec, where)
    history = _history(archive, members, header, where)
    extra = header.get("extra", {})
    if not isinstance(extra, dict):
        raise ProjectError(f'{where}: "extra" must be an object')
    return Project(spec, weights or None, history, extra)


def _read_weights(archive, members: dict[str, Member], spec: NetworkSpec, where: str) -> dict[str, np.ndarray]:
    """The weights, their names and shapes checked against the network before any data is read."""
    try:
        expected = parameter_arrays(spec)
    except (NetworkFileError, ValueError) as error:
        raise ProjectError(f"{where}: the file holds weights but its network cannot be built: {error}") from None
    try:
        check_weight_shapes({key: member.shape for key, member in members.items()}, expected, where)
        weights = {key: read_member(archive, member, where, ProjectError) for key, member in members.items()}
        check_weight_values(weights, where)
    except WeightsError as error:
        raise ProjectError(str(error)) from None
    return {key: value.astype(expected[key].dtype, copy=False) for key, value in weights.items()}


def load_project(path: str | Path) -> Project:
    """A project file from disk: only a regular file, its budgets checked before its data is read."""
    return read_project(Path(path), str(path))


def open_file(path: str | Path) -> Project:
    """A project (``.npz``) or a plain network file (``.json``): what File > Open accepts."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            return Project(load_spec(path))
        return load_project(path)
    except NetworkFileError as error:
        raise ProjectError(str(error)) from None
    except (MemoryError, RecursionError) as error:  # a hostile file's doing: said like any other problem
        raise ProjectError(failure_message(error, path)) from None


__all__ = [
    "EpochSummary",
    "FORMAT",
    "FORMAT_VERSION",
    "MetricHistory",
    "Project",
    "ProjectError",
    "load_project",
    "open_file",
    "project_bytes",
    "read_project",
    "save_project",
]
