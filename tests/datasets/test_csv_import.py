"""CSV import: task detection from the label column, and bad rows reported by line number."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import DatasetError, load_dataset


def _write(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(count: int, label) -> str:
    return "".join(f"{i * 0.5},{-i},{label(i)}\n" for i in range(count))


def test_integer_labels_make_a_classification(tmp_path):
    path = _write(tmp_path, "x1,x2,digit\n" + _rows(20, lambda i: [3, 10, 7][i % 3]))

    data = load_dataset("csv", data_file=path, label_column="digit", seed=1)

    assert data.task == "classification" and data.input_shape == (2,)
    assert data.class_names == ["3", "7", "10"]  # numeric order, not text order
    assert (len(data.x_train), len(data.x_val)) == (16, 4)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    all_x = np.concatenate([data.x_train, data.x_val])
    assert sorted(all_x[:, 0]) == [i * 0.5 for i in range(20)]  # every row kept, features intact
    assert 'label column "digit" (3 classes)' in data.source


def test_string_labels_become_sorted_class_names(tmp_path):
    path = _write(tmp_path, "petal,sepal,species\n" + _rows(10, lambda i: ["versicolor", "setosa"][i % 2]))

    data = load_dataset("csv", data_file=str(path), label_column="species")

    assert data.class_names == ["setosa", "versicolor"]
    labels = np.concatenate([data.y_train, data.y_val])
    features = np.concatenate([data.x_train, data.x_val])
    np.testing.assert_array_equal(labels, (features[:, 0] * 2 % 2 == 0).astype(int))  # even rows are versicolor


def test_fractional_labels_make_a_regression(tmp_path):
    path = _write(tmp_path, "a,b,price\n" + _rows(10, lambda i: i + 0.25))

    data = load_dataset("csv", data_file=path, label_column="price")

    assert data.task == "regression" and data.n_outputs == 1 and data.class_names is None
    assert data.y_train.shape == (8, 1) and data.y_train.dtype == np.float32


def test_shuffle_depends_on_seed_only(tmp_path):
    path = _write(tmp_path, "a,b,c\n" + _rows(30, lambda i: i % 2))

    first, again, other = (load_dataset("csv", data_file=path, label_column="c", seed=s) for s in (4, 4, 5))

    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)


def test_bad_rows_are_reported_with_their_line_numbers(tmp_path):
    text = (
        "x1,x2,label\n"  # line 1
        "1,2,0\n"  # line 2
        "\n"  # line 3: blank lines are skipped but still counted
        "1,abc,1\n"  # line 4
        "1,,0\n"  # line 5
        "nan,1,1\n"  # line 6
        "1,2\n"  # line 7
        "1,2,inf\n"  # line 8
        "1,2,1\n"  # line 9
    )
    with pytest.raises(DatasetError) as error:
        load_dataset("csv", data_file=_write(tmp_path, text), label_column="label")

    assert str(error.value) == (
        "data.csv has 5 bad rows: "
        'line 4: column "x2" is not a number ("abc"); '
        'line 5: column "x2" is empty; '
        'line 6: column "x1" is not a finite number ("nan"); '
        "line 7: expected 3 values but found 2; "
        'line 8: the label column "label" is not a finite number ("inf")'
    )


def test_a_single_bad_row_reads_as_one_sentence(tmp_path):
    path = _write(tmp_path, "x1,x2,y\n1,2,0\n1,abc,1\n3,4,1\n")

    with pytest.raises(DatasetError, match=r'^data.csv line 3: column "x2" is not a number \("abc"\)$'):
        load_dataset("csv", data_file=path, label_column="y")


def test_many_bad_rows_list_ten_and_count_the_rest(tmp_path):
    path = _write(tmp_path, "x,y\n" + "oops,1\n" * 15)

    with pytest.raises(DatasetError, match=r"has 15 bad rows: line 2: .* line 11: [^;]*; and 5 more$"):
        load_dataset("csv", data_file=path, label_column="y")


def test_missing_label_column_names_the_available_columns(tmp_path):
    path = _write(tmp_path, "width,height,kind\n1,2,a\n3,4,b\n")

    expected = r'data.csv has no column "class"; its columns are "width", "height", "kind"'
    with pytest.raises(DatasetError, match=expected):
        load_dataset("csv", data_file=path, label_column="class")
    with pytest.raises(DatasetError, match="--label-column"):
        load_dataset("csv", data_file=path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty; expected a header row"),
        ("a,b\n1,x\n", "at least 2 are needed"),
        ("a,b\n1,x\n2,x\n", 'holds only one class \\("x"\\)'),
        ("a,a,b\n1,2,x\n", 'names the column "a" more than once'),
        ("b\nx\ny\n", "no feature columns"),
    ],
)
def test_unusable_files(tmp_path, text, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("csv", data_file=_write(tmp_path, text), label_column="b")


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot read CSV file .*nothing.csv"):
        load_dataset("csv", data_file=tmp_path / "nothing.csv", label_column="y")
    with pytest.raises(DatasetError, match="--data-file"):
        load_dataset("csv", label_column="y")
