"""Import a CSV table: a header row, numeric feature columns and one label column.

A learner's own spreadsheet is the most likely file to hold a typo, so every bad row
is reported with its line number and column instead of being dropped: silently
training on fewer rows than the file holds would teach the wrong lesson about the
data. The label column decides the task: integer or text labels make a
classification (classes sorted, text kept as class names), numbers with fractions
make a regression.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from playground.datasets.dataset import Dataset, DatasetError, shuffled_split

MAX_REPORTED_ROWS = 10


class _BadRow(Exception):
    """What is wrong with one row, phrased to follow "line N: "."""


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _feature_value(column: str, text: str) -> float:
    if not text:
        raise _BadRow(f'column "{column}" is empty')
    value = _parse_float(text)
    if value is None:
        raise _BadRow(f'column "{column}" is not a number ("{text}")')
    if not math.isfinite(value):
        raise _BadRow(f'column "{column}" is not a finite number ("{text}")')
    return value


def _parse_row(fields: list[str], header: list[str], label_index: int) -> tuple[list[float], str]:
    """The row's feature values and its label text, or _BadRow for the first problem found."""
    if len(fields) != len(header):
        raise _BadRow(f"expected {len(header)} values but found {len(fields)}")
    label = fields[label_index].strip()
    if not label:
        raise _BadRow(f'the label column "{header[label_index]}" is empty')
    label_number = _parse_float(label)
    if label_number is not None and not math.isfinite(label_number):
        raise _BadRow(f'the label column "{header[label_index]}" is not a finite number ("{label}")')
    values = [
        _feature_value(column, text.strip())
        for index, (column, text) in enumerate(zip(header, fields))
        if index != label_index
    ]
    return values, label


def read_csv_rows(path: Path, what: str = "CSV file") -> list[tuple[int, list[str]]]:
    """The rows with something in them, each with the line number it ends on (so every error
    can name its line); an unreadable, non-UTF-8 or malformed file is one DatasetError."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            try:
                return [(reader.line_num, fields) for fields in reader if any(field.strip() for field in fields)]
            except csv.Error as exc:
                raise DatasetError(f"{path.name} line {reader.line_num}: {exc}") from exc
    except OSError as exc:
        raise DatasetError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not a UTF-8 text file") from exc


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows, each with the line number it ends on."""
    lines = read_csv_rows(path)
    if not lines:
        raise DatasetError(f"{path.name} is empty; expected a header row naming the columns")
    header, rows = [name.strip() for name in lines[0][1]], lines[1:]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DatasetError(f'{path.name} names the column "{duplicates[0]}" more than once in its header')
    return header, rows


def bad_rows_message(file_name: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{file_name} {problems[0]}"
    shown = "; ".join(problems[:MAX_REPORTED_ROWS])
    more = f"; and {len(problems) - MAX_REPORTED_ROWS} more" if len(problems) > MAX_REPORTED_ROWS else ""
    return f"{file_name} has {len(problems)} bad rows: {shown}{more}"


def _encode_labels(labels: list[str]) -> tuple[np.ndarray, str, list[str] | None]:
    """Targets, task and class names from the label texts (see the module docstring)."""
    numbers = [_parse_float(label) for label in labels]
    numeric = all(number is not None for number in numbers)
    if numeric and not all(number.is_integer() for number in numbers):
        return np.array(numbers, dtype=np.float32)[:, None], "regression", None
    keys = numbers if numeric else labels  # numbers sort numerically, so "10" comes after "9"
    classes = sorted(set(keys))
    index_of = {key: index for index, key in enumerate(classes)}
    names = [str(int(key)) for key in classes] if numeric else classes
    return np.array([index_of[key] for key in keys], dtype=np.int64), "classification", names


def load_csv(
    *, data_file: str | Path | None = None, label_column: str | None = None, seed: int = 0
) -> Dataset:
    """Load `data_file`, predicting `label_column` from every other column; split 80/20 after a seeded shuffle."""
    if data_file is None:
        raise DatasetError("the csv data set needs a file: pass --data-file FILE")
    path = Path(data_file)
    header, rows = _read_table(path)
    columns = ", ".join(f'"{name}"' for name in header)
    if label_column is None:
        raise DatasetError(f"choose the label column of {path.name} with --label-column; its columns are {columns}")
    if label_column not in header:
        raise DatasetError(f'{path.name} has no column "{label_column}"; its columns are {columns}')
    if len(header) < 2:
        raise DatasetError(f'{path.name} has no feature columns besides the label column "{label_column}"')
    label_index = header.index(label_column)
    features, labels, problems = [], [], []
    for line, fields in rows:
        try:
            values, label = _parse_row(fields, header, label_index)
        except _BadRow as bad:
            problems.append(f"line {line}: {bad}")
            continue
        features.append(values)
        labels.append(label)
    if problems:
        raise DatasetError(bad_rows_message(path.name, problems))
    if len(labels) < 2:
        raise DatasetError(f"{path.name} holds {len(labels)} data row(s); at least 2 are needed to train and validate")
    targets, task, class_names = _encode_labels(labels)
    if task == "classification" and len(class_names) < 2:
        raise DatasetError(
            f'the label column "{label_column}" of {path.name} holds only one class ("{class_names[0]}")'
        )
    x = np.array(features, dtype=np.float32)
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
        source=f'CSV file {path.name}: {len(x):,} rows, label column "{label_column}" ({kind}), '
        f"shuffled with seed {seed}: {len(x_train):,} train, {len(x_val):,} validate",
        class_names=class_names,
    )
