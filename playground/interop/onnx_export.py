"""Export to ONNX through the PyTorch export: ``model.py`` is generated and loaded with its weights,
and ``torch.onnx`` traces it into ``model.onnx``, which ``onnx.checker`` then checks.

Going through the PyTorch twin keeps one mapping from layers to operators (``twins.py``) instead
of two that could drift; the tests hold both to the engine's outputs.  The graph's input and
output carry the network file's names (the input layer's id, the last layer's id) and shapes,
with the batch axis free.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from ..model import NetworkSpec, analyse
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
    if spec.state_edges:
        raise InteropError("ONNX export of an encoder-decoder is not written yet: export it to PyTorch")
    directory = Path(directory)
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
