"""The evaluation report: JSON with every number and setting, matplotlib plots, an HTML page, and a
side-by-side MP4 of the methods per clip.  Every file is written through :mod:`steadystyle.atomic`
(a hidden temporary beside it, renamed into place when complete), so an interrupted write leaves
the previous report's file as it was."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..atomic import atomic_path, atomic_write_text
from ..errors import SteadyStyleError
from ..stats import write_json
from .summary import markdown_tables

__all__ = ["side_by_side_video", "write_report", "check_report_paths", "video_name", "REPORT_FILES"]

#: The files :func:`write_report` writes into the report folder (besides plots and videos).
REPORT_FILES = ("report.json", "report.md", "index.html", "partial.json", "summary.png")

CURVES = (("warping_error", "warping error (Lai et al.)"), ("warping_error_moving", "warping error, moving pixels"),
          ("static_flicker", "static flicker (grey levels)"), ("sharpness", "sharpness (mean |∇F|²)"),
          ("ghost_proxy", "ghost proxy (share of pixels)"), ("seams", "seams ×1e3"))
BARS = (("warping_error_ratio", "warping error × per-frame"), ("warping_error_moving_ratio", "moving: warping error × per-frame"),
        ("static_flicker_ratio", "static flicker × per-frame"), ("sharpness_ratio", "sharpness × per-frame"),
        ("ghost_proxy", "ghost proxy"), ("seams", "seams ×1e3"), ("ms_per_frame_ratio", "time × per-frame"))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def video_name(clip: str) -> str:
    """The report-relative path of a clip's side-by-side MP4."""
    return f"videos/{_safe(clip)}.mp4"


