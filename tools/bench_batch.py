"""Measure ``steadystyle batch`` scaling and cross-stream batching on this machine.

1. Throughput of :func:`steadystyle.batch.run_batch` vs number of workers (videos at once) on
   one local Ray, with the serial in-process ``stylize_video`` of the same clips as reference;
   runs are interleaved (w1, w2, …, w1, w2, …) and the median taken, so the ratios come from
   one run on one (possibly shared) machine.
2. One network pass on N frames (``Stylizer.stylize_tensor``): batch size vs latency vs
   throughput — what a Ray Serve deployment batching frames of N calls would see — and whether a
   batched pass gives exactly the pixels of single-frame passes.

    python tools/bench_batch.py --inputs /path/to/clips --max-side 160 --json docs/bench-batch.json

Without ``--inputs`` it writes synthetic moving clips to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_clips(folder: Path, count: int, frames: int, size: tuple[int, int]) -> list[Path]:
    """``count`` clips of a moving gradient with a moving square (the network runs on most frames)."""
    from steadystyle.video import VideoWriter

    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    paths = []
    for c in range(count):
        path = folder / f"clip{c:02d}.mp4"
        with VideoWriter(path, w, h, 25) as writer:
            for i in range(frames):
                image = np.stack([(x * 255 // w), (y * 255 // h), np.full_like(x, 90)], -1).astype(np.uint8)
                s = (i * 3 + c * 7) % max(1, w - h // 3)
                image[h // 3: 2 * h // 3, s: s + h // 3] = (230, 40, 40)
                writer.write(image)
        paths.append(path)
    return paths


def bench_workers(inputs: list[str], style: str, method: str, max_side: int | None,
                  layouts: list[tuple[int, int]], repeats: int, cpus: int) -> dict:
    """Median wall time of ``run_batch`` for each (workers, threads per worker) layout, and of the
    serial in-process loop with one torch thread, interleaved over ``repeats``."""
    import torch

    torch.set_num_threads(1)
    import ray

    from steadystyle.batch import BatchSettings, RayOptions, plan, run_batch
    from steadystyle.pipeline import stylize_video
    from steadystyle.spec import RunSpec

    settings = BatchSettings(RunSpec(style=style, backend="torch", method=method, max_side=max_side))
    runs: dict[str, list[float]] = {f"ray-{w}x{t}": [] for w, t in layouts}
    runs["serial"] = []
    frames = 0
    start = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=True, logging_level="ERROR")
    startup = time.perf_counter() - start
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # warm-up (untimed): start the worker processes and import torch in them
            most = max(w for w, _ in layouts)
            warm = plan(inputs, Path(tmp) / "warm")[:most]
            run_batch(warm, settings, RayOptions(workers=most, threads_per_worker=1), progress=False)
            for r in range(repeats):
                out = Path(tmp) / f"serial{r}"
                out.mkdir()
                t = time.perf_counter()
                total = 0
                for job in plan(inputs, out):
                    Path(job.output).parent.mkdir(parents=True, exist_ok=True)
                    total += stylize_video(job.input, job.output, spec=settings.spec, progress=False).frames
                runs["serial"].append(time.perf_counter() - t)
                frames = total
                for w, threads in layouts:
                    jobs = plan(inputs, Path(tmp) / f"w{w}x{threads}-{r}")
                    result = run_batch(jobs, settings, RayOptions(workers=w, threads_per_worker=threads),
                                       progress=False)
                    if result.count("failed"):
                        raise SystemExit(f"a video failed: {[x['error'] for x in result.rows if x['error']]}")
                    assert result.frames == frames
                    runs[f"ray-{w}x{threads}"].append(result.wall_seconds)
                    print(f"repeat {r}: {w} workers x {threads} threads {result.wall_seconds:.2f} s", file=sys.stderr)
                print(f"repeat {r}: serial {runs['serial'][-1]:.2f} s", file=sys.stderr)
    finally:
        ray.shutdown()
    w0, t0 = layouts[0]
    base = statistics.median(runs[f"ray-{w0}x{t0}"])
    rows = []
    for name, seconds in runs.items():
        med = statistics.median(seconds)
        w, t = (int(v) for v in name[4:].split("x")) if name.startswith("ray") else (None, None)
        rows.append({"run": name, "workers": w, "threads_per_worker": t,
                     "seconds": [round(s, 3) for s in seconds], "median_s": round(med, 3),
                     "frames_per_s": round(frames / med, 2), "ratio_to_first": round(base / med, 3)})
    return {"videos": len(plan(inputs, Path("unused"))), "frames": frames, "ray_startup_s": round(startup, 2),
            "cpus_given_to_ray": cpus, "rows": rows}


def bench_network_batch(style: str, size: tuple[int, int], batch_sizes: list[int], repeats: int, threads: int) -> dict:
    import torch

    from steadystyle.stylizer import Stylizer, tensor_to_image

    torch.set_num_threads(threads)
    stylizer = Stylizer(style, device="cpu")
    w, h = size
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 256, (max(batch_sizes), 3, h, w)).astype(np.float32))
    singles = [stylizer.stylize_tensor(frames[i:i + 1]) for i in range(max(batch_sizes))]
    rows = []
    for n in batch_sizes:
        batch = frames[:n]
        stylizer.stylize_tensor(batch)  # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            out = stylizer.stylize_tensor(batch)
            times.append(time.perf_counter() - t)
        float_diff = max(float((out[i] - singles[i][0]).abs().max()) for i in range(n))
        pixels_equal = all(np.array_equal(tensor_to_image(out[i]), tensor_to_image(singles[i])) for i in range(n))
        med = statistics.median(times)
        rows.append({"batch": n, "latency_ms_median": round(med * 1000, 1),
                     "latency_ms_min": round(min(times) * 1000, 1), "frames_per_s": round(n / med, 2),
                     "max_abs_float_diff_vs_single": float_diff, "uint8_identical_to_single": pixels_equal})
    base = rows[0]["frames_per_s"]
    for row in rows:
        row["throughput_vs_batch_1"] = round(row["frames_per_s"] / base, 3)
    return {"style": stylizer.name, "size": f"{w}x{h}", "torch_threads": threads, "device": "cpu", "rows": rows}


def markdown(data: dict) -> str:
    lines = ["| run | workers × threads | median s | frames/s | throughput ratio to the first row |", "|---|---|---|---|---|"]
    for r in data["workers"]["rows"]:
        wt = f"{r['workers']} × {r['threads_per_worker']}" if r["workers"] else "in-process, no Ray, 1 thread"
        lines.append(f"| {r['run']} | {wt} | {r['median_s']} | {r['frames_per_s']} | "
                     f"{r['ratio_to_first']} |")
    lines += ["", "| frames per pass | latency ms (median) | frames/s | vs batch 1 | uint8 = single-frame pass |",
              "|---|---|---|---|---|"]
    for r in data["network_batch"]["rows"]:
        lines.append(f"| {r['batch']} | {r['latency_ms_median']} | {r['frames_per_s']} | {r['throughput_vs_batch_1']} | "
                     f"{'yes' if r['uint8_identical_to_single'] else 'no'} (max float diff "
                     f"{r['max_abs_float_diff_vs_single']:.2g}) |")
    return "\n".join(lines)


def main() -> int:
    from steadystyle.stats import machine_description
    from steadystyle.styles import default_style

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--inputs", nargs="*", default=None, help="clips or folders (default: synthetic clips)")
    p.add_argument("--clips", type=int, default=6, help="synthetic clips (default 6)")
    p.add_argument("--frames", type=int, default=48, help="frames per synthetic clip")
    p.add_argument("--clip-size", default="160x120")
    p.add_argument("--style", default=None)
    p.add_argument("--method", default="frame-diff")
    p.add_argument("--max-side", type=int, default=None)
    p.add_argument("--layouts", default="1x1,1x2,2x1",
                   help="comma-separated WORKERSxTHREADS layouts (the first is the baseline)")
    p.add_argument("--cpus", type=int, default=2, help="CPUs given to the local Ray")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--net-size", default="320x240", help="frame size for the batch-size test")
    p.add_argument("--batch-sizes", default="1,2,4,8")
    p.add_argument("--net-threads", type=int, default=1, help="torch threads for the batch-size test (default 1)")
    p.add_argument("--net-repeats", type=int, default=5)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    style = args.style or default_style()
    with tempfile.TemporaryDirectory() as tmp:
        if args.inputs:
            inputs = args.inputs
        else:
            w, h = (int(v) for v in args.clip_size.split("x"))
            inputs = [str(tmp)]
            synthetic_clips(Path(tmp), args.clips, args.frames, (w, h))
        workers = bench_workers(inputs, style, args.method, args.max_side, [tuple(int(v) for v in x.split("x")) for x in args.layouts.split(",")],
                                args.repeats, args.cpus)
    nw, nh = (int(v) for v in args.net_size.split("x"))
    network = bench_network_batch(style, (nw, nh), [int(v) for v in args.batch_sizes.split(",")], args.net_repeats,
                                  args.net_threads)
    data = {"command": " ".join(sys.argv), "machine": machine_description(), "style": style, "method": args.method,
            "max_side": args.max_side, "inputs": args.inputs or f"{args.clips} synthetic clips, {args.frames} frames, "
            f"{args.clip_size}", "workers": workers, "network_batch": network,
            "note": "CPU only; GPU numbers were not measured this session"}
    print(markdown(data))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
