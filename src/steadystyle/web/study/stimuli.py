"""The study's stimuli: each clip stylized with each method (a video for the stability round, one
still frame — the same index for every method — for the quality round), and ``study.json``
listing every pair of methods per clip for both rounds.  Pair ids are internal: the game shows
participants only opaque trial tokens."""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_text
from ...errors import SteadyStyleError

MANIFEST = "study.json"


@dataclass(frozen=True)
class Pair:
    """Two stimuli of the same clip, made with methods ``a`` and ``b``; files relative to the
    study folder (videos for the stability round, still frames for the quality round)."""

    id: str
    round: str
    clip: str
    a: str
    b: str
    a_file: str
    b_file: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "clip"


def prepare(clips: Sequence[str | os.PathLike], methods: Sequence[str], style: str, output: str | os.PathLike, *,
            max_side: int | None = None, device: str = "auto", backend: str = "auto",
            progress: bool = True) -> dict[str, Any]:
    """Make the stimuli in ``output``: ``stimuli/<clip>__<method>.mp4`` and ``.png`` (the middle
    frame), and ``study.json`` listing every pair of methods per clip for both rounds."""
    from ...pipeline import stylize_video
    from ...stabilize.base import get_method
    from ...spec import RunSpec
    from ...video import VideoReader

    methods = list(dict.fromkeys(methods))
    if len(methods) < 2:
        raise SteadyStyleError("a study needs at least two methods to compare")
    for m in methods:
        get_method(m)
    if not clips:
        raise SteadyStyleError("give at least one clip")
    stems = [_slug(Path(str(c)).stem) for c in clips]
    if len(set(stems)) != len(stems):
        raise SteadyStyleError("clip names must differ (they name the stimuli)")
    out = Path(output)
    if (out / MANIFEST).exists():
        raise SteadyStyleError(f"{out / MANIFEST} exists: prepare a new study in an empty folder")
    (out / "stimuli").mkdir(parents=True, exist_ok=True)
    stylizer = RunSpec(style=style, backend=backend, device=device, max_side=max_side).stylizer()
    import cv2

    pairs: list[Pair] = []
    for clip, stem in zip(clips, stems):
        reader = VideoReader(clip)
        count = reader.info.frame_count
        reader.close()
        target = max(0, (count or 1) // 2)
        files: dict[str, tuple[str, str]] = {}
        for method in methods:
            video = f"stimuli/{stem}__{_slug(method)}.mp4"
            still = f"stimuli/{stem}__{_slug(method)}.png"
            kept: dict[str, Any] = {}

            def keep(index: int, image: Any, kept: dict = kept) -> None:
                if index == target or "image" not in kept:
                    kept["image"] = image.copy()

            stylize_video(clip, out / video, stylizer, method, progress=progress, on_frame=keep)
            cv2.imwrite(str(out / still), cv2.cvtColor(kept["image"], cv2.COLOR_RGB2BGR))
            files[method] = (video, still)
        for k, (a, b) in enumerate(itertools.combinations(methods, 2), 1):  # ids do not name the methods
            pairs.append(Pair(f"{stem}-{k}-stability", "stability", stem, a, b, files[a][0], files[b][0]))
            pairs.append(Pair(f"{stem}-{k}-quality", "quality", stem, a, b, files[a][1], files[b][1]))
    manifest = {"style": getattr(stylizer, "name", str(style)), "methods": methods, "clips": stems,
                "quality_frame": "the middle frame of each clip", "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "pairs": [asdict(p) for p in pairs]}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2))
    from .votes import Study

    Study.open(out)  # creates the database
    return manifest


__all__ = ["Pair", "prepare", "MANIFEST"]
