"""Import: a PyTorch state_dict or an ONNX model becomes a network file and its weights, so a model
trained elsewhere opens on the canvas and every view (filters, feature maps, evaluation) works on it.

Three ways in:
- a state_dict with the network file it was trained as (``--as``), any network the playground
  exports, the encoder-decoder included: its keys are the ones the export to PyTorch writes
  (``twins.py``), read back the other way;
- a state_dict alone: a plain Sequential MLP or CNN inferred from the keys and shapes (Linear is a
  2-D weight, Conv2d a 4-D one; the image size and any 2×2 pooling from the first Linear's width);
  a state_dict holds no activations, so hidden layers are taken as ReLU and the output as softmax,
  and the description says so;
- an ONNX model: a chain of Gemm/MatMul, Conv, pooling, Flatten and activation nodes; any other
  operator is listed, node by node, in one message, and nothing is imported.

Never unpickled: a .pt file is read with ``torch.load(..., weights_only=True)``, which refuses
anything but tensors and plain containers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from ..engine.layers import layer_class
from ..model import DatasetSettings, NetworkSpec, Node, TrainingSettings, analyse, load_spec, parameter_arrays
from ..model.weights import check_weights
from .errors import InteropError
from .pytorch import chain_model, encoder_decoder_model

EXTRA = "importing {what} needs {package}, which comes with the playground's export extra"


@dataclass
class Imported:
    spec: NetworkSpec
    weights: dict[str, np.ndarray]
    description: str


def import_model(path: str | Path, network: str | Path | None = None) -> Imported:
    path = Path(path)
    if not path.is_file():
        raise InteropError(f"{path}: no such file")
    if path.suffix.lower() == ".onnx":
        if network is not None:
            raise InteropError("an ONNX model describes its own network: leave out the network file")
        return import_onnx(path)
    state = read_state_dict(path)
    if network is not None:
        return import_with_network(state, load_spec(network), path.name)
    return infer_sequential(state, path.name)


# --- PyTorch -------------------------------------------------------------------------------------
def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise InteropError(EXTRA.format(what="a .pt file", package="torch")) from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # weights_only refuses pickled objects; a broken file fails its own way
        raise InteropError(
            f"{path.name}: not a state_dict saved with torch.save(model.state_dict(), ...); "
            "the playground reads tensors only and never unpickles objects"
        ) from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(value, torch.Tensor) for value in loaded.values()):
        raise InteropError(f"{path.name}: not a state_dict (a dict of tensors); save model.state_dict()")
    return {str(key): value.detach().float().numpy() for key, value in loaded.items()}


def import_with_network(state: dict[str, np.ndarray], spec: NetworkSpec, source: str) -> Imported:
    """The state_dict's arrays under the playground's keys, through the export's own mapping."""
    _, layers = (encoder_decoder_model if spec.state_edges else chain_model)(spec, source)
    weights, used = {}, set()
    for layer in layers:
        for param, torch_name in layer.twin.keys.items():
            key = f"{layer.attribute}.{torch_name}"
            if key not in state:
                raise InteropError(f'{source}: layer "{layer.id}": the state_dict has no "{key}"')
            weights[f"{layer.id}.{param}"] = state[key]
            used.add(key)
    unused = sorted(set(state) - used)
    if unused:
        raise InteropError(f"{source}: the network has no parameter for {', '.join(unused)}")
    expected = parameter_arrays(spec)
    for key, value in expected.items():  # parameters the export leaves out (an RBM's visible biases)
        weights.setdefault(key, np.zeros_like(value))
    check_weights(weights, expected, source)
    return Imported(spec, weights, f"{source} as {spec.name or 'the network file'}")


def _modules(state: dict[str, np.ndarray], source: str) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(module name, weight, bias) in the state_dict's order."""
    names = list(dict.fromkeys(key.rpartition(".")[0] for key in state))
    modules = []
    for name in names:
        weight, bias = state.get(f"{name}.weight"), state.get(f"{name}.bias")
        extra = sorted(
            key for key in state if key.rpartition(".")[0] == name and key not in (f"{name}.weight", f"{name}.bias")
        )
        if weight is None or extra or weight.ndim not in (2, 4):
            found = ", ".join(extra) if extra else f"{name}.weight of {0 if weight is None else weight.ndim} dimensions"
            raise InteropError(
                f"{source}: not a plain Sequential MLP or CNN ({found}); give the network file it was trained as"
            )
        modules.append((name, weight, bias))
    return modules


def _image_plan(convs: list[np.ndarray], flat_width: int) -> tuple[int, list[int]] | None:
    """(input side, pool size after each conv) that makes the first Linear's width come out, trying
    the usual image sizes first (MNIST's 28, then 32) and no pooling or 2×2 pooling per layer."""
    sides = [28, 32, *range(8, 65)]
    for side in dict.fromkeys(sides):
        for pools in product((1, 2), repeat=len(convs)):
            size = side
            for weight, pool in zip(convs, pools, strict=True):
                size = size - weight.shape[2] + 1
                if size < 1 or size % pool:
                    break
                size //= pool
            else:
                if convs[-1].shape[0] * size * size == flat_width:
                    return side, list(pools)
    return None


