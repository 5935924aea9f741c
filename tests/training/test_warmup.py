from numba import types

from playground.engine.dense_stack import dense_pass_kernel, train_dense_batches
from playground.training.lessons import load_lesson
from playground.training.warmup import start_warm_up, wait_for_warm_ups, warm_up, warming_up

FLOAT32_ROWS = types.Array(types.float32, 2, "C")
FLOAT64_ROWS = types.Array(types.float64, 2, "C")


def test_warm_up_makes_ready_the_kernel_of_the_lessons_float32_step():
    warm_up(load_lesson("vanishing-gradients"))
    assert any(signature[0] == FLOAT32_ROWS for signature in train_dense_batches.signatures)


def test_warm_up_of_the_backprop_lesson_runs_the_views_float64_pass():
    """The kernel called from Python, not one it calls: a caller loaded from numba's cache brings its
    callees' code with it, and their own dispatchers then list no signature."""
    warm_up(load_lesson("backprop"))
    assert any(signature[0] == FLOAT64_ROWS for signature in dense_pass_kernel.signatures)


def test_waiting_for_the_warm_ups_leaves_none_running():
    start_warm_up(load_lesson("toy-2d"))
    wait_for_warm_ups()
    assert not warming_up()
