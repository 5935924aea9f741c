"""Import a CSV table: a header row, numeric feature columns and one label column.

A learner's own spreadsheet is the most likely file to hold a typo, so every bad row
is reported with its line number and column instead of being dropped: silently
training on fewer rows than the file holds would teach the wrong lesson about the
data. The label column decides the task: integer or text labels make a
classification (classes sorted, text kept as class names), numbers with fractions
make a regression.
"""

from __future__ import annotations

import array
import csv
import io
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.lib.recfunctions import structured_to_unstructured

from playground import budgets
from playground.datasets.dataset import Dataset, DatasetError, shuffled_split
from playground.inputs import open_input

#: The delimiters a CSV file may use, and how a message names them; the one the header row
#: uses most is taken (spreadsheets in many languages write semicolons, some export tabs).
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
#: Text labels up to this length take the fast path; a longer one could be cut off by the C
#: parser's fixed-width strings, so such a file is read row by row instead.
FAST_LABEL_CHARACTERS = 16


class Problems:
    """What is wrong with a file, line by line: the first MAX_REPORTED_PROBLEMS in words and a
    count of the rest, so a file whose every line is bad costs one short message."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, problem: str) -> None:
        self.count += 1
        if len(self.shown) < budgets.MAX_REPORTED_PROBLEMS:
            self.shown.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def full(self) -> bool:
        """Whether the message shows no more problems: a further one only needs counting."""
        return len(self.shown) >= budgets.MAX_REPORTED_PROBLEMS

    def message(self, file_name: str) -> str:
        if self.count == 1:
            return f"{file_name} {self.shown[0]}"
        more = f"; and {self.count - len(self.shown):,} more" if self.count > len(self.shown) else ""
        return f"{file_name} has {self.count:,} bad rows: {'; '.join(self.shown)}{more}"


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _row_values(fields: list[str], width: int, label_index: int) -> tuple[list[float], str] | None:
    """The row's feature values and its label text, or None when anything is wrong with it.

    At C speed (``map(float, …)``), because the row-by-row reader checks every row of a file
    that may have a million; what is wrong is worked out only for rows a message will show.
    """
    if len(fields) != width:
        return None
    label = fields[label_index].strip()
    try:
        values = list(map(float, fields[:label_index] + fields[label_index + 1 :]))
    except ValueError:
        return None
    label_number = _parse_float(label)
    if (
        not label
        or (label_number is not None and not math.isfinite(label_number))
        or not all(map(math.isfinite, values))
    ):
        return None
    return values, label


def _row_problems(fields: list[str], header: list[str], label_index: int) -> Iterator[str]:
    """What is wrong with a row, in column order, each phrased to follow "line N: "."""
    if len(fields) != len(header):
        yield f"expected {len(header)} values but found {len(fields)}"
        return
    label = fields[label_index].strip()
    label_number = _parse_float(label)
    if not label:
        yield f'the label column "{header[label_index]}" is empty'
    elif label_number is not None and not math.isfinite(label_number):
        yield f'the label column "{header[label_index]}" is not a finite number ("{label}")'
    for index, (column, raw) in enumerate(zip(header, fields)):
        if index == label_index:
            continue
        text = raw.strip()
        value = _parse_float(text)
        if not text:
            yield f'column "{column}" is empty'
        elif value is None:
            yield f'column "{column}" is not a number ("{text}")'
        elif not math.isfinite(value):
            yield f'column "{column}" is not a finite number ("{text}")'


def _open_text(path: Path, what: str, budget: str) -> io.TextIOWrapper:
    try:
        return io.TextIOWrapper(open_input(path, DatasetError, budget), encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DatasetError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def _detect_delimiter(line: str) -> str:
    """The delimiter the header row uses most (a comma when it uses none: a single column)."""
    return max(DELIMITERS, key=lambda delimiter: (line.count(delimiter), delimiter == ","))


def read_csv_rows(
    path: Path, what: str = "CSV file", budget: str = "MAX_CSV_BYTES", delimiter: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """The rows with something in them, each with the line number it ends on (so every error
    can name its line), read as a stream; an unreadable, non-UTF-8 or malformed file is one
    DatasetError.  The delimiter is detected from the first line unless given."""
    with _open_text(path, what, budget) as stream:
        try:
            if delimiter is None:
                delimiter = _detect_delimiter(stream.readline())
                stream.seek(0)
            reader = csv.reader(stream, delimiter=delimiter)
            try:
                for fields in reader:
                    if "".join(fields).strip():
                        yield reader.line_num, fields
            except csv.Error as exc:
                raise DatasetError(f"{path.name} line {reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path} is not a UTF-8 text file") from exc
        except OSError as exc:
            raise DatasetError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def _read_header(path: Path) -> tuple[list[str], int, str]:
    """The header row, the line it ends on and the delimiter it uses."""
    with _open_text(path, "CSV file", "MAX_CSV_BYTES") as stream:
        try:
            first = stream.readline()
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path} is not a UTF-8 text file") from exc
    delimiter = _detect_delimiter(first)
    line, header = next(read_csv_rows(path, delimiter=delimiter), (0, None))
    if header is None:
        raise DatasetError(f"{path.name} is empty; expected a header row naming the columns")
    header = [name.strip() for name in header]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DatasetError(f'{path.name} names the column "{duplicates[0]}" more than once in its header')
    if len(header) - 1 > budgets.MAX_CSV_COLUMNS:
        raise DatasetError(
            f"{path.name}: " + budgets.over_budget(f"it has {len(header) - 1:,} feature columns", "MAX_CSV_COLUMNS")
        )
    return header, line, delimiter


def csv_columns(path: str | Path) -> list[str]:
    """The column names in the header of the CSV file at ``path`` (for choosing the label column)."""
    return _read_header(Path(path))[0]


def _fast_table(
    path: Path, header: list[str], label_index: int, header_line: int, delimiter: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Features and labels through numpy's C parser, or None when it cannot take the file as it
    is: a bad row, blank fields, a quoted oddity.  Then the row-by-row reader decides, and its
    messages name every problem's line; this path only makes a clean file fast (a million
    rows of twenty numbers in about a second, in little more memory than the result)."""
    numeric = np.dtype(np.float32)
    text = np.dtype(
        [
            (f"c{index}", np.float32) if index != label_index else ("label", f"U{FAST_LABEL_CHARACTERS}")
            for index in range(len(header))
        ]
    )
    features = [index for index in range(len(header)) if index != label_index]
    for dtype in (numeric, text):
        try:
            with _open_text(path, "CSV file", "MAX_CSV_BYTES") as stream, warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # numpy's note that blank lines are not rows
                table = np.loadtxt(
                    stream,
                    dtype=dtype,
                    delimiter=delimiter,
                    skiprows=header_line,
                    quotechar='"',
                    ndmin=1 if dtype is text else 2,
                    max_rows=budgets.MAX_EXAMPLES + 1,
                )
        except (ValueError, UnicodeDecodeError):
            continue
        if dtype is numeric:
            x, labels = table[:, features], table[:, label_index].astype(np.float64)
        else:
            x = structured_to_unstructured(table[[f"c{index}" for index in features]], np.float32)
            labels = np.char.strip(table["label"])
            if np.any(np.char.str_len(labels) >= FAST_LABEL_CHARACTERS - 1) or np.any(labels == ""):
                return None
        del table
        if not np.isfinite(x).all() or (labels.dtype.kind == "f" and not np.isfinite(labels).all()):
            return None
        return np.ascontiguousarray(x), labels
    return None


