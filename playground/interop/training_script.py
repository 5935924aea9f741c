"""``train.py`` of an export: the network file's ``training`` section as a plain PyTorch script.

It mirrors what the playground does so that one epoch here lands where one epoch there does:
the same cost with the same reduction (the mean over the mini-batch of a per-example sum), the
same optimiser and step, L2 and L1 on weights only in the engine's λ/n form, the same clipping,
the same data files and split, and it starts from ``weights.pt``, the very weights the
playground would start from.  It runs unchanged under ``torchrun`` with DistributedDataParallel.
"""

from __future__ import annotations

import textwrap
from string import Template

from ..model import NetworkSpec

#: each cost as the engine defines it (costs.py): C = (1/n) Σₓ Cₓ, Cₓ summed over the outputs
COSTS = {
    "quadratic": (
        "quadratic C = 1/2n Σ‖y − a‖²: half the squared error summed over the outputs,\n"
        "averaged over the mini-batch (torch's mse_loss averages over the outputs too,\n"
        "so it is written out)",
        "    return 0.5 * ((output - target) ** 2).sum(dim=1).mean()",
    ),
    "cross-entropy": (
        "cross-entropy C = −1/n Σ [y ln a + (1−y) ln(1−a)] of the sigmoid outputs:\n"
        "binary_cross_entropy_with_logits on the output layer's z (the model's\n"
        "logits=True), summed over the outputs, averaged over the mini-batch",
        '    per_output = F.binary_cross_entropy_with_logits(output, target, reduction="none")\n'
        "    return per_output.sum(dim=1).mean()",
    ),
    "log-likelihood": (
        "log-likelihood C = −1/n Σ ln a_y of the softmax outputs: cross_entropy on the\n"
        "output layer's z (the model's logits=True), averaged over the mini-batch; its\n"
        "gradient is the engine's δ = a − y, even where a_y is too small for ln a_y",
        "    return F.cross_entropy(output, target)",
    ),
}

#: the same costs on the activations, where the output layer's z cannot be had (an RBM's output)
ON_ACTIVATIONS = {
    "cross-entropy": '    per_output = F.binary_cross_entropy(output, target, reduction="none")\n'
    "    return per_output.sum(dim=1).mean()",
    "log-likelihood": "    return F.nll_loss(torch.log(output.clamp_min(1e-12)), target)",
}

IDX_LOADER = '''def read_idx(path):
    """An IDX file (plain or gzipped) as a numpy array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    dims = raw[3]
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)
    )
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    return None


def load_data(args):
    """The playground's split: with the 60,000 training images, the first 50,000 train
    and the last 10,000 validate; with the 10,000 test images alone, the first 8,000
    train and the last 2,000 validate.  Pixels scaled to [0, 1]."""
    folder = Path(args.data_dir)
    train = find(folder, "train-images-idx3-ubyte")
    if train is not None:
        images = read_idx(train)
        labels = read_idx(find(folder, "train-labels-idx1-ubyte"))
        cut = len(images) - 10_000
    else:
        images = read_idx(find(folder, "t10k-images-idx3-ubyte"))
        labels = read_idx(find(folder, "t10k-labels-idx1-ubyte"))
        cut = 8_000
    x = images.astype(np.float32) / np.float32(255)
    y = labels.astype(np.int64)
    return x[:cut], y[:cut], x[cut:], y[cut:]
'''

NPZ_LOADER = '''def load_data(args):
    """The examples the playground generated for this network, saved by the export."""
    with np.load(args.data, allow_pickle=False) as data:
        return data["x_train"], data["y_train"], data["x_val"], data["y_val"]
'''