def infer_sequential(state: dict[str, np.ndarray], source: str) -> Imported:
    """A plain Sequential MLP or CNN from the keys and shapes alone."""
    modules = _modules(state, source)
    convs = [weight for _, weight, _ in modules if weight.ndim == 4]
    if any(weight.ndim == 4 for _, weight, _ in modules[len(convs) :]):
        raise InteropError(f"{source}: a convolution after a Linear layer is not a plain Sequential CNN")
    if not modules or modules[-1][1].ndim != 2:
        raise InteropError(f"{source}: a classifier's state_dict ends in a Linear layer; this one does not")
    nodes, edges = [], []

    def add(node_id: str, type_id: str, **config):
        nodes.append(Node(node_id, type_id, layer_class(type_id).Config(**config)))
        if len(nodes) > 1:
            edges.append((nodes[-2].id, node_id))

    weights: dict[str, np.ndarray] = {}
    ids = [name.replace(".", "_") if not name[:1].isdigit() else f"layer{name}" for name, _, _ in modules]
    if convs:
        plan = _image_plan(convs, modules[len(convs)][1].shape[1])
        if plan is None:
            raise InteropError(f"{source}: no square image size fits the convolutions and the first Linear layer")
        side, pools = plan
        add("in", "input", shape=(convs[0].shape[1], side, side))
    else:
        add("in", "input", shape=(modules[0][1].shape[1],))
        pools = []
    for index, (node_id, (_, weight, bias)) in enumerate(zip(ids, modules, strict=True)):
        last = index == len(modules) - 1
        if weight.ndim == 4:
            add(node_id, "conv2d", filters=weight.shape[0], kernel_size=weight.shape[2], activation="relu")
            if pools[index] == 2:
                add(f"pool{index + 1}", "maxpool2d", size=2)
            if index == len(convs) - 1:
                add("flatten", "flatten")
        else:
            add(node_id, "dense", units=weight.shape[0], activation="softmax" if last else "relu")
        weights[f"{node_id}.weight"] = weight
        weights[f"{node_id}.bias"] = bias if bias is not None else np.zeros(weight.shape[0], np.float32)
    spec = _spec(nodes, edges, Path(source).stem)
    check_weights(weights, parameter_arrays(spec), source)
    kind = "CNN" if convs else "MLP"
    return Imported(
        spec, weights, f"{source} as a Sequential {kind}; hidden layers taken as ReLU, the output as softmax"
    )


def _spec(nodes: list[Node], edges, name: str) -> NetworkSpec:
    """A classifier on MNIST-shaped data where the input is, else on no data set in particular."""
    shape = nodes[0].config.shape
    mnist = math.prod(shape) == 784
    ui = {"positions": {node.id: [0.0, 110.0 * i] for i, node in enumerate(nodes)}}
    training = TrainingSettings(cost="log-likelihood")
    return NetworkSpec(nodes, edges, training, DatasetSettings(name="mnist" if mnist else "digits"), ui, name)


# --- ONNX ----------------------------------------------------------------------------------------
ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu", "Softmax": "softmax"}
PASSING = ("Identity", "Dropout")