def check_report_paths(folder: str | os.PathLike, reads: dict[str, str | os.PathLike | None],
                       clip_names: list[str] = ()) -> Path:
    """Refuse, in one line and before any work, a ``--report`` folder that cannot take the report:
    an existing file, a folder that is not writable, a missing parent folder (only the report
    folder itself is created), or one that is — or whose files would be — one of ``reads``
    (option → path).  Returns the folder as a Path."""
    from ..paths import check_paths

    path = Path(os.path.expanduser(os.fspath(folder)))
    if path.exists() and not path.is_dir():
        raise SteadyStyleError(f"--report {path}: is a file, not a folder; give a folder name, nothing was written")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise SteadyStyleError(f"--report {path}: folder is not writable")
        videos = path / "videos"
        if videos.exists() and (not videos.is_dir() or not os.access(videos, os.W_OK | os.X_OK)):
            raise SteadyStyleError(f"--report {path}: {videos} is not a writable folder")
    else:
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise SteadyStyleError(f"--report {path}: no such folder {parent}")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SteadyStyleError(f"--report {path}: folder {parent} is not writable")
    outputs = {"--report": path} | {f"--report {name}": path / name for name in REPORT_FILES}
    for c in clip_names:
        outputs |= {f"--report {video_name(c)}": path / video_name(c),
                    f"--report curves_{_safe(c)}.png": path / f"curves_{_safe(c)}.png"}
    check_paths(reads, {}, outputs)
    return path


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    out = panel.copy()
    cv2.rectangle(out, (0, 0), (min(out.shape[1], 8 + 7 * len(text)), 16), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def side_by_side_video(path: str | os.PathLike, inputs: list[np.ndarray], outputs: dict[str, list[np.ndarray]],
                       fps: float) -> None:
    """Write input | method 1 | method 2 … (each panel labelled) as an H.264 MP4, atomically."""
    from ..video import VideoWriter

    h, w = inputs[0].shape[:2]
    columns = 1 + len(outputs)
    with VideoWriter(path, w * columns, h, fps, crf=20) as writer:
        for t, frame in enumerate(inputs):
            panels = [_label(frame, "input")] + [_label(o[t], name) for name, o in outputs.items()]
            writer.write(np.concatenate(panels, axis=1))


def _savefig(fig, path: Path) -> None:
    """``fig`` as a PNG at ``path``, atomically (the temporary keeps the extension for matplotlib)."""
    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight", format="png")


def _plots(folder: Path, report: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    summary = report["summary"]
    methods = summary["methods"]
    fig, axes = plt.subplots(1, len(BARS), figsize=(4 * len(BARS), 3.2))
    for ax, (key, title) in zip(axes, BARS):
        values = [summary["mean"][m].get(key, float("nan")) for m in methods]
        ax.bar(range(len(methods)), values, color=[f"C{i}" for i in range(len(methods))])
        ax.set_xticks(range(len(methods)), methods, rotation=40, ha="right", fontsize=7)
        ax.set_title(title + " (mean over clips)", fontsize=8)
    _savefig(fig, folder / "summary.png")
    plt.close(fig)
    names.append("summary.png")
    for clip in report["clips"]:
        fig, axes = plt.subplots(1, len(CURVES), figsize=(4 * len(CURVES), 3))
        for ax, (key, title) in zip(axes, CURVES):
            for i, (label, m) in enumerate(clip["methods"].items()):
                ax.plot(m["curves"][key], label=label, color=f"C{i}", lw=1)
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("frame", fontsize=7)
        axes[0].legend(fontsize=6)
        fig.suptitle(f"{clip['clip']} ({clip['size']}, {clip['frames']} frames)", fontsize=9)
        name = f"curves_{_safe(clip['clip'])}.png"  # as check_report_paths expects
        _savefig(fig, folder / name)
        plt.close(fig)
        names.append(name)
    return names


def _html(report: dict, images: list[str], videos: list[str]) -> str:
    e = html.escape
    settings = "".join(f"<li><b>{e(k)}</b>: {e(str(v))}</li>" for k, v in report["settings"].items())
    md = markdown_tables(report["summary"])
    tables = []
    for block in md.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if lines[0].startswith("**"):
            tables.append(f"<h3>{e(lines[0].strip('*'))}</h3>")
            lines = lines[1:]
        if lines and all(ln.startswith("- ") for ln in lines):
            tables.append("<ul>" + "".join(f"<li>{e(ln[2:])}</li>" for ln in lines) + "</ul>")
            continue
        rows = [ln.strip("|").split("|") for ln in lines if not ln.startswith("|---")]
        if rows:
            head = "".join(f"<th>{e(c.strip())}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{e(c.strip().strip('*'))}</td>" for c in r) + "</tr>" for r in rows[1:])
            tables.append(f"<table><tr>{head}</tr>{body}</table>")
    imgs = "".join(f'<p><img src="{e(i)}" style="max-width:100%"></p>' for i in images)
    vids = "".join(f'<p>{e(v)}<br><video src="{e(v)}" controls loop muted style="max-width:100%"></video></p>'
                   for v in videos)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>steadystyle evaluation</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}table{{border-collapse:collapse;font-size:12px;margin-bottom:1em}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}th{{background:#eee}}</style></head><body>
<h1>steadystyle evaluation</h1><p>{e(report['command'])}</p><h2>Settings</h2><ul>{settings}</ul>
<h2>Per clip and mean, per method</h2>{''.join(tables)}<h2>Plots</h2>{imgs}<h2>Side by side</h2>{vids}
<p>Machine: {e(str(report['machine']))}</p></body></html>"""


def write_report(folder: str | os.PathLike, report: dict[str, Any], videos: list[str]) -> None:
    """Write ``report.json``, ``report.md``, the plots and ``index.html`` into ``folder`` (created if needed)."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SteadyStyleError(f"{path}: cannot create the report folder ({exc.strerror})") from None
    write_json(path / "report.json", report)
    try:
        images = _plots(path, report)
        for name, text in (("report.md", markdown_tables(report["summary"])), ("index.html", _html(report, images, videos))):
            atomic_write_text(path / name, text)
    except OSError as exc:
        raise SteadyStyleError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
