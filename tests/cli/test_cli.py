"""The command line: one line on stderr for bad input, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from playground.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "playground", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def one_line_error(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_new_writes_nielsens_network_in_one_line(tmp_path):
    out = tmp_path / "net.json"
    assert main(["new", "mlp", "784,30,10", "--activation", "sigmoid", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    dense = [n for n in data["nodes"] if n["type"] == "dense"]
    assert [n["config"]["units"] for n in dense] == [30, 10]
    assert dense[-1]["config"]["activation"] == "sigmoid"
    assert data["training"]["cost"] == "cross-entropy" and data["training"]["initializer"] == "normal-scaled"


@pytest.mark.parametrize(
    "output,cost", [("softmax", "log-likelihood"), ("linear", "quadratic"), ("sigmoid", "cross-entropy")]
)
def test_new_picks_the_cost_that_matches_the_output(tmp_path, output, cost):
    out = tmp_path / "net.json"
    main(["new", "mlp", "2,4,1", "--output", output, "-o", str(out)])
    assert json.loads(out.read_text())["training"]["cost"] == cost


def test_train_a_lesson_by_name_writes_metrics_and_weights(tmp_path):
    metrics, weights = tmp_path / "m.jsonl", tmp_path / "w.npz"
    result = run_cli("train", "toy-2d", "--epochs", "2", "--metrics-out", str(metrics), "--save-weights", str(weights))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch   1/2")
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert records[0]["kind"] == "step" and records[-1]["kind"] == "epoch"
    assert weights.exists()
    again = run_cli("train", "toy-2d", "--epochs", "1", "--load-weights", str(weights))
    assert again.returncode == 0, again.stderr


def test_lessons_are_listed():
    result = run_cli("lessons")
    assert result.returncode == 0
    assert "vanishing-gradients" in result.stdout and "Vanishing gradients" in result.stdout


def test_bad_inputs_get_one_line_each(tmp_path):
    assert "no such file" in one_line_error(run_cli("train", str(tmp_path / "missing.json")))

    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{ nope")
    assert "not valid JSON" in one_line_error(run_cli("train", str(bad_json)))

    net = tmp_path / "net.json"
    main(["new", "mlp", "2,4,2", "--output", "softmax", "-o", str(net)])
    data = json.loads(net.read_text())
    data["edges"] = data["edges"][:1]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    assert 'layer "out": is not connected to the input' in one_line_error(run_cli("train", str(broken)))

    wrong_shape = tmp_path / "wrong.json"
    main(["new", "mlp", "3,4,2", "--output", "softmax", "-o", str(wrong_shape)])
    message = one_line_error(run_cli("train", str(wrong_shape), "--dataset", "circle"))
    assert 'layer "in": expects examples of shape [3] but the dataset "circle" gives [2]' in message

    assert "not a finite number" in one_line_error(run_cli("train", "toy-2d", "--lr", "nan"))
    assert "must be greater than 0" in one_line_error(run_cli("train", "toy-2d", "--lr", "-1"))


def test_the_window_benchmark_names_the_lessons_it_cannot_measure():
    message = one_line_error(run_cli("bench", "--gui", "--quick", "--lesson", "rbm-mnist"))
    assert "RBM lab" in message and "translate-numbers" in message


def test_nan_in_a_csv_is_reported_with_its_line(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("x1,x2,label\n0.1,0.2,a\n0.3,nan,b\n0.5,0.6,a\n")
    message = one_line_error(
        run_cli("train", "toy-2d", "--dataset", "csv", "--data-file", str(csv), "--label-column", "label")
    )
    assert "line 3" in message


def test_csv_data_trains(tmp_path):
    rows = ["x1,x2,label"] + [f"{i % 7 / 7:.3f},{i % 5 / 5:.3f},{'yes' if i % 7 > 3 else 'no'}" for i in range(200)]
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(rows) + "\n")
    result = run_cli(
        "train", "toy-2d", "--dataset", "csv", "--data-file", str(csv), "--label-column", "label", "--epochs", "3"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("epoch") == 3


def test_an_exploding_loss_ends_with_the_layer_named(tmp_path):
    net = tmp_path / "net.json"
    main(["new", "mlp", "1,16,16,1", "--activation", "linear", "--output", "linear", "-o", str(net)])
    result = run_cli(
        "train",
        str(net),
        "--dataset",
        "function",
        "--lr",
        "10000",
        "--epochs",
        "3",
        "--save-weights",
        str(tmp_path / "w.npz"),
    )
    assert result.returncode == 1
    assert "NaN or infinity first appeared in layer" in result.stderr and "Traceback" not in result.stderr


def test_lessons_are_listed_chapter_by_chapter_in_teaching_order():
    from playground.training.lessons import curriculum

    result = run_cli("lessons")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    headings = [line for line in lines if not line.startswith(" ")]
    assert headings == [f"{number}. {chapter.title}" for number, chapter in enumerate(curriculum(), start=1)]
    listed = [line.split()[0] for line in lines if line.startswith(" ") and line.strip() != "(coming)"]
    assert listed == [name for chapter in curriculum() for name in chapter.lessons]
    # each lesson with its title, in its chapter (toy-2d in the first)
    toy = next(line for line in lines if line.split()[:1] == ["toy-2d"])
    assert lines.index(headings[0]) < lines.index(toy) < lines.index(headings[1])
    assert "Classifying points in the plane" in toy


def test_a_file_the_window_cannot_open_is_one_line_and_exit_2(tmp_path, capsys):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{ nope")
    not_a_project = tmp_path / "junk.npz"
    not_a_project.write_bytes(b"junk")
    for path, reason in (
        (tmp_path / "missing.json", "no such file"),
        (bad_json, "not valid JSON"),
        (not_a_project, "not an .npz archive"),
    ):
        assert main([str(path), "--panel", "loss"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1, err
        assert str(path) in err and reason in err
    assert main([str(bad_json), "--lesson", "toy-2d"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_network_file_or_a_project_opens_in_the_window(tmp_path):
    from playground.model import save_spec
    from playground.model.project import Project, save_project
    from playground.training.lessons import load_lesson

    network, project = tmp_path / "net.json", tmp_path / "project.npz"
    save_spec(load_lesson("toy-2d"), network)
    save_project(project, Project(load_lesson("parity")))
    # the window keeps recent files in the user's settings: give it a home of its own
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    for path in (network, project):
        shot = tmp_path / f"{path.stem}.png"
        result = subprocess.run(
            [sys.executable, "-m", "playground", str(path), "--screenshot", str(shot)],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        assert shot.stat().st_size > 10_000
        assert str(path) in (tmp_path / "playground" / "playground.conf").read_text()  # opened, not the default


def test_a_save_that_fails_after_training_is_one_line_naming_the_path_and_the_loss(tmp_path, capsys, monkeypatch):
    """The path passed its check before training; then the disk filled up."""
    import errno

    import playground.model as model

    def disk_full(path, state):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(model, "save_weights", disk_full)
    weights = tmp_path / "w.npz"
    assert main(["train", "toy-2d", "--epochs", "1", "--quiet", "--save-weights", str(weights)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("playground:")]
    assert len(errors) == 1 and "internal error" not in err, err
    assert str(weights) in errors[0] and "No space left on device" in errors[0] and "NOT saved" in errors[0]
    assert not weights.exists()
