"""``playground bench --scale``: seconds per epoch on 50,000 images at MNIST's size, and the memory.

Two networks at full size, each trained on 50,000 synthetic digits (``datasets/digits.py``: 28×28
like MNIST; 62,500 drawn and split 80/20, so 50,000 train):

- ``cnn-mnist``, the lesson's convolutional network: one epoch of backprop;
- Hinton and Salakhutdinov's deep autoencoder (Science, 2006) at its full 784-1000-500-250-30, the
  ``deep-autoencoder`` lesson's stack widened (its top RBM keeps linear code units): one epoch of
  CD-1 pretraining for each RBM, then one epoch of fine-tuning the unrolled
  784-1000-500-250-30-250-500-1000-784 network by backprop.

Each runs in a fresh process (``python -m playground.bench.scale NAME``), as the trainers run them
for the command line, and reports each phase's epoch seconds (the trainers' own figures: the
mini-batches alone, no evaluation) and its peak resident memory (``getrusage``'s maxrss, the whole
process: data, network, work buffers).  A run on 200 images first compiles the kernels, so no
epoch counts their compilation.  With ``--quick`` each epoch trains on a fifth of the
50,000 images and the seconds are scaled up by 5; the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from ..machine import description_line
from .harness import run_child

TRAIN_IMAGES = 50_000
#: drawn so that the 80/20 split leaves ``TRAIN_IMAGES`` to train on
DRAWN_IMAGES = TRAIN_IMAGES * 5 // 4
AUTOENCODER_UNITS = (1000, 500, 250, 30)
NETWORKS = ("cnn-mnist", "autoencoder-784-1000-500-250-30")
QUICK_FRACTION = 0.2
WARM_UP_IMAGES = 250


def autoencoder_spec():
    """The deep-autoencoder lesson's file with Hinton and Salakhutdinov's sizes: its first RBM's
    settings for the three Bernoulli layers, its top RBM's (linear code units) for the last."""
    from ..model import spec_from_dict, spec_to_dict
    from ..training.lessons import load_lesson

    data = spec_to_dict(load_lesson("deep-autoencoder"))
    inputs, *rbms = data["nodes"]
    nodes = [inputs]
    for index, units in enumerate(AUTOENCODER_UNITS):
        template = rbms[-1] if index == len(AUTOENCODER_UNITS) - 1 else rbms[0]
        nodes.append({**template, "id": f"rbm{index + 1}", "config": {**template["config"], "units": units}})
    data["nodes"] = nodes
    data["edges"] = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    data["ui"] = {}
    data.pop("lesson", None)
    return spec_from_dict(data)


def scale_spec(network: str, fraction: float, drawn: int = DRAWN_IMAGES):
    from ..model import with_overrides
    from ..training.lessons import load_lesson

    spec = load_lesson(network) if network == "cnn-mnist" else autoencoder_spec()
    spec.dataset = with_overrides(spec.dataset, name="digits", n_samples=drawn)
    limit = 0 if fraction >= 1 else round(TRAIN_IMAGES * fraction)
    spec.training = with_overrides(spec.training, epochs=1, train_limit=limit)
    if spec.pretraining is not None:
        spec.pretraining = with_overrides(spec.pretraining, epochs=1)
    return spec


def time_epochs(network: str, fraction: float) -> dict:
    """Train ``network`` for one epoch of each phase in this process; the seconds per epoch of
    50,000 images (scaled up by 1/``fraction``) and this process's peak memory."""
    from ..training import EpochRecord, Finished
    from ..training.families import RunOptions, family_of
    from ..training.rbm_trainer import PretrainEpoch

    # a small run first compiles (or loads) the kernels, so that no epoch counts their compilation
    warm_up = scale_spec(network, 1.0, drawn=WARM_UP_IMAGES)
    for _ in family_of(warm_up).start(warm_up, RunOptions(compare=False)).trainer.run():
        pass
    started = time.perf_counter()
    spec = scale_spec(network, fraction)
    run = family_of(spec).start(spec, RunOptions(compare=False))
    loaded = time.perf_counter() - started
    phases = []
    for event in run.trainer.run():
        if isinstance(event, PretrainEpoch):
            phases.append({"phase": f"pretraining {event.layer_id}", "seconds_per_epoch": event.seconds / fraction})
        elif isinstance(event, EpochRecord):
            name = "fine-tuning" if phases else "training"
            phases.append({"phase": name, "seconds_per_epoch": event.seconds / fraction})
        elif isinstance(event, Finished) and event.reason != "completed":
            raise RuntimeError(f"{network} did not finish its epoch: {event.message}")
    for phase in phases:
        phase["seconds_per_epoch"] = round(phase["seconds_per_epoch"], 2)
    return {
        "workload": "scale",
        "network": network,
        "pid": os.getpid(),
        "train_images": TRAIN_IMAGES,
        "fraction_timed": fraction,
        "phases": phases,
        "epoch_seconds": round(sum(phase["seconds_per_epoch"] for phase in phases), 2),
        "data_and_build_seconds": round(loaded, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def machine_memory_mb() -> int:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)


def scale_lines(result: dict) -> list[str]:
    timed = (
        "a full epoch timed"
        if result["fraction_timed"] >= 1
        else f"{result['fraction_timed']:.0%} of an epoch timed, scaled up by {1 / result['fraction_timed']:g}"
    )
    lines = [
        f"{result['network']}: {result['epoch_seconds']:.1f} s per epoch of {result['train_images']:,} images "
        f"({timed}); peak memory {result['peak_memory_mb']:,} MB of the machine's {machine_memory_mb():,} MB"
    ]
    lines += [f"    {phase['phase']:<24}{phase['seconds_per_epoch']:>8.1f} s" for phase in result["phases"]]
    return lines


def run_scale(machine: dict, json_output: bool, quick: bool) -> int:
    fraction = QUICK_FRACTION if quick else 1.0
    if not json_output:
        print(f"machine: {description_line(machine)}", flush=True)
    for network in NETWORKS:
        result = run_child([network, "--fraction", str(fraction)], {}, module="playground.bench.scale")
        print(json.dumps(result) if json_output else "\n".join(scale_lines(result)), flush=True)
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench.scale")
    parser.add_argument("network", choices=NETWORKS)
    parser.add_argument("--fraction", type=float, default=1.0)
    args = parser.parse_args(argv)
    print(json.dumps(time_epochs(args.network, args.fraction)), flush=True)


if __name__ == "__main__":
    main()
