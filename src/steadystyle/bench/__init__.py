"""``steadystyle bench``: how fast each backend and method runs here, as ratios in one run.

Parts (all measured in the same run, on the machine described in the result):

- ``floor``: this machine's GEMM peak per precision (:mod:`.floor`) and each network's FLOPs →
  the least time a pass can take;
- ``networks``: every backend's network time per frame size, interleaved, beside the floor
  (:mod:`.networks`);
- ``methods``: every registered stabilization method through the frame loop, × per-frame
  (:mod:`.methods`);
- ``live``: ``live --input`` of a 30 fps clip with the defaults; ``file``: the ``stylize`` path
  (:mod:`.endtoend`).

Settings too small to measure, and noisy cells, are warned about (:mod:`.adequacy`): in the
JSON (``warnings``), the Markdown and on standard error.  Everything is built through
:class:`~steadystyle.spec.RunSpec`, i.e. the one stylizer factory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from .adequacy import noise_warnings, settings_warnings
from .methods import clip_frames, method_rows, method_table, time_method
from .networks import DEFAULT_BACKENDS, MODES, _precision, build, build_all, network_rows
from .report import markdown, write_report

DEFAULT_SIZES = ((320, 240), (640, 480), (1280, 720))
DEFAULT_METHOD_SIZES = ((320, 240), (640, 480))
DEFAULT_LIVE_SIZES = ((320, 240), (640, 480))
DEFAULT_STYLES = {"light": "scream", "full": "scream-full"}
PARTS = ("floor", "networks", "methods", "live", "file")


@dataclass
class BenchConfig:
    """What to measure.

    sizes: (width, height) of the network table; variants: ``light``/``full`` (``styles`` names a
    style of each); backends: labels of :data:`~.networks.DEFAULT_BACKENDS` form (those not
    installed are skipped with a note); modes: ``plain``/``record``; passes: timed passes per
    backend, size and mode; warmup: untimed passes before them.
    methods (None: every registered one) run at ``method_sizes`` on ``method_backend`` with
    ``frames`` frames per run and ``repeats`` runs per cell.  live: ``live_seconds`` of a
    ``live_fps`` clip per size of ``live_sizes`` and backend of ``live_backends`` (0: skip).
    file_seconds: the file path at 352×288 (0: skip).  parts: which of :data:`PARTS` to run.
    """

    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    variants: tuple[str, ...] = ("light",)
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    modes: tuple[str, ...] = MODES
    passes: int = 30
    warmup: int = 3
    methods: tuple[str, ...] | None = None
    method_sizes: tuple[tuple[int, int], ...] = DEFAULT_METHOD_SIZES
    method_backend: str = "auto"
    frames: int = 48
    repeats: int = 3
    live_sizes: tuple[tuple[int, int], ...] = DEFAULT_LIVE_SIZES
    live_backends: tuple[str, ...] = ("auto",)
    live_seconds: float = 6.0
    live_fps: int = 30
    file_seconds: float = 4.0
    device: str = "cpu"
    gemm_seconds: float = 0.6
    parts: tuple[str, ...] = PARTS
    styles: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_STYLES))


def _floor(config: BenchConfig, notes: list[str]) -> dict[str, Any]:
    from .floor import measure_peaks, network_flops
    from ..backends.torch import load_model

    peaks = measure_peaks("cuda" if config.device.startswith("cuda") else "cpu", config.gemm_seconds)
    flops = {}
    for variant in config.variants:
        network = load_model(config.styles[variant]).network
        for w, h in config.sizes:
            flops[f"{variant} {w}x{h}"] = network_flops(network, h, w)
    return {"gemm_gflops": peaks, "network_flops": flops,
            "floor_ms": {key: {p: round(f / (g * 1e6), 3) for p, g in peaks.items()} for key, f in flops.items()},
            "definition": "floor ms = network FLOPs (convolutions, counted from layer shapes) / best GEMM rate "
                          "(2048x2048 torch.mm at torch's thread count) in that precision"}


def run_bench(config: BenchConfig, progress: bool = True, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure everything in ``config``; returns the JSON-ready result.  ``warn`` (e.g. a line
    on standard error) receives each warning as soon as it is known."""
    from .endtoend import file_throughput, live_end_to_end
    from .floor import cpu_features, cpu_model, load_average, runtime_versions
    from ..backends import resolve_backend
    from ..stats import machine_description

    unknown = [p for p in config.parts if p not in PARTS]
    if unknown:
        from ..errors import SteadyStyleError

        raise SteadyStyleError(f"unknown bench part {unknown[0]!r}; choose {', '.join(PARTS)}")
    notes: list[str] = []
    warnings = settings_warnings(config.passes, config.warmup, config.frames, config.repeats,
                                 methods="methods" in config.parts)
    for w in warnings:
        (warn or (lambda _m: None))(w)
    machine = machine_description() | {"cpu_model": cpu_model(), "cpu_features": cpu_features(),
                                       "load_average_start": load_average(), "versions": runtime_versions()}
    floor = _floor(config, notes) if "floor" in config.parts or "networks" in config.parts else None
    networks: list[dict[str, Any]] = []
    if "networks" in config.parts:
        for variant in config.variants:
            stylizers = build_all(config.styles[variant], config.backends, config.device, notes)
            for w, h in config.sizes:
                frames = clip_frames(w, h, min(config.passes, 24) or 1)
                key = f"{variant} {w}x{h}"
                floors = floor["floor_ms"][key] if floor else {}
                rows = network_rows(stylizers, (w, h), frames, config.passes, config.warmup, floors,
                                    floor["network_flops"][key] if floor else 0, config.modes)
                for row in rows:
                    row["variant"] = variant
                    if progress:
                        print(f"{row['size']:>9} {variant:<5} {row['backend']:<14} {row['mode']:<6} "
                              f"{row['median_ms']:8.2f} ms  ×{row['x_fastest']:.2f} fastest"
                              + (f"  ×{row['x_floor']:.2f} floor" if row["x_floor"] else ""), flush=True)
                networks += rows
    methods: list[dict[str, Any]] = []
    if "methods" in config.parts:
        style = config.styles[config.variants[0]]
        stylizer = build(style, config.method_backend, config.device)
        if isinstance(stylizer, str):
            notes.append(f"methods skipped: {stylizer}")
        else:
            label = config.method_backend if config.method_backend != "auto" else stylizer.backend
            for w, h in config.method_sizes:
                frames = clip_frames(w, h, config.frames)
                stylizer(frames[0])  # warm-up (shape compilation, allocations)
                methods += method_table(stylizer, label, (w, h), frames, config.repeats, config.methods, progress)
    live: list[dict[str, Any]] = []
    if "live" in config.parts and config.live_seconds > 0:
        style = config.styles[config.variants[0]]
        for backend in config.live_backends:
            name, _, precision = backend.partition(":")
            try:
                resolve_backend(name, config.device)
            except Exception as exc:  # noqa: BLE001 - reported as a note
                notes.append(f"live {backend} skipped: {exc}")
                continue
            for size in config.live_sizes:
                with _precision(name, precision):
                    row = live_end_to_end(style, name, size, config.live_seconds, config.device, config.live_fps)
                row["asked_backend"] = backend
                live.append(row)
                if progress:
                    print(f"live {size[0]}x{size[1]} {row['backend']}: {row['delivered_fps']:.1f} fps, "
                          f"p95 {row['latency_ms']['p95']} ms", flush=True)
    files: list[dict[str, Any]] = []
    if "file" in config.parts and config.file_seconds > 0:
        files.append(file_throughput(config.styles[config.variants[0]], (352, 288), config.file_seconds, config.device,
                                     config.repeats, backend=config.method_backend.partition(":")[0]))
    more = noise_warnings(networks)
    for w in more:
        (warn or (lambda _m: None))(w)
    machine["load_average_end"] = load_average()
    return {"machine": machine, "config": dataclasses.asdict(config) | {"styles": {k: str(v) for k, v in config.styles.items()}},
            "warnings": warnings + more, "floor": floor, "networks": networks, "rows": methods, "live": live,
            "file": files, "notes": sorted(set(notes)),
            "definition": {"networks": "median ms of one full pass (device synchronized), backends interleaved pass by "
                                       "pass on the synthetic call's frames; plain = no statistics, record = with the "
                                       "instance-norm statistics region passes freeze",
                           "rows": "ms_per_frame: median over repeats of (wall time of one run / its frames), "
                                   "synthetic call clip, network + stabilizer + controls, no decode/encode"}}


__all__ = ["BenchConfig", "DEFAULT_SIZES", "DEFAULT_METHOD_SIZES", "DEFAULT_LIVE_SIZES", "PARTS", "run_bench",
           "markdown", "write_report", "method_rows", "method_table", "time_method", "network_rows", "build",
           "clip_frames"]
