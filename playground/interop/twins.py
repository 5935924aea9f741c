"""Each layer type's PyTorch twin: the module it becomes, the line of ``forward`` that runs it, and
where its parameters go in the ``state_dict``.

One twin per registered layer type, keyed by its ``type_id`` like the layer registry itself, so the
exporter is a loop over the network's layers and never an if-chain over types; a layer type with no
twin here is refused by name (``twin_of``), and a test checks that every registered type has one.
The engine already keeps PyTorch's layouts (Linear's (out, in), Conv2d's (F, C, k, k), the RNN's
``weight_ih``), so most parameters move over unchanged and only a few are renamed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.layers.geometry import output_size
from ..engine.layers.pooling import pool_stride
from .errors import NoTwin


@dataclass(frozen=True)
class Twin:
    """What one layer becomes in ``model.py``.

    ``module``: the constructor in ``__init__`` (None: nothing to hold, e.g. an input);
    ``forward``: the lines of ``forward`` that read and rebind ``x``; ``self`` stands for the
    module, written ``self.<name>`` by the exporter; ``keys``: engine parameter → torch name;
    ``functional``: whether the lines use ``F`` (torch.nn.functional), so the import is written
    only when needed; ``note``: a comment above the module, where the mapping needs saying;
    ``split``: for a softmax or sigmoid layer, its ``forward`` as two lines, the weighted input z
    and then the activation, so an output layer can hand z to the cost (see ``chain_model``).
    """

    module: str | None
    forward: tuple[str, ...]
    keys: dict[str, str] = field(default_factory=dict)
    functional: bool = False
    note: str = ""
    split: tuple[str, str] | None = None


#: type_id → fn(attribute name, config, input shape) → Twin
TWINS: dict[str, Callable[[str, object, tuple[int, ...]], Twin]] = {}


def twin(type_id: str):
    def register(function):
        if type_id in TWINS:
            raise ValueError(f'the torch twin of "{type_id}" is registered twice')
        TWINS[type_id] = function
        return function

    return register


def twin_of(node_id: str, type_id: str, attribute: str, config, input_shape) -> Twin:
    """The twin of one layer, or NoTwin naming the layer and why."""
    make = TWINS.get(type_id)
    if make is None:
        raise NoTwin(f'layer "{node_id}": a {type_id} layer has no PyTorch twin')
    try:
        return make(attribute, config, tuple(input_shape))
    except NoTwin as error:
        raise NoTwin(f'layer "{node_id}": {error}') from None


def activated(activation: str, alpha: float, expression: str) -> tuple[str, bool]:
    """``expression`` wrapped in the activation's torch function, and whether it needs ``F``."""
    if activation == "linear":
        return expression, False
    if activation == "leaky_relu":
        return f"F.leaky_relu({expression}, {alpha!r})", True
    if activation == "softmax":
        return f"torch.softmax({expression}, dim=-1)", False
    if activation in ("sigmoid", "tanh", "relu"):
        return f"torch.{activation}({expression})", False
    raise NoTwin(f'the activation "{activation}" has no PyTorch twin')


def _flat_input(input_shape) -> str:
    """Dense layers take any shape flattened (Nielsen's 28×28 image as 784 inputs); torch's Linear
    reads the last axis only, so the flattening is written out."""
    return "x" if len(input_shape) == 1 else "x.flatten(1)"


IDENTITY = {"weight": "weight", "bias": "bias"}


@twin("input")
def _input(name, config, input_shape):
    return Twin(None, ())


def _split(config, weighted_input: str) -> tuple[str, str] | None:
    if config.activation not in ("softmax", "sigmoid"):
        return None
    return f"x = {weighted_input}", f"x = {activated(config.activation, config.alpha, 'x')[0]}"


@twin("dense")
def _dense(name, config, input_shape):
    weighted_input = f"self.{name}({_flat_input(input_shape)})"
    line, functional = activated(config.activation, config.alpha, weighted_input)
    module = f"nn.Linear({math.prod(input_shape)}, {config.units})"
    return Twin(module, (f"x = {line}",), IDENTITY, functional, split=_split(config, weighted_input))


