"""Export to PyTorch: a network file (and its weights) becomes ``model.py``, ``weights.pt`` and
``train.py`` that a learner can read, run and grow beyond the playground.

The code is generated from the layer registry through each type's twin (``twins.py``): the
exporter walks the network in graph order and writes what each twin says, so ``model.py``'s
submodules carry the network's node ids and its ``forward`` reads like the canvas, top to bottom.
The text is written already formatted (ruff's style) and imports only what it uses; the tests
run ruff on it and run it with torch against the engine.

Only ``weights.pt`` needs torch here; without it the two ``.py`` files are still written, and
the caller is told in one line what is missing.  Everything goes into a temporary folder first
and is moved into place at the end, so a refusal or a failure never leaves half an export.
"""

from __future__ import annotations

import contextlib
import keyword
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.sequences import BOS, EOS, PAD
from ..engine.layers import layer_class
from ..model import NetworkSpec, analyse
from ..model.analysis import analyse_encoder_decoder
from .errors import InteropError, NoTwin
from .training_script import training_script
from .twins import Twin, twin_of

#: data sets train.py reads from the same IDX files the playground reads (``--data-dir``)
IDX_DATASETS = ("mnist", "fashion-mnist", "idx")
#: costs whose torch twin reads the output layer's weighted input z rather than its activation:
#: cross_entropy on z is −ln softmax(z)_y, and binary_cross_entropy_with_logits is the sigmoid's
#: cross-entropy; both give the engine's δ = a − y even where a saturates and ln a would underflow
LOGIT_COSTS = ("log-likelihood", "cross-entropy")
#: names nn.Module already uses, which a node id must not shadow
_MODULE_ATTRIBUTES = frozenset(
    ("forward", "training", "eval", "train", "state_dict", "parameters", "modules", "children", "to", "type", "apply")
)


@dataclass
class Layer:
    """One node of the network as ``model.py`` writes it."""

    id: str
    type: str
    attribute: str
    twin: Twin


@dataclass
class Exported:
    """What an export wrote, and what it could not (one line each, for the user)."""

    directory: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def attribute_name(node_id: str, taken: set[str]) -> str:
    """The node id as a Python attribute: unchanged where it already is one, which it is for every
    id the playground writes ("fc1", "conv1", "out")."""
    name = re.sub(r"\W", "_", node_id)
    if not name or name[0].isdigit():
        name = f"layer_{name}"
    if keyword.iskeyword(name) or name in _MODULE_ATTRIBUTES:
        name = f"{name}_layer"
    base, number = name, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def _layers(spec: NetworkSpec, order: list[str], input_shapes, taken: set[str]) -> list[Layer]:
    layers = []
    for node_id in order:
        node = spec.node(node_id)
        attribute = attribute_name(node_id, taken) if node.type != "input" else node_id
        twin = twin_of(node_id, node.type, attribute, node.config, input_shapes.get(node_id, ()))
        layers.append(Layer(node_id, node.type, attribute, twin))
    return layers


def _untrainable(spec: NetworkSpec) -> str | None:
    """Why train.py cannot mirror the file's training, in one line; None when it can.  Both settings
    change only how the network learns, never what it computes, so model.py and weights.pt are
    written all the same."""
    if spec.augmentation.enabled:
        return "train.py is not written: data augmentation has no twin in it (switch it off to get train.py)"
    if spec.training.bptt_steps:
        return "train.py is not written: truncated backpropagation through time (bptt_steps) has no PyTorch twin"
    return None


# --- model.py ------------------------------------------------------------------------------------
def _docstring(spec: NetworkSpec, source: str, what: str, extra: list[str]) -> list[str]:
    title = spec.name or "network"
    lesson = (spec.lesson or {}).get("title")
    lines = [f'"""{title}: {what}.', "", *textwrap.wrap(f"Exported from the playground, from {source}.", 88)]
    if lesson:
        lines += textwrap.wrap(f"The lesson: {lesson}.", 88)
    lines += ["", *extra, "", "    model = load()  # with the exported weights.pt, ready to evaluate", '"""']
    return lines


