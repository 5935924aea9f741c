from playground.training.warmup import warm_up


def test_warm_up_trains_both_paths_without_error():
    warm_up()
