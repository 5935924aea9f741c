"""Export to ONNX through the PyTorch export: ``model.py`` is generated and loaded with its weights,
and ``torch.onnx`` traces it into ``model.onnx``, which ``onnx.checker`` then checks.

Going through the PyTorch twin keeps one mapping from layers to operators (``twins.py``) instead
of two that could drift; the tests hold both to the engine's outputs.  The graph's input and
output carry the network file's names (the input layer's id, the last layer's id) and shapes,
with the batch axis free.

An encoder-decoder becomes two graphs, as it runs: ``encoder.onnx`` (source ids and lengths → the
final state) and ``decoder.onnx`` (tokens and a state → next-token probabilities and the new
state), between which a program runs its decoding loop.  The decoder goes through torch.onnx; the
encoder is written with the ``onnx`` package directly, because it must read each source's state at
its own last token, which ONNX's LSTM and RNN operators do with ``sequence_lens`` and the tracer
cannot express.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from ..model import NetworkSpec, analyse
from ..model.analysis import analyse_encoder_decoder
from .errors import InteropError
from .pytorch import Exported, export_pytorch, staging_folder

EXTRA = "ONNX needs torch and onnx, which come with the playground's export extra"


def _generated_model(folder: Path):
    """The Model class of the model.py just generated in ``folder`` (our own code, not a user's)."""
    module_spec = importlib.util.spec_from_file_location(f"exported_model_{id(folder)}", folder / "model.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def export_onnx(spec: NetworkSpec, weights: dict[str, np.ndarray], directory: str | Path, source: str) -> Exported:
    """Write ``model.onnx`` into ``directory``; InteropError with one line when it cannot."""
    try:
        import onnx
        import torch
    except ImportError:
        raise InteropError(EXTRA) from None
    directory = Path(directory)
    if spec.state_edges:
        return _export_encoder_decoder(spec, weights, directory, source)
    with staging_folder(directory) as staging:
        export_pytorch(spec, weights, staging / "pytorch", source)
        module = _generated_model(staging / "pytorch")
        model = module.load(staging / "pytorch" / "weights.pt")
        analysis = analyse(spec)
        first, last = analysis.order[0], analysis.order[-1]
        input_shape = analysis.output_shapes[first]
        token_input = spec.node(analysis.order[1]).type in ("embedding", "one_hot")
        example = (torch.zeros if token_input else torch.rand)((2, *input_shape))
        if token_input:
            example = example.long()
        path = staging / "model.onnx"
        with warnings.catch_warnings():  # the tracer's notes on RNNs and its own deprecation: not the user's
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (example,),
                str(path),
                input_names=[first],
                output_names=[last],
                dynamic_axes={first: {0: "batch"}, last: {0: "batch"}},
                dynamo=False,
            )
        onnx.checker.check_model(str(path), full_check=True)
        path.replace(directory / "model.onnx")
    return Exported(directory, ["model.onnx"])


#: torch's gate blocks (i, f, g, o) in the order ONNX's LSTM wants them (i, o, f, c)
ONNX_GATE_ORDER = {"lstm": [0, 3, 1, 2], "simple_rnn": [0]}
OPSET = 17


def _export_encoder_decoder(spec, weights, directory: Path, source: str) -> Exported:
    import torch

    with staging_folder(directory) as staging:
        export_pytorch(spec, weights, staging / "pytorch", source)
        module = _generated_model(staging / "pytorch")
        model = module.load(staging / "pytorch" / "weights.pt")
        state = {key: value.numpy() for key, value in model.state_dict().items()}
        encoder_id, decoder_id = spec.state_edges[0]
        analysis = analyse_encoder_decoder(spec)
        split = analysis.order.index(encoder_id) + 1
        encoder_nodes = [spec.node(node_id) for node_id in analysis.order[:split]]
        parts = ("h", "c") if spec.node(encoder_id).type == "lstm" else ("h",)
        state_names = [f"{encoder_id}_{part}" for part in parts]
        _encoder_graph(encoder_nodes, state, state_names, staging / "encoder.onnx")
        decoder = _decoder_graph(model.decoder, len(parts))
        target_id = analysis.order[split]
        batch = 2
        hidden = spec.node(decoder_id).config.hidden
        example = (torch.ones((batch, 1), dtype=torch.long), *(torch.zeros(1, batch, hidden) for _ in parts))
        outputs = [analysis.order[-1], *(f"{decoder_id}_{part}" for part in parts)]
        axes = {target_id: {0: "batch", 1: "steps"}, outputs[0]: {0: "batch", 1: "steps"}}
        axes.update({name: {1: "batch"} for name in state_names + outputs[1:]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                decoder,
                example,
                str(staging / "decoder.onnx"),
                input_names=[target_id, *state_names],
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        import onnx

        for name in ("encoder.onnx", "decoder.onnx"):
            onnx.checker.check_model(str(staging / name), full_check=True)
            (staging / name).replace(directory / name)
    return Exported(directory, ["encoder.onnx", "decoder.onnx"])


def _decoder_graph(decoder, parts: int):
    """The generated Decoder with its state as separate tensors, as a graph's inputs must be
    (built here, where torch is imported: this module loads without it)."""
    import torch

    class DecoderGraph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = decoder

        def forward(self, tokens, *state):
            probabilities, new_state = self.decoder(tokens, state if parts == 2 else state[0])
            return (probabilities, *(new_state if parts == 2 else (new_state,)))

    return DecoderGraph()


def _encoder_graph(nodes, state: dict[str, np.ndarray], state_names: list[str], path: Path) -> None:
    """source ids (batch, S) and lengths (batch) → the recurrent layer's state at each last token."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    first, embedding, *middle, recurrent = nodes
    if embedding.type != "embedding" or any(node.type != "dropout" for node in middle):
        raise InteropError(
            "ONNX export of an encoder-decoder takes an encoder of an embedding, dropout and one recurrent layer"
        )
    prefix = f"encoder.{recurrent.id}"
    hidden = recurrent.config.hidden
    order = ONNX_GATE_ORDER[recurrent.type]

    def gates(array: np.ndarray) -> np.ndarray:
        blocks = array.reshape(len(order), hidden, *array.shape[1:])
        return blocks[order].reshape(array.shape)[None]

    initializers = [
        numpy_helper.from_array(state[f"encoder.{embedding.id}.weight"], "embedding"),
        numpy_helper.from_array(gates(state[f"{prefix}.weight_ih_l0"]), "W"),
        numpy_helper.from_array(gates(state[f"{prefix}.weight_hh_l0"]), "R"),
        numpy_helper.from_array(
            np.concatenate([gates(state[f"{prefix}.bias_ih_l0"]), gates(state[f"{prefix}.bias_hh_l0"])], axis=1), "B"
        ),
    ]
    operator = "LSTM" if recurrent.type == "lstm" else "RNN"
    graph_nodes = [
        helper.make_node("Gather", ["embedding", first.id], ["embedded"], axis=0),
        helper.make_node("Transpose", ["embedded"], ["steps_first"], perm=[1, 0, 2]),
        helper.make_node("Cast", ["lengths"], ["lengths32"], to=TensorProto.INT32),
        helper.make_node(operator, ["steps_first", "W", "R", "B", "lengths32"], ["", *state_names], hidden_size=hidden),
    ]
    steps = first.config.shape[0]
    graph = helper.make_graph(
        graph_nodes,
        "encoder",
        [
            helper.make_tensor_value_info(first.id, TensorProto.INT64, ["batch", steps]),
            helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"]),
        ],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, "batch", hidden]) for name in state_names],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.save(model, str(path))