def import_onnx(path: Path) -> Imported:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise InteropError(EXTRA.format(what="an ONNX model", package="onnx")) from None
    try:
        model = onnx.load(str(path))
    except Exception as error:
        raise InteropError(f"{path.name}: not an ONNX model ({error.__class__.__name__})") from None
    graph = model.graph
    supported = {
        "Gemm",
        "MatMul",
        "Add",
        "Conv",
        "MaxPool",
        "AveragePool",
        "Flatten",
        "Reshape",
        *ACTIVATIONS,
        *PASSING,
    }
    unsupported = [
        f"{node.name or node.output[0]} ({node.op_type})" for node in graph.node if node.op_type not in supported
    ]
    if unsupported:
        raise InteropError(f"{path.name}: operators the playground has no layer for: {', '.join(unsupported)}")
    arrays = {init.name: numpy_helper.to_array(init).astype(np.float32) for init in graph.initializer}
    initializer_names = set(arrays)
    inputs = [value for value in graph.input if value.name not in initializer_names]
    if len(inputs) != 1:
        raise InteropError(f"{path.name}: the playground imports networks with one input, not {len(inputs)}")
    shape = tuple(dim.dim_value for dim in inputs[0].type.tensor_type.shape.dim[1:])
    if not shape or 0 in shape:
        raise InteropError(f"{path.name}: the input's shape per example is not fixed")
    nodes = [Node(inputs[0].name, "input", layer_class("input").Config(shape=shape))]
    edges, weights = [], {}
    taken = {nodes[0].id}

    def add(node_id: str, type_id: str, **config) -> str:
        base, number = node_id, 2
        while node_id in taken:
            node_id, number = f"{base}_{number}", number + 1
        taken.add(node_id)
        nodes.append(Node(node_id, type_id, layer_class(type_id).Config(**config)))
        edges.append((nodes[-2].id, node_id))
        return node_id

    def attribute(node, name, default):
        for item in node.attribute:
            if item.name == name:
                return onnx.helper.get_attribute_value(item)
        return default

    def layer_name(node, weight_name: str) -> str:
        prefix = weight_name.rpartition(".")[0]
        return (prefix or node.name or f"layer{len(nodes)}").replace(".", "_").replace("/", "_")

    pending_bias = None
    for node in graph.node:
        op = node.op_type
        if op in PASSING:
            continue
        if op in ACTIVATIONS:
            last = nodes[-1]
            if last.type not in ("dense", "conv2d") or last.config.activation != "linear":
                raise InteropError(f"{path.name}: node {node.name or op}: an activation must follow a Gemm or Conv")
            alpha = float(attribute(node, "alpha", 0.01))
            config = last.config.__class__(**{**last.config.__dict__, "activation": ACTIVATIONS[op], "alpha": alpha})
            nodes[-1] = Node(last.id, last.type, config)
        elif op in ("Gemm", "MatMul"):
            weight = arrays.get(node.input[1])
            if weight is None:
                raise InteropError(f"{path.name}: node {node.name or op}: its weights are not constants")
            if op == "MatMul" or not attribute(node, "transB", 0):
                weight = weight.T
            node_id = add(layer_name(node, node.input[1]), "dense", units=weight.shape[0], activation="linear")
            weights[f"{node_id}.weight"] = np.ascontiguousarray(weight)
            bias = arrays.get(node.input[2]) if len(node.input) > 2 else None
            weights[f"{node_id}.bias"] = bias if bias is not None else np.zeros(weight.shape[0], np.float32)
            pending_bias = node_id if op == "MatMul" else None
        elif op == "Add" and pending_bias is not None:
            bias = next((arrays[name] for name in node.input if name in arrays), None)
            if bias is None:
                raise InteropError(f"{path.name}: node {node.name or op}: an Add that is not a bias")
            weights[f"{pending_bias}.bias"] = bias.reshape(-1)
            pending_bias = None
        elif op == "Conv":
            weight = arrays[node.input[1]]
            pads = list(attribute(node, "pads", [0, 0, 0, 0]))
            strides = list(attribute(node, "strides", [1, 1]))
            k = weight.shape[2]
            if weight.shape[2] != weight.shape[3] or len(set(strides)) != 1 or attribute(node, "group", 1) != 1:
                raise InteropError(f"{path.name}: node {node.name or op}: only square, ungrouped convolutions")
            padding = "valid" if not any(pads) else "same"
            if padding == "same" and (strides[0] != 1 or pads != [(k - 1) // 2, (k - 1) // 2, k // 2, k // 2]):
                raise InteropError(f"{path.name}: node {node.name or op}: padding {pads} has no playground twin")
            node_id = add(
                layer_name(node, node.input[1]),
                "conv2d",
                filters=weight.shape[0],
                kernel_size=k,
                stride=strides[0],
                padding=padding,
                activation="linear",
            )
            weights[f"{node_id}.weight"] = weight
            bias = arrays.get(node.input[2]) if len(node.input) > 2 else None
            weights[f"{node_id}.bias"] = bias if bias is not None else np.zeros(weight.shape[0], np.float32)
        elif op in ("MaxPool", "AveragePool"):
            size = list(attribute(node, "kernel_shape", [2, 2]))
            strides = list(attribute(node, "strides", size))
            if len(set(size)) != 1 or len(set(strides)) != 1 or any(attribute(node, "pads", [])):
                raise InteropError(f"{path.name}: node {node.name or op}: only square, unpadded pooling")
            add(f"pool{len(nodes)}", "maxpool2d" if op == "MaxPool" else "avgpool2d", size=size[0], stride=strides[0])
        elif op in ("Flatten", "Reshape"):
            if nodes[-1].type != "flatten":
                add(f"flatten{len(nodes)}", "flatten")
        else:
            raise InteropError(f"{path.name}: node {node.name or op}: an {op} the playground cannot place in a chain")
    spec = _spec(nodes, edges, path.stem)
    problems = analyse(spec).problems
    if problems:
        raise InteropError(f"{path.name}: {problems[0].message}")
    check_weights(weights, parameter_arrays(spec), path.name)
    return Imported(spec, weights, f"{path.name}, {len(nodes) - 1} layers from its ONNX graph")
