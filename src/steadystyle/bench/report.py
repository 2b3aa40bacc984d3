"""The bench result as Markdown, and both files written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..stats import write_json


def _machine(m: dict[str, Any]) -> list[str]:
    load = m.get("load_average_start")
    end = m.get("load_average_end")
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    return [f"Machine: {m.get('cpu_model', m['processor'])}, {m['cpu_count']} cores"
            + (f" ({', '.join(m['cpu_features'])})" if m.get("cpu_features") else "")
            + f", torch threads {m['torch_threads']}" + (f", GPU {m['gpu']}" if "gpu" in m else "")
            + f" — {m['platform']}",
            *([f"Load average (1/5/15 min) at start {load}, at end {end}"] if load else []),
            *([f"Versions: {versions}"] if versions else [])]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _networks(result: dict[str, Any]) -> list[str]:
    floor = result.get("floor") or {}
    peaks = floor.get("gemm_gflops", {})
    lines = ["", "### Network time per backend (median of interleaved passes)", ""]
    if peaks:
        lines += ["GEMM peak measured in this run: " + ", ".join(f"{p} {g:,.0f} GFLOP/s" for p, g in peaks.items())
                  + " → floor = FLOPs ÷ peak.", ""]
    lines += ["| size | network | backend | precision | mode | median ms | p10–p90 | × fastest | × torch | GFLOP | "
              "floor ms | × floor |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["networks"]:
        lines.append(f"| {r['size']} | {r.get('variant', '')} | {r['backend']} | {r['precision']} | {r['mode']} | "
                     f"{r['median_ms']:.2f} | {r['p10_ms']:.1f}–{r['p90_ms']:.1f} | {r['x_fastest']:.2f} | "
                     f"{_num(r['x_torch'])} | {r['gflop']:.2f} | {_num(r['floor_ms'])} | {_num(r['x_floor'])} |")
    return lines


def _methods(result: dict[str, Any]) -> list[str]:
    lines = ["", "### Methods through the frame loop", "",
             "| size | backend | method | ms/frame | × per-frame | network ran on | stabilizer's own work ÷ a full pass |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        over = r.get("stabilizer_overhead")
        lines.append(f"| {r['size']} | {r['backend']} | {r['method']} | {r['ms_per_frame']:.1f} | "
                     f"{r.get('ratio_to_per_frame', float('nan')):.2f} | {r['network_ran_on']:.0%} | "
                     f"{'' if over is None else f'{over:.1%}'} |")
    return lines


def _live(result: dict[str, Any]) -> list[str]:
    lines = ["", "### Live (`live --input`, defaults)", "",
             "| size | clip fps | backend | method | face detail | delivered fps | latency p50 / p95 / max (ms) | p95 ÷ frame interval | "
             "network ms | stabilizer ms | dropped |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["live"]:
        lat = r["latency_ms"]
        p95 = lat.get("p95")
        ratio = "" if p95 is None else f"{p95 / r['frame_interval_ms']:.2f}"
        asked = r.get("asked_backend", "")
        backend = asked if ":" in asked else r["backend"]  # openvino:int8 names the precision; plain names what ran
        lines.append(f"| {r['size'][0]}×{r['size'][1]} | {r['input_fps']} | {backend} | {r['method']} | "
                     f"{r.get('face_detail', 0.0):g} | {r['delivered_fps']:.1f} | {lat['p50']} / {p95} / {lat['max']} | {ratio} | "
                     f"{r['network_ms']['median_ms']} | {r['stabilize_ms']['median_ms']} | {r['dropped_at_capture']} of "
                     f"{r['frames'] + r['dropped_at_capture']} |")
    return lines


def _files(result: dict[str, Any]) -> list[str]:
    lines = ["", "| file path (`stylize`, per-frame) | backend | serial ms/frame | threaded ms/frame | speed-up | "
             "threaded ÷ network ms |", "|---|---|---|---|---|---|"]
    for r in result["file"]:
        lines.append(f"| {r['size'][0]}×{r['size'][1]}, {r['frames']} frames | {r['backend']} | "
                     f"{r['serial_ms_per_frame']:.1f} | {r['threaded_ms_per_frame']:.1f} | {r['speedup']:.2f}× | "
                     f"{r['threaded_over_network']:.2f} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The result as Markdown: the machine, warnings, then a table per part measured."""
    lines = _machine(result["machine"])
    for w in result.get("warnings", []):
        lines += ["", f"**Warning:** {w}"]
    if result.get("networks"):
        lines += _networks(result)
    if result.get("rows"):
        lines += _methods(result)
    if result.get("live"):
        lines += _live(result)
    if result.get("file"):
        lines += _files(result)
    for note in result.get("notes", []):
        lines.append(f"\n_{note}_")
    return "\n".join(lines) + "\n"


REPORT_FILES = ("bench.json", "bench.md")


def check_output(out_dir: str | os.PathLike, reads: dict[str, str | os.PathLike | None] | None = None) -> Path:
    """Refuse, in one line before any measurement, a ``-o`` the report cannot be written to:
    a file, a folder whose parent is missing, a place that is not writable, or report files that
    are among ``reads`` (option → path).  Nothing is created; returns ``out_dir`` as a Path."""
    from ..errors import SteadyStyleError
    from ..paths import check_paths

    out = Path(os.path.expanduser(os.fspath(out_dir)))
    if out.exists() and not out.is_dir():
        raise SteadyStyleError(f"-o {out}: is a file; give a folder for {' and '.join(REPORT_FILES)}")
    if out.is_dir():
        check_paths(reads or {}, {f"-o {out} ({name})": out / name for name in REPORT_FILES})
        return out
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise SteadyStyleError(f"-o {out}: no such folder {parent} (only {out.name} itself is created)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SteadyStyleError(f"-o {out}: folder {parent} is not writable")
    return out


def write_report(result: dict[str, Any], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """``bench.json`` and ``bench.md`` in ``out_dir`` (created if missing, its parent must exist),
    each written atomically (:mod:`steadystyle.atomic`: a temporary beside it, then a rename)."""
    from ..atomic import atomic_write_text
    from ..errors import SteadyStyleError

    text = markdown(result)  # before either file is replaced
    out = check_output(out_dir)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise SteadyStyleError(f"-o {out}: cannot create the folder ({exc.strerror or exc})") from None
    json_path, md = out / REPORT_FILES[0], out / REPORT_FILES[1]
    write_json(json_path, result)
    try:
        atomic_write_text(md, text)
    except OSError as exc:
        raise SteadyStyleError(f"{md}: cannot write ({exc.strerror or exc})") from None
    return json_path, md


__all__ = ["markdown", "write_report", "check_output", "REPORT_FILES"]