def _module_lines(layers: list[Layer], indent: str) -> list[str]:
    lines = []
    for layer in layers:
        if layer.twin.module is None:
            continue
        if layer.twin.note:
            lines += _comment(layer.twin.note, indent)
        lines.append(f"{indent}self.{layer.attribute} = {layer.twin.module}")
    return lines


def _comment(text: str, indent: str, width: int = 88) -> list[str]:
    """A comment wrapped to ruff's line length."""
    lines, line = [], f"{indent}#"
    for word in text.split():
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = f"{indent}#"
        line += f" {word}"
    return [*lines, line]


def _forward_lines(layers: list[Layer], indent: str) -> list[str]:
    return [f"{indent}{line}" for layer in layers for line in layer.twin.forward]


def _imports(functional: bool) -> list[str]:
    lines = ["import torch"]
    if functional:
        lines.append("import torch.nn.functional as F")
    return [*lines, "from torch import nn"]


def _shape_text(shape) -> str:
    return f"({', '.join(str(int(v)) for v in shape)},)" if len(shape) == 1 else repr(tuple(int(v) for v in shape))


def chain_model(spec: NetworkSpec, source: str) -> tuple[str, list[Layer]]:
    """``model.py`` of a network that is one chain of layers (feed-forward, conv, sequence, RBM stack)."""
    analysis = analyse(spec)
    if analysis.problems:
        raise NoTwin(analysis.problems[0].message)
    layers = _layers(spec, analysis.order, analysis.input_shapes, set())
    input_shape = analysis.output_shapes[analysis.order[0]]
    output_shape = analysis.output_shapes[analysis.order[-1]]
    stack = any(layer.type == "rbm" for layer in layers)
    what = "a stack of RBMs as its feed-forward network" if stack else "a network"
    order = " → ".join(layer.id for layer in layers)
    functional = any(layer.twin.functional for layer in layers)
    lines = _docstring(
        spec,
        source,
        what,
        [
            f"Layers in graph order: {order}.",
            f"Input: one example of shape {list(input_shape)}; output: {list(output_shape)}.",
        ],
    )
    last = layers[-1].twin
    hands_z = spec.training.cost in LOGIT_COSTS and last.split is not None
    body = _forward_lines(layers[:-1] if hands_z else layers, "        ")
    if hands_z:  # the cost reads the output layer's z, as the engine's does (δ = a − y)
        body += [
            f"        {last.split[0]}",
            "        if logits:  # the output layer's weighted input z: what train.py's cost reads",
            "            return x",
            f"        {last.split[1]}",
        ]
    lines += [
        "",
        *_imports(functional),
        "",
        f"INPUT_SHAPE = {_shape_text(input_shape)}",
        "",
        "",
        "class Model(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *_module_lines(layers, "        "),
        "",
        f"    def forward(self, x{', logits=False' if hands_z else ''}):",
        *body,
        "        return x",
        *_load_function(),
    ]
    return "\n".join(lines) + "\n", layers


def _load_function() -> list[str]:
    return [
        "",
        "",
        'def load(path="weights.pt"):',
        '    """The model with the exported weights, in evaluation mode."""',
        "    model = Model()",
        "    model.load_state_dict(torch.load(path, weights_only=True))",
        "    return model.eval()",
    ]