@twin("rbm")
def _rbm(name, config, input_shape):
    expression = f"self.{name}({_flat_input(input_shape)})"
    line = expression if config.hidden == "linear" else f"torch.sigmoid({expression})"
    formula = "Wv + c" if config.hidden == "linear" else "p(h = 1 | v) = σ(Wv + c)"
    note = (
        f"an RBM as the layer it acts as in the stack, {formula}; its visible biases (for reconstruction) stay behind"
    )
    return Twin(f"nn.Linear({math.prod(input_shape)}, {config.units})", (f"x = {line}",), IDENTITY, note=note)


@twin("time_dense")
def _time_dense(name, config, input_shape):
    line, functional = activated(config.activation, config.alpha, f"self.{name}(x)")
    module = f"nn.Linear({input_shape[-1]}, {config.units})"
    return Twin(module, (f"x = {line}",), IDENTITY, functional, split=_split(config, f"self.{name}(x)"))


@twin("conv2d")
def _conv2d(name, config, input_shape):
    channels, height, width = input_shape
    k, s = config.kernel_size, config.stride
    _, top, bottom = output_size(height, k, s, config.padding)
    _, left, right = output_size(width, k, s, config.padding)
    lines = []
    padding = ""
    if (top, left) == (bottom, right):
        if top or left:
            padding = f", padding={(top, left)!r}" if top != left else f", padding={top}"
    else:  # an odd total pad: the extra zero after, as the engine (and torch's "same") put it
        lines.append(f"x = F.pad(x, {(left, right, top, bottom)!r})")
    stride = f", stride={s}" if s != 1 else ""
    line, functional = activated(config.activation, config.alpha, f"self.{name}(x)")
    return Twin(
        f"nn.Conv2d({channels}, {config.filters}, {k}{stride}{padding})",
        (*lines, f"x = {line}"),
        IDENTITY,
        functional or bool(lines),
    )


def _pool(kind: str):
    def make(name, config, input_shape):
        stride = pool_stride(config)
        stride_text = "" if stride == config.size else f", stride={stride}"
        return Twin(f"nn.{kind}({config.size}{stride_text})", (f"x = self.{name}(x)",))

    return make


twin("maxpool2d")(_pool("MaxPool2d"))
twin("avgpool2d")(_pool("AvgPool2d"))


@twin("flatten")
def _flatten(name, config, input_shape):
    return Twin("nn.Flatten()", (f"x = self.{name}(x)",))


@twin("reshape")
def _reshape(name, config, input_shape):
    shape = ", ".join(str(int(v)) for v in config.shape)
    return Twin(f"nn.Unflatten(1, ({shape},))", (f"x = self.{name}(x.flatten(1))",))


@twin("dropout")
def _dropout(name, config, input_shape):
    return Twin(f"nn.Dropout({config.rate!r})", (f"x = self.{name}(x)",))


@twin("embedding")
def _embedding(name, config, input_shape):
    return Twin(
        f"nn.Embedding({config.vocabulary}, {config.dimension})", (f"x = self.{name}(x.long())",), {"weight": "weight"}
    )


@twin("one_hot")
def _one_hot(name, config, input_shape):
    """No parameters, so no module: the line itself is the layer."""
    return Twin(None, (f"x = F.one_hot(x.long(), {config.vocabulary}).float()  # {name}",), functional=True)


RECURRENT_KEYS = {name: f"{name}_l0" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def _recurrent(kind: str):
    def make(name, config, input_shape):
        features = input_shape[-1]
        lines = [f"x, _ = self.{name}(x)"]
        if config.return_sequences == "no":
            lines.append("x = x[:, -1]  # the final state h_T")
        return Twin(f"nn.{kind}({features}, {config.hidden}, batch_first=True)", tuple(lines), RECURRENT_KEYS)

    return make


twin("simple_rnn")(_recurrent("RNN"))
twin("lstm")(_recurrent("LSTM"))
