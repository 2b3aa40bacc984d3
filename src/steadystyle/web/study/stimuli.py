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

from ...atomic import Staged, atomic_path, atomic_write_text
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


def check_study_folder(output: str | os.PathLike) -> Path:
    """``output`` as a Path a new study can be made in: a new folder, or an empty one (nothing
    of the user's can be overwritten or mixed with the stimuli); a one-line error otherwise."""
    out = Path(os.path.expanduser(os.fspath(output)))
    if out.exists() and not out.is_dir():
        raise SteadyStyleError(f"-o {out}: is a file; give a new or empty folder for the study")
    if (out / MANIFEST).exists():
        raise SteadyStyleError(f"{out / MANIFEST} exists: prepare a new study in an empty folder")
    if out.is_dir():
        try:
            entries = sorted(p.name for p in out.iterdir())
        except OSError as exc:
            raise SteadyStyleError(f"-o {out}: cannot be read ({exc.strerror or exc})") from None
        if entries:
            raise SteadyStyleError(f"-o {out}: is not empty ({', '.join(entries[:3])}"
                                   f"{', …' if len(entries) > 3 else ''}); prepare a new study in a new or empty "
                                   f"folder")
    return out


def _frame_count(clip: str | os.PathLike) -> int | None:
    from ...video import VideoReader

    reader = VideoReader(clip)
    try:
        return reader.info.frame_count
    finally:
        reader.close()


def prepare(clips: Sequence[str | os.PathLike], methods: Sequence[str], style: str, output: str | os.PathLike, *,
            max_side: int | None = None, device: str = "auto", backend: str = "auto",
            progress: bool = True) -> dict[str, Any]:
    """Make the stimuli in ``output`` (a new or empty folder): ``stimuli/<clip>__<method>.mp4``
    and ``.png`` (the middle frame), ``study.json`` listing every pair of methods per clip for
    both rounds, and the empty votes database.  Everything is checked first (methods, clips,
    the folder) and made in a hidden folder beside ``output``, renamed into place when complete:
    a failure or Ctrl-C leaves nothing."""
    from ...pipeline import stylize_video
    from ...stabilize.base import get_method
    from ...spec import RunSpec

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
    out = check_study_folder(output)
    counts = [_frame_count(clip) for clip in clips]  # every clip readable before anything is made
    stylizer = RunSpec(style=style, backend=backend, device=device, max_side=max_side).stylizer()
    import cv2

    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Staged(Path(os.path.abspath(out)), folder=True)  # beside it, on its file system
    try:
        (staged.path / "stimuli").mkdir()
        pairs: list[Pair] = []
        for clip, stem, count in zip(clips, stems, counts):
            target = max(0, (count or 1) // 2)
            files: dict[str, tuple[str, str]] = {}
            for method in methods:
                video = f"stimuli/{stem}__{_slug(method)}.mp4"
                still = f"stimuli/{stem}__{_slug(method)}.png"
                kept: dict[str, Any] = {}

                def keep(index: int, image: Any, kept: dict = kept) -> None:
                    if index == target or "image" not in kept:
                        kept["image"] = image.copy()

                stylize_video(clip, staged.path / video, stylizer, method, progress=progress, on_frame=keep)
                with atomic_path(staged.path / still, keep_suffix=True) as tmp:
                    if not cv2.imwrite(str(tmp), cv2.cvtColor(kept["image"], cv2.COLOR_RGB2BGR)):
                        raise SteadyStyleError(f"{out / still}: cannot write the still frame")
                files[method] = (video, still)
            for k, (a, b) in enumerate(itertools.combinations(methods, 2), 1):  # ids do not name the methods
                pairs.append(Pair(f"{stem}-{k}-stability", "stability", stem, a, b, files[a][0], files[b][0]))
                pairs.append(Pair(f"{stem}-{k}-quality", "quality", stem, a, b, files[a][1], files[b][1]))
        manifest = {"style": getattr(stylizer, "name", str(style)), "methods": methods, "clips": stems,
                    "quality_frame": "the middle frame of each clip", "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "pairs": [asdict(p) for p in pairs]}
        atomic_write_text(staged.path / MANIFEST, json.dumps(manifest, indent=2))
        from .votes import Study

        Study.open(staged.path)  # creates the database (closed again: no -wal / -shm left)
        check_study_folder(out)  # still new or empty: nothing appeared there meanwhile
        staged.commit()  # an empty folder is replaced, a missing one appears
    except BaseException:
        staged.discard()
        raise
    return manifest


__all__ = ["Pair", "prepare", "check_study_folder", "MANIFEST"]