def encoder_decoder_model(spec: NetworkSpec, source: str) -> tuple[str, list[Layer]]:
    """``model.py`` of an encoder-decoder: an Encoder, a Decoder, the Model holding both, and the
    greedy decoding loop the playground translates with."""
    analysis = analyse_encoder_decoder(spec)
    if analysis.problems:
        raise NoTwin(analysis.problems[0].message)
    encoder_id, decoder_id = spec.state_edges[0]
    split = analysis.order.index(encoder_id) + 1
    taken: set[str] = set()
    encoder = _layers(spec, analysis.order[:split], analysis.input_shapes, taken)
    decoder = _layers(spec, analysis.order[split:], analysis.input_shapes, taken)
    for part, name in ((encoder, "encoder"), (decoder, "decoder")):
        recurrent = [layer for layer in part if layer.type in ("lstm", "simple_rnn")]
        if len(recurrent) != 1:
            raise NoTwin(f"an encoder-decoder whose {name} has {len(recurrent)} recurrent layers has no export yet")
    connected = next(layer for layer in decoder if layer.id == decoder_id)
    before = decoder[: decoder.index(connected)]
    after = decoder[decoder.index(connected) + 1 :]
    state = "(h, c)" if connected.type == "lstm" else "h"
    functional = any(layer.twin.functional for layer in encoder + decoder)
    lines = _docstring(
        spec,
        source,
        "an encoder-decoder (Sutskever et al. 2014)",
        [
            f"Encoder: {' → '.join(layer.id for layer in encoder)}; its final state {state} starts",
            f"the decoder: {' → '.join(layer.id for layer in decoder)}.",
            f"Token ids: padding {PAD}, <bos> {BOS}, <eos> {EOS}; source ids reversed within their",
            'length where the file says "reverse_source": "yes".',
        ],
    )
    encoder_body = _forward_lines(encoder[:-1], "        ")
    lines += [
        "",
        *_imports(functional),
        "",
        f"PAD, BOS, EOS = {PAD}, {BOS}, {EOS}",
        "",
        "",
        "class Encoder(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *_module_lines(encoder, "        "),
        "",
        "    def forward(self, source, lengths):",
        '        """The final state of each source, read at its last token (not the padding)."""',
        "        x = source",
        *encoder_body,
        "        x = nn.utils.rnn.pack_padded_sequence(",
        "            x, lengths.cpu(), batch_first=True, enforce_sorted=False",
        "        )",
        f"        _, state = self.{encoder[-1].attribute}(x)",
        "        return state",
        "",
        "",
        "class Decoder(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *_module_lines(decoder, "        "),
        "",
        "    def forward(self, tokens, state):",
        '        """Next-token probabilities after each of ``tokens``, and the last state."""',
        "        x = tokens",
        *_forward_lines(before, "        "),
        f"        x, state = self.{connected.attribute}(x, state)",
        *_forward_lines(after, "        "),
        "        return x, state",
        "",
        "",
        "class Model(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        "        self.encoder = Encoder()",
        "        self.decoder = Decoder()",
        "",
        "    def forward(self, source, lengths, decoder_input):",
        '        """Teacher forcing: the probabilities of each next target token."""',
        "        return self.decoder(decoder_input, self.encoder(source, lengths))[0]",
        *_load_function(),
        "",
        "",
        "@torch.no_grad()",
        "def greedy_translate(model, source, lengths, max_length):",
        '    """The likeliest token at every step, fed back as the next input (the playground\'s',
        '    greedy decoding); (batch, max_length) ids, padding after each <eos>."""',
        "    state = model.encoder(source, lengths)",
        "    tokens = torch.full((len(source), 1), BOS, dtype=torch.long)",
        "    out = torch.full((len(source), max_length), PAD, dtype=torch.long)",
        "    finished = torch.zeros(len(source), dtype=torch.bool)",
        "    for step in range(max_length):",
        "        probabilities, state = model.decoder(tokens, state)",
        "        tokens = probabilities[:, -1].argmax(dim=1, keepdim=True)",
        "        out[:, step] = torch.where(finished, PAD, tokens[:, 0])",
        "        finished |= tokens[:, 0] == EOS",
        "        if finished.all():",
        "            break",
        "    return out",
    ]
    # the encoder and decoder modules live under model.encoder / model.decoder
    for layer in encoder:
        layer.attribute = f"encoder.{layer.attribute}"
    for layer in decoder:
        layer.attribute = f"decoder.{layer.attribute}"
    return "\n".join(lines) + "\n", encoder + decoder


