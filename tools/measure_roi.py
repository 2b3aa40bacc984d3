"""Measure ROI mode against full-frame frame-diff on real clips: fidelity and speed.

For each clip (first ``--frames`` frames, resized to ``--size``):

- fidelity: frame-diff with ``roi=True``; every time it asks for a region, the region's
  stylization (crop + context, frozen instance-norm statistics) is compared with a full-frame
  stylization of the same frame by a second, independent stylizer, on the pixels the mask
  composites (foreground inside the box).  PSNR in dB over those pixels (RGB, 0–255), pooled
  per clip, and the worst single frame.
- speed: the loop (:class:`steadystyle.loop.Processor`) over the same frames with ``roi=False``
  and ``roi=True``, alternating, ``--repeats`` times; median ms/frame of each and their ratio.

Usage (development data, not shipped):
    python tools/measure_roi.py --clips /work/shared/data/videos/asl_gestures/{again,book,milk,school}.mkv \\
        /work/shared/data/videos/intel_one_by_one_person.mp4 --style scream --backend onnx -o /tmp/roi
Writes ``OUT.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from steadystyle.backends import make_stylizer
from steadystyle.loop import Processor, run
from steadystyle.sources import ArraySource
from steadystyle.stabilize.framediff import FrameDiffParams, FrameDiffStabilizer
from steadystyle.stats import machine_description


def read_frames(path: str, count: int, size: tuple[int, int], start: int = 0) -> list[np.ndarray]:
    """Frames ``start`` … ``start + count`` of a clip as H×W×3 uint8 RGB at ``size`` (W, H)."""
    cap = cv2.VideoCapture(path)
    frames, index = [], 0
    while len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        if index >= start:
            frames.append(cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
        index += 1
    cap.release()
    if not frames:
        raise SystemExit(f"{path}: no frames")
    return frames


def psnr(sq_error: float, count: int) -> float:
    """PSNR in dB of a summed squared error over ``count`` values (inf when exact)."""
    if count == 0:
        return float("nan")
    mse = sq_error / count
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def fidelity(frames: list[np.ndarray], style: str, backend: str, params: FrameDiffParams) -> dict:
    """ROI region vs full-frame stylization inside the composited mask (see module docstring)."""
    roi, reference = make_stylizer(style, backend, "cpu"), make_stylizer(style, backend, "cpu")
    stabilizer = FrameDiffStabilizer(params)
    total_sq, total_n, per_frame, region_frames, full_frames, area = 0.0, 0, [], 0, 0, []
    for frame in frames:
        pending = []

        def stylize(box=None):
            if box is None:
                return roi(frame)
            out = roi.stylize_region(frame, box)
            pending.append((box, out, reference(frame)[box.slices()]))
            return out

        stabilizer(frame, stylize)
        if pending:
            region_frames += 1
            sq, n = 0.0, 0
            for box, out, ref in pending:
                fg = stabilizer.last_mask[box.slices()] == 0
                d = out[fg].astype(np.float64) - ref[fg]
                sq += float((d * d).sum())
                n += d.size
            area.append(sum(b.area for b, _, _ in pending) / (frame.shape[0] * frame.shape[1]))
            total_sq, total_n = total_sq + sq, total_n + n
            per_frame.append(psnr(sq, n))
        elif stabilizer.last_foreground_fraction > 0:
            full_frames += 1
    finite = [p for p in per_frame if math.isfinite(p)]
    return {"psnr_db": round(psnr(total_sq, total_n), 2), "worst_frame_psnr_db": round(min(finite), 2) if finite else None,
            "region_frames": region_frames, "full_frames": full_frames, "frames": len(frames),
            "region_area_mean": round(statistics.fmean(area), 3) if area else 0.0}


def speed(frames: list[np.ndarray], style: str, backend: str, repeats: int, params: FrameDiffParams) -> dict:
    """Median ms/frame of frame-diff with and without ROI through the loop (alternating runs)."""
    stylizer = make_stylizer(style, backend, "cpu")
    times: dict[bool, list[float]] = {False: [], True: []}
    fg: list[float] = []
    run(ArraySource(frames[:3]), Processor(stylizer, FrameDiffStabilizer()))  # warm-up
    for _ in range(repeats):
        for on in (False, True):
            results = []

            class Keep:
                def on_frame(self, r):
                    results.append(r.foreground)

            start = time.perf_counter()
            summary = run(ArraySource(frames), Processor(stylizer, FrameDiffStabilizer(dataclasses.replace(params, roi=on))), None,
                          [Keep()])
            times[on].append((time.perf_counter() - start) * 1000 / summary.frames)
            if not on:
                fg = results
    full, roi = statistics.median(times[False]), statistics.median(times[True])
    return {"full_ms": round(full, 2), "roi_ms": round(roi, 2), "speedup": round(full / roi, 2),
            "foreground_mean": round(statistics.fmean(fg), 3), "runs_full_ms": [round(t, 2) for t in times[False]],
            "runs_roi_ms": [round(t, 2) for t in times[True]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", required=True)
    ap.add_argument("--style", default="scream")
    ap.add_argument("--backend", default="onnx")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--start", type=int, default=0, help="first frame of each clip")
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--roi-refresh", type=int, default=FrameDiffParams.roi_refresh)
    ap.add_argument("--roi-refresh-change", type=float, default=FrameDiffParams.roi_refresh_change)
    ap.add_argument("--no-speed", action="store_true", help="fidelity only")
    ap.add_argument("-o", "--output", required=True, help="output stem (writes STEM.json)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    params = FrameDiffParams(roi=True, roi_refresh=args.roi_refresh, roi_refresh_change=args.roi_refresh_change)
    rows = []
    for clip in args.clips:
        frames = read_frames(clip, args.frames, (w, h), args.start)
        row = {"clip": Path(clip).name, **fidelity(frames, args.style, args.backend, params),
               **({"full_ms": None, "roi_ms": None, "speedup": None, "foreground_mean": float("nan")} if args.no_speed
                  else speed(frames, args.style, args.backend, args.repeats, params))}
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"command": "python tools/measure_roi.py " + " ".join(
        f"--{k} {' '.join(v) if isinstance(v, list) else v}" for k, v in vars(args).items()),
        "params": dataclasses.asdict(params), "style": args.style, "backend": args.backend, "size": args.size, "machine": machine_description(), "rows": rows}
    Path(args.output + ".json").write_text(json.dumps(result, indent=1))
    print("\n| clip | frames | region / full passes | region area | PSNR in mask (dB), pooled / worst frame | "
          "frame-diff ms | +ROI ms | speed-up | mean foreground |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clip']} | {r['frames']} | {r['region_frames']} / {r['full_frames']} | {r['region_area_mean']:.0%} | "
              f"{r['psnr_db']} / {r['worst_frame_psnr_db']} | {r['full_ms']} | {r['roi_ms']} | {r['speedup']}× | "
              f"{r['foreground_mean']:.1%} |")


if __name__ == "__main__":
    main()
