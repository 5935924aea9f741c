"""Leaving the playground and coming back: export a network to PyTorch (``model.py``, ``weights.pt``,
``train.py``) and ONNX, and import a model trained elsewhere as a network file and its weights.

Qt-free, like everything but ``playground.gui``; torch, onnx and onnxruntime are the optional
``export`` extra, imported only where a file needs them.

Modules, for finding your way:
    twins            each layer type's PyTorch twin: its module, its line of ``forward``, its keys
    pytorch          the export to PyTorch: model.py, weights.pt, train.py, written all or nothing
    training_script  train.py: the training section as a PyTorch (and torchrun) script
    onnx_export      model.onnx, traced by torch.onnx from the PyTorch export
    sources          what an export starts from: network, project or lesson, weights, examples
    importer         a state_dict (with its network file, or a Sequential inferred) or an ONNX model in
    errors           InteropError, NoTwin: one line naming the layer and why
"""

from .errors import InteropError, NoTwin
from .importer import Imported, import_model
from .onnx_export import export_onnx
from .pytorch import Exported, export_pytorch, torch_missing
from .twins import TWINS

__all__ = [
    "TWINS",
    "Exported",
    "Imported",
    "InteropError",
    "NoTwin",
    "export_onnx",
    "export_pytorch",
    "import_model",
    "torch_missing",
]
