"""Saving: permissions kept, any legal name, leftovers of a killed save cleaned, and paths
that cannot be written refused before any long work starts."""

import os
import stat
import time

import pytest

from playground import budgets
from playground.files import UnwritablePath, atomic_write_bytes, check_writable


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_overwriting_keeps_the_files_permissions(tmp_path):
    for mode in (0o644, 0o600, 0o640):
        target = tmp_path / f"shared-{mode:o}.npz"
        target.write_bytes(b"old")
        os.chmod(target, mode)
        atomic_write_bytes(target, b"new")
        assert target.read_bytes() == b"new"
        assert _mode(target) == mode


def test_a_new_file_gets_the_umasks_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "new.npz", b"data")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.npz") == 0o644


def test_any_legal_name_can_be_saved(tmp_path):
    name = "n" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 4) + ".npz"
    atomic_write_bytes(tmp_path / name, b"data")
    assert (tmp_path / name).read_bytes() == b"data"
    assert sorted(os.listdir(tmp_path)) == [name]


def test_a_killed_saves_leftover_is_removed_at_the_next_save_and_nobody_elses(tmp_path):
    stale, fresh = tmp_path / ".pg-0123abcd.tmp", tmp_path / ".pg-89abcdef.tmp"
    foreign = tmp_path / ".other.tmp"
    for leftover in (stale, fresh, foreign):
        leftover.write_bytes(b"half a file")
    old = time.time() - budgets.STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    atomic_write_bytes(tmp_path / "project.npz", b"data")
    assert not stale.exists()
    assert fresh.exists(), "a save in progress elsewhere must keep its temporary file"
    assert foreign.exists(), "only our own temporary files are removed"


def test_a_failed_save_leaves_no_temporary_file(tmp_path):
    class Boom:
        def __len__(self):
            return 3

    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "x.npz", Boom())
    assert os.listdir(tmp_path) == []


def test_paths_that_cannot_be_written_are_refused_before_the_work(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(UnwritablePath, match="afile is a file, not a folder"):
        check_writable(blocker / "weights.npz", "--save-weights")
    with pytest.raises(UnwritablePath, match=r"--save-weights .* is \d+ bytes, longer than"):
        check_writable(tmp_path / ("w" * 300 + ".npz"), "--save-weights")
    with pytest.raises(UnwritablePath, match="it is a folder"):
        check_writable(tmp_path, "--metrics-out")
    check_writable(tmp_path / "new" / "deeper" / "weights.npz")  # folders that will be created
    check_writable(blocker)  # an existing writable file


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_places_are_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(UnwritablePath, match="is not writable"):
            check_writable(locked / "weights.npz")
    finally:
        os.chmod(locked, 0o700)
