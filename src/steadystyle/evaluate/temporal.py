"""Does a model flicker less on its own? Per-frame stylization of real clips, base vs fine-tuned.

For each clip and model, every frame is stylized on its own (no stabilizer) and we measure
- **static flicker**: mean |y(t) − y(t−1)| (grey levels, 0–255, all channels) over the pixels whose
  input did not change between frames t−1 and t (:func:`steadystyle.evaluate.metrics.static_mask`,
  from the input alone) — there any change of the output is flicker;
- **style loss**: the relative Gram loss (:func:`steadystyle.train.losses.style_loss`) of the
  stylized frames against the painting, on the training loss network — how much of the style a
  temporal loss gave up.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..backends import make_stylizer
from ..stylizer import image_to_tensor, resize_image, working_size
from ..train import data, losses
from ..train.vgg import DEFAULT_LAYERS, make_loss_network
from ..video import VideoReader
from .metrics import static_flicker, static_mask


def read_clip(path: str | os.PathLike, max_frames: int, max_side: int) -> list[np.ndarray]:
    """The first ``max_frames`` frames, scaled so the longer side ≤ ``max_side`` (H×W×3 uint8 RGB)."""
    frames = []
    with VideoReader(path) as reader:
        h, w = working_size(reader.info.height, reader.info.width, max_side)
        for frame in reader:
            frames.append(resize_image(frame.image, w, h))
            if len(frames) >= max_frames:
                break
    return frames


def static_masks(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Static-input masks (H×W bool, :func:`static_mask`) for each pair (t−1, t); entry 0 is all False."""
    return [np.zeros(frames[0].shape[:2], bool)] + [static_mask(a, b) for a, b in zip(frames, frames[1:])]


def style_grams(style_image: str | os.PathLike, layers: list[str], vgg, style_size: int = 256) -> dict[str, torch.Tensor]:
    style = data.read_rgb(Path(style_image))
    h, w = style.shape[:2]
    style = data.resize_short_side(style, max(16, round(min(h, w) * style_size / max(h, w))))
    with torch.no_grad():
        return {k: losses.gram(v) for k, v in vgg(data.to_batch([style]), layers).items()}


def compare_models(models: dict[str, str | os.PathLike], style_image: str | os.PathLike,
                   clips: list[str | os.PathLike], max_frames: int = 60, max_side: int = 320,
                   style_every: int = 10, backend: str = "torch") -> dict:
    """Static flicker and style loss of each model on each clip; returns a JSON-ready dict.

    backend: where the models run (on the CPU); ``torch`` by default, the backend the documented
    comparisons were measured with.
    """
    _, style_layers, _ = DEFAULT_LAYERS["vgg19"]
    vgg = make_loss_network("vgg19", style_layers)
    grams = style_grams(style_image, style_layers, vgg)
    stylizers = {name: make_stylizer(path, backend=backend, device="cpu") for name, path in models.items()}
    rows = []
    for clip in clips:
        frames = read_clip(clip, max_frames, max_side)
        masks = static_masks(frames)
        row = {"clip": Path(clip).name, "frames": len(frames), "size": f"{frames[0].shape[1]}×{frames[0].shape[0]}",
               "static_share": float(np.mean([m.mean() for m in masks[1:]]))}
        for name, stylizer in stylizers.items():
            outs = [stylizer(f) for f in frames]
            flicker = [static_flicker(outs[t - 1], outs[t], masks[t]) for t in range(1, len(outs))]
            with torch.no_grad():
                sample = torch.cat([image_to_tensor(o) for o in outs[::style_every]])
                style = losses.style_loss(vgg(sample, style_layers), grams).item()
            row[name] = {"static_flicker": float(np.nanmean(flicker)), "style_loss": style}
        rows.append(row)
    summary = {name: {"static_flicker": float(np.mean([r[name]["static_flicker"] for r in rows])),
                      "style_loss": float(np.mean([r[name]["style_loss"] for r in rows]))} for name in models}
    return {"models": {k: str(v) for k, v in models.items()}, "style_image": Path(style_image).name,
            "max_frames": max_frames, "max_side": max_side, "backend": backend,
            "mask": "input grey difference blurred σ 2 px ≤ 2 grey levels, 4 px margin",
            "clips": rows, "mean": summary}


def markdown_table(report: dict) -> str:
    names = list(report["models"])
    head = "| clip | frames | static share | " + " | ".join(f"{n}: static flicker | {n}: style loss" for n in names) + " |"
    lines = [head, "|" + "---|" * (3 + 2 * len(names))]
    for r in report["clips"] + [{"clip": "**mean**", "frames": "", "size": "", "static_share": None, **report["mean"]}]:
        share = f"{r['static_share']:.1%}" if r["static_share"] is not None else ""
        cells = " | ".join(f"{r[n]['static_flicker']:.3f} | {r[n]['style_loss']:.3f}" for n in names)
        lines.append(f"| {r['clip']} | {r['frames']} | {share} | {cells} |")
    return "\n".join(lines)