def _checked_table(
    path: Path, header: list[str], label_index: int, header_line: int, delimiter: str
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels read row by row, every bad row noted with its line (see ``Problems``)."""
    values, labels, problems = array.array("f"), [], Problems()
    for line, fields in read_csv_rows(path, delimiter=delimiter):
        if line <= header_line:
            continue
        row = _row_values(fields, len(header), label_index)
        if row is None and problems.full:
            problems.count += 1  # counted, not shown: no need to work out what is wrong
        elif row is None:
            problems.add(f"line {line}: {next(_row_problems(fields, header, label_index))}")
        elif not problems:  # once a row is bad the values are never used: stop keeping them
            values.extend(row[0])
            labels.append(row[1])
    if problems:
        raise DatasetError(problems.message(path.name))
    numbers = [_parse_float(label) for label in labels]
    label_array = np.array(numbers, np.float64) if all(n is not None for n in numbers) else np.array(labels)
    return np.frombuffer(values, np.float32).reshape(len(labels), len(header) - 1), label_array


def _encode_labels(labels: np.ndarray) -> tuple[np.ndarray, str, list[str] | None]:
    """Targets, task and class names from the labels, numbers or text (see the module docstring)."""
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        return labels.astype(np.float32)[:, None], "regression", None
    classes, targets = np.unique(labels, return_inverse=True)  # numbers sort numerically: "10" after "9"
    names = [str(int(key)) for key in classes] if labels.dtype.kind == "f" else [str(key) for key in classes]
    return targets.astype(np.int64), "classification", names


def load_csv(*, data_file: str | Path | None = None, label_column: str | None = None, seed: int = 0) -> Dataset:
    """Load `data_file`, predicting `label_column` from every other column; split 80/20 after a seeded shuffle."""
    if data_file is None:
        raise DatasetError(
            "the csv data set needs a file: pass --data-file FILE",
            window="the CSV data set needs a file: choose one with Dataset ▸ Open CSV file…",
        )
    path = Path(data_file)
    header, header_line, delimiter = _read_header(path)
    columns = ", ".join(f'"{name}"' for name in header) + f" (separated by {DELIMITERS[delimiter]})"
    if label_column is None:
        raise DatasetError(
            f"choose the label column of {path.name} with --label-column; its columns are {columns}",
            window=f"choose the label column of {path.name}; its columns are {columns}",
        )
    if label_column not in header:
        raise DatasetError(f'{path.name} has no column "{label_column}"; its columns are {columns}')
    if len(header) < 2:
        raise DatasetError(f'{path.name} has no feature columns besides the label column "{label_column}"')
    label_index = header.index(label_column)
    table = _fast_table(path, header, label_index, header_line, delimiter)
    x, labels = table if table is not None else _checked_table(path, header, label_index, header_line, delimiter)
    if len(labels) > budgets.MAX_EXAMPLES:
        raise DatasetError(
            f"{path.name}: " + budgets.over_budget(f"it has at least {len(labels):,} rows", "MAX_EXAMPLES")
        )
    if len(labels) < 2:
        raise DatasetError(f"{path.name} holds {len(labels)} data row(s); at least 2 are needed to train and validate")
    targets, task, class_names = _encode_labels(labels)
    if task == "classification" and len(class_names) < 2:
        raise DatasetError(
            f'the label column "{label_column}" of {path.name} holds only one class ("{class_names[0]}")'
        )
    x_train, y_train, x_val, y_val = shuffled_split(x, targets, seed)
    kind = f"{len(class_names)} classes" if class_names else "regression"
    return Dataset(
        name="csv",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=(x.shape[1],),
        n_outputs=len(class_names) if class_names else 1,
        task=task,
        source=f'CSV file {path.name} ({DELIMITERS[delimiter]}): {len(x):,} rows, label column "{label_column}" '
        f"({kind}), shuffled with seed {seed}: {len(x_train):,} train, {len(x_val):,} validate",
        class_names=class_names,
    )