# --- weights -------------------------------------------------------------------------------------
def torch_state(layers: list[Layer], weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The engine's ``"<node>.<param>"`` arrays under the names ``model.py``'s modules give them."""
    state = {}
    for layer in layers:
        for param, torch_name in layer.twin.keys.items():
            state[f"{layer.attribute}.{torch_name}"] = np.ascontiguousarray(weights[f"{layer.id}.{param}"], np.float32)
    return state


def decaying_keys(layers: list[Layer]) -> list[str]:
    """The torch names of the parameters L2 and L1 shrink: the engine's ``decaying`` (weights, not biases)."""
    keys = []
    for layer in layers:
        decaying = layer_class(layer.type).decaying
        keys += [f"{layer.attribute}.{name}" for param, name in layer.twin.keys.items() if param in decaying]
    return keys


def save_torch_state(path: Path, state: dict[str, np.ndarray]) -> None:
    import torch

    torch.save({key: torch.from_numpy(value.copy()) for key, value in state.items()}, path)


def torch_missing() -> str | None:
    """What is missing to write ``weights.pt`` or ONNX, in one line; None when torch is installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed: weights.pt was not written (it comes with the playground's export extra)"
    return None


# --- the export ----------------------------------------------------------------------------------
def export_pytorch(
    spec: NetworkSpec,
    weights: dict[str, np.ndarray],
    directory: str | Path,
    source: str,
    data: dict[str, np.ndarray] | None = None,
) -> Exported:
    """Write model.py, weights.pt and train.py (and data.npz when train.py needs it) into ``directory``.

    ``weights``: every parameter, keyed like a weights file (the trained ones, or the network's
    initial draw).  ``data``: the arrays x_train, y_train, x_val, y_val of a data set the
    playground generates, for train.py to read; None for the IDX sets, which train.py reads itself.
    Raises NoTwin, naming the layer, before anything is written.
    """
    directory = Path(directory)
    sequence_pairs = bool(spec.state_edges)
    text, layers = (encoder_decoder_model if sequence_pairs else chain_model)(spec, source)
    state = torch_state(layers, weights)
    exported = Exported(directory)
    with staging_folder(directory) as staging:
        (staging / "model.py").write_text(text, encoding="utf-8")
        exported.files.append("model.py")
        missing = torch_missing()
        if missing is None:
            save_torch_state(staging / "weights.pt", state)
            exported.files.append("weights.pt")
        else:
            exported.notes.append(missing)
        dataset = spec.dataset.name
        untrainable = _untrainable(spec)
        if untrainable:
            exported.notes.append(untrainable)
        elif dataset in IDX_DATASETS or data is not None:
            outputs = 0 if sequence_pairs else int(np.prod(analyse(spec).output_shapes[layers[-1].id]))
            hands_z = spec.training.cost in LOGIT_COSTS and layers[-1].twin.split is not None
            script = training_script(
                spec,
                decaying_keys(layers),
                outputs,
                reads_idx=dataset in IDX_DATASETS,
                logits=hands_z and not sequence_pairs,
                pairs=sequence_pairs,
            )
            (staging / "train.py").write_text(script, encoding="utf-8")
            exported.files.append("train.py")
            if data is not None:
                np.savez_compressed(staging / "data.npz", **data)
                exported.files.append("data.npz")
        else:
            exported.notes.append(f'train.py is not written: the data set "{dataset}" is a file train.py cannot read')
        for name in exported.files:
            (staging / name).replace(directory / name)
    return exported


@contextlib.contextmanager
def staging_folder(directory: Path):
    """A hidden folder inside ``directory`` to write into, removed at the end; the files are then
    moved out by atomic renames.  A failure removes ``directory`` too when it was made for this."""
    made = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    except OSError as error:  # a folder that cannot be made or written: nothing was
        raise InteropError(f"{directory}: cannot write there ({error.strerror or error})") from None
    try:
        yield staging
    except BaseException:
        if made:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
