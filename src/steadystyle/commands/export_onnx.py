"""``steadystyle export-onnx STYLE -o style.onnx``: the style network as a standard ONNX file.

Dynamic batch, height and width (H and W multiples of 4), opset 18, our metadata kept in the
file's ``metadata_props`` (key ``steadystyle``: the same JSON as in the safetensors file, plus
``name``, ``variant`` and the input convention).  Written atomically.
"""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("export-onnx", help="export a style network to ONNX (dynamic size, metadata kept)",
                       description="Export a style network to ONNX: input N×3×H×W float32 RGB 0–255 (H, W "
                                   "multiples of 4), output the same shape, unclamped.")
    p.add_argument("style", help="shipped style name or model file (.safetensors, .pth)")
    p.add_argument("-o", "--output", required=True, metavar="STYLE.onnx", help="file to write")
    p.set_defaults(run=run)


def check_onnx_name(output: str) -> None:
    """A one-line error unless ``output`` names an ``.onnx`` file (``x.txt``, ``x``, ``x.onnx/``)."""
    from ..errors import SteadyStyleError

    path = Path(output)
    if path.is_dir():
        raise SteadyStyleError(f"-o {output}: is a folder; give a file name like style.onnx")
    if output.endswith(("/", "\\")) or path.suffix.lower() != ".onnx":
        name = (path.with_suffix(".onnx") if path.name else Path("style.onnx")).name
        raise SteadyStyleError(f"-o {output}: the model is written as ONNX; name it {name} (a .onnx file), "
                               f"nothing was written")


def run(args) -> int:
    from ..backends import onnx_available
    from ..errors import SteadyStyleError
    from ..styles import load_style

    check_onnx_name(args.output)  # before anything is imported or loaded
    if not onnx_available():
        raise SteadyStyleError("export-onnx needs onnx and onnxscript: pip install onnx onnxscript onnxruntime")
    from ..backends.onnx import OPSET, check_output, export_graph, write_onnx
    from ..paths import check_paths

    check_output(args.output)
    check_paths({"STYLE": args.style if Path(args.style).exists() else None}, {"-o": args.output})
    model = load_style(args.style)
    check_paths({"STYLE": model.path}, {"-o": args.output})  # a shipped style's file, too
    path = write_onnx(export_graph(model, "plain"), args.output)
    print(f"wrote {path} ({model.name}, opset {OPSET}, {path.stat().st_size / 1e6:.1f} MB)")
    return 0