SCRIPT = Template('''"""Train $name with PyTorch, as the playground's training section says.

    python train.py $data_usage
    torchrun --nproc_per_node=2 train.py $data_usage

$settings
$cost_doc
L2: the engine adds (λ/n)·w to the gradient of each weight (never a bias), the
derivative of (λ/2n)‖w‖², n the training-set size: torch's weight_decay of λ/n on
the weights' group.
Momentum: the engine's v ← μv − ηg, w ← w + v is torch's SGD momentum (same steps).
Adam: torch's Adam, whose weight_decay is also added to the gradient (L2, not AdamW).

One process trains on the playground's mini-batches, in its order (PlaygroundOrder).
Under torchrun each process trains on its share of every epoch (DistributedSampler) and
DistributedDataParallel averages the gradients, so a step sees processes × $batch_size
examples; on a CPU the processes talk through the gloo backend.
"""

import argparse
$imports
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
$model_import
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Sampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler

#: the parameters L2 and L1 shrink: weights, never biases (as in the playground)
DECAYING = $decaying


$loader

def cost(output, target):
    """$cost_short"""
$cost_body


class PlaygroundOrder(Sampler):
    """The playground's order of the examples: a fresh numpy permutation each epoch
    from the file's seed, so one process sees the playground's very mini-batches."""

    def __init__(self, n, seed):
        self.n = n
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter(self.rng.permutation(self.n).tolist())


$evaluate

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
$data_argument
    parser.add_argument("--epochs", type=int, default=$epochs)
    parser.add_argument("--limit", type=int, default=$limit, help="first N examples only")
    parser.add_argument("--weights", default="weights.pt", help="starting weights")
    parser.add_argument("--out", default="trained.pt", help="the trained weights")
    args = parser.parse_args()

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed($seed)

$tensors
    model = Model()
    if Path(args.weights).exists():
        model.load_state_dict(torch.load(args.weights, weights_only=True))
    network = DistributedDataParallel(model) if distributed else model

    n = len(train[0])
    weights = [p for name, p in model.named_parameters() if name in DECAYING]
    others = [p for name, p in model.named_parameters() if name not in DECAYING]
    groups = [
        {"params": weights, "weight_decay": $l2 / n},
        {"params": others, "weight_decay": 0.0},
    ]
    optimizer = $optimizer

    examples = TensorDataset(*train)
    if distributed:
        sampler = DistributedSampler(examples, seed=$seed)
    else:
        sampler = PlaygroundOrder(len(examples), seed=$seed)
    batches = DataLoader(examples, batch_size=$batch_size, sampler=sampler$drop_last)
    for epoch in range(1, args.epochs + 1):
        if distributed:
            sampler.set_epoch(epoch)
        losses = []
        for $batch_names in batches:
$step
            optimizer.step()
            losses.append(loss.item())
        if rank == 0:
            what, value = evaluate(model, *validation)
            print(
                f"epoch {epoch}: {what} {value:.4f}, "
                f"mini-batch loss {losses[0]:.4f} first, {losses[-1]:.4f} last",
                flush=True,
            )
    if rank == 0:
        torch.save(model.state_dict(), args.out)
    if distributed:
        dist.barrier()  # every rank done (rank 0 saved) before tearing down
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
''')


FEED_FORWARD = {
    "model_import": "from model import INPUT_SHAPE, Model",
    "evaluate": '''def evaluate(model, x, y):
    """Validation accuracy (classes) or mean squared error (numbers)."""
    model.eval()
    with torch.no_grad():
        output = torch.cat([model(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    model.train()
    if torch.is_floating_point(y):
        return "validation MSE", ((output - y) ** 2).mean().item()
    return "validation accuracy", (output.argmax(dim=1) == y).float().mean().item()
''',
    "tensors": """    x_train, y_train, x_val, y_val = load_data(args)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_train = torch.from_numpy(np.ascontiguousarray(x_train)).reshape(-1, *INPUT_SHAPE)
    x_val = torch.from_numpy(np.ascontiguousarray(x_val)).reshape(-1, *INPUT_SHAPE)
    train = x_train, torch.from_numpy(y_train)
    validation = x_val, torch.from_numpy(y_val)
""",
    "drop_last": "",
    "batch_names": "x, y",
}

PAIRS_LOADER = '''def load_data(args):
    """The pairs the playground generated for this network, saved by the export: source
    ids (reversed within their length where the file says "reverse_source": "yes"),
    their lengths, and target ids ending in <eos>, padding after it."""
    with np.load(args.data, allow_pickle=False) as data:
        return [
            tuple(
                torch.from_numpy(data[f"{name}_{split}"].astype(np.int64))
                for name in ("source", "source_lengths", "target")
            )
            for split in ("train", "val")
        ]


def teacher_forcing(source, lengths, target):
    """The decoder reads <bos> and then the right previous token: the target shifted
    right by one, its <eos> read as padding (as the playground's SequencePairs)."""
    bos = torch.full_like(target[:, :1], BOS)
    decoder_input = torch.cat([bos, target[:, :-1]], dim=1)
    decoder_input[decoder_input == EOS] = PAD
    return source, lengths, decoder_input, target
'''

#: an encoder-decoder's train.py: teacher forcing, the masked log-likelihood, greedy decoding
ENCODER_DECODER = {
    "model_import": "from model import BOS, EOS, PAD, Model, greedy_translate",
    "evaluate": '''def evaluate(model, source, lengths, target, max_length):
    """Exact match of the greedy translations: every target token and its <eos> right,
    and nothing after (the playground's measure)."""
    model.eval()
    predicted = greedy_translate(model, source, lengths, max_length)
    model.train()
    width = max(predicted.shape[1], target.shape[1])
    predicted = F.pad(predicted, (0, width - predicted.shape[1]), value=PAD)
    target = F.pad(target, (0, width - target.shape[1]), value=PAD)
    exact = (predicted == target).all(dim=1)
    return "validation exact match", exact.float().mean().item()
''',
    "tensors": """    train, validation = load_data(args)
    longest = int((train[2] != PAD).sum(dim=1).max())
    validation = (*validation, longest + 2)  # decoded up to the longest target + 2
    if args.limit:
        train = tuple(part[: args.limit] for part in train)
    train = teacher_forcing(*train)
""",
    "drop_last": ", drop_last=True",
    "batch_names": "source, lengths, decoder_input, target",
}
#: the engine's cost of an encoder-decoder (encoder_decoder.masked_log_likelihood)
MASKED_LOG_LIKELIHOOD = (
    "log-likelihood C = −1/n Σ ln a_y: summed over each target's tokens (its <eos>\n"
    "included, the padding after it skipped) and averaged over the n pairs of the\n"
    "mini-batch; ln a_y of the decoder's softmax output, clamped at 1e-12 as the engine's",
    "    log_a = torch.log(output.clamp_min(1e-12)).flatten(0, 1)\n"
    '    total = F.nll_loss(log_a, target.flatten(), ignore_index=PAD, reduction="sum")\n'
    "    return total / len(target)",
)


