"""``export`` and ``import``: a network out to PyTorch or ONNX, a model trained elsewhere in."""

from __future__ import annotations


def command_export(args) -> int:
    from ..files import check_writable
    from ..interop import export_onnx, export_pytorch
    from ..interop.sources import export_source, generated_examples

    check_writable(args.out / "model.py", "-o")
    spec, weights, source = export_source(args.network, args.weights)
    if args.to == "onnx":
        exported = export_onnx(spec, weights, args.out, source)
    else:
        exported = export_pytorch(spec, weights, args.out, source, generated_examples(spec))
    print(f"wrote {', '.join(exported.files)} into {args.out}")
    for note in exported.notes:
        print(note)
    return 0


def command_import(args) -> int:
    from ..files import check_writable
    from ..interop import import_model
    from ..model.project import Project, save_project

    check_writable(args.out, "-o")
    imported = import_model(args.model, args.network)
    save_project(args.out, Project(imported.spec, imported.weights))
    print(f"wrote {args.out}: {imported.description}")
    return 0