def training_script(
    spec: NetworkSpec, decaying: list[str], outputs: int, *, reads_idx: bool, logits: bool, pairs: bool = False
) -> str:
    """The text of train.py for a network trained as ``spec.training`` says; ``outputs``: the width
    of its output, the length of a class's one-hot target; ``logits``: whether the model hands its
    output layer's z to the cost (``forward(x, logits=True)``); ``pairs``: an encoder-decoder,
    trained with teacher forcing on the exported pairs."""
    t = spec.training
    cost_doc, cost_body = MASKED_LOG_LIKELIHOOD if pairs else COSTS[t.cost]
    if t.cost in ON_ACTIVATIONS and not logits and not pairs:
        cost_doc, cost_body = cost_doc.split(":")[0] + ": on the outputs", ON_ACTIVATIONS[t.cost]
    if t.optimizer == "adam":
        optimizer = f"torch.optim.Adam(groups, lr={t.learning_rate!r}, betas=(0.9, 0.999), eps=1e-08)"
    else:
        optimizer = f"torch.optim.SGD(groups, lr={t.learning_rate!r}, momentum={t.momentum!r})"
    if pairs:
        step = [
            "            output = network(source, lengths, decoder_input)",
            "            loss = cost(output, target)",
        ]
    else:
        step = [f"            output = network(x{', logits=True' if logits else ''})"]
        if t.cost == "log-likelihood":
            step.append("            loss = cost(output, y)")
        else:  # one-hot targets for classes, the numbers themselves for regression
            step += [
                "            if not torch.is_floating_point(y):",
                f"                y = F.one_hot(y, {outputs}).float()",
                "            loss = cost(output, y)",
            ]
    if t.l1:  # (λ/n)‖w‖₁, whose gradient is the engine's (λ/n)·sign(w)
        step.append(f"            loss = loss + {t.l1!r} / n * sum(p.abs().sum() for p in weights)")
    step += ["            optimizer.zero_grad()", "            loss.backward()"]
    if t.clip_norm:
        step.append(f"            torch.nn.utils.clip_grad_norm_(model.parameters(), {t.clip_norm!r})")
    settings = (
        f"{t.optimizer}, η = {t.learning_rate:g}"
        + (f", momentum {t.momentum:g}" if t.momentum else "")
        + f", mini-batch {t.batch_size}, {t.epochs} epochs, λ(L2) = {t.l2:g}, λ(L1) = {t.l1:g}"
        + (f", gradients clipped to norm {t.clip_norm:g}" if t.clip_norm else "")
    )
    if reads_idx:
        data_usage, loader = "--data-dir DIR", IDX_LOADER
        imports = "import gzip\nimport os\nfrom pathlib import Path\n"
        data_argument = '    parser.add_argument("--data-dir", required=True, help="folder of the IDX files")'
    else:
        data_usage, loader = "[--data data.npz]", PAIRS_LOADER if pairs else NPZ_LOADER
        imports = "import os\nfrom pathlib import Path\n"
        data_argument = '    parser.add_argument("--data", default="data.npz", help="the exported examples")'
    decaying_text = "{" + ", ".join(f'"{key}"' for key in decaying) + "}" if decaying else "set()"
    if len(decaying_text) > 76:  # one per line, as ruff formats a long set
        decaying_text = "{\n" + "".join(f'    "{key}",\n' for key in decaying) + "}"
    text = SCRIPT.substitute(
        name=spec.name or "the network",
        data_usage=data_usage,
        settings=textwrap.fill(f"Settings: {settings}.", 88),
        cost_doc=textwrap.fill(f"Cost: {cost_doc}.", 88),
        cost_short=cost_doc[0].upper() + cost_doc.split(":")[0][1:] + ".",
        cost_body=cost_body,
        batch_size=t.batch_size,
        imports=imports.rstrip(" "),
        decaying=decaying_text,
        loader=loader,
        data_argument=data_argument,
        epochs=t.epochs,
        limit=t.train_limit,
        seed=t.seed,
        l2=repr(t.l2),
        optimizer=optimizer,
        step="\n".join(step),
        **(ENCODER_DECODER if pairs else FEED_FORWARD),
    )
    return text
