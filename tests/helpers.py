"""Shared test helpers: tiny clips written with PyAV directly (independent of steadystyle.video)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from steadystyle.video import VideoReader

W, H = 64, 48


def pattern_image(index: int, width: int = W, height: int = H) -> np.ndarray:
    """A smooth RGB test picture that changes with ``index`` (H×W×3 uint8)."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack(
        [
            (x * 255 // max(width - 1, 1)),
            (y * 255 // max(height - 1, 1)),
            np.full_like(x, (index * 37) % 256),
        ],
        axis=-1,
    )
    return image.astype(np.uint8)


def make_clip(
    path: Path,
    frames: int = 10,
    fps: int = 25,
    size: tuple[int, int] = (W, H),
    times: list[float] | None = None,
    audio: str | None = None,
    audio_seconds: float | None = None,
    codec: str = "libx264",
    rotation: float | None = None,
) -> Path:
    """Write a small clip with PyAV directly (independent of VideoWriter).

    ``times``: per-frame presentation times in seconds (VFR); default ``i / fps``.
    ``audio``: an audio codec name (e.g. "aac", "flac", "pcm_s16le") for a 440 Hz sine tone
    lasting ``audio_seconds`` (default: the video's length).
    """
    width, height = size
    times = times if times is not None else [i / fps for i in range(frames)]
    time_base = Fraction(1, 1000 * fps)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "libx264":
            # B-frames on (reordering), one thread (deterministic test input)
            stream.options = {"crf": "10", "preset": "veryfast", "bf": "2", "threads": "1"}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        audio_stream = None
        if audio:
            audio_stream = container.add_stream(audio, rate=48000, layout="mono")
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(pattern_image(i, width, height), format="rgb24")
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio_stream is not None:
            seconds = audio_seconds if audio_seconds is not None else len(times) / fps
            samples = int(seconds * 48000)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
            block = 1024
            for start in range(0, samples, block):
                chunk = tone[start : start + block]
                aframe = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                aframe.sample_rate = 48000
                aframe.pts = start
                aframe.time_base = Fraction(1, 48000)
                container.mux(audio_stream.encode(aframe))
            container.mux(audio_stream.encode(None))
    return path


def read_all(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with VideoReader(path) as reader:
        frames = list(reader)
    return [f.image for f in frames], [f.time for f in frames]


def audio_summary(path: Path) -> tuple[str, float, float]:
    """(codec name, start s, duration s from decoded samples) of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        start, samples, rate = None, 0, stream.codec_context.sample_rate
        for frame in container.decode(stream):
            if start is None and frame.pts is not None:
                start = float(frame.pts * frame.time_base)
            samples += frame.samples
        return stream.codec_context.name, start or 0.0, samples / rate


def tiny_training_args(folder: Path) -> list[str]:
    """``train`` arguments for a tiny training set written into ``folder`` (2 noise photos, a noise
    painting; 32 px crops, batch 1), ready for more options."""
    import cv2

    content = folder / "content"
    content.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(content / f"{i}.png"), rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    cv2.imwrite(str(folder / "style.png"), rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    return ["train", "--style-image", str(folder / "style.png"), "--content", str(content), "-o",
            str(folder / "m.safetensors"), "--image-size", "32", "--style-size", "48", "--batch-size", "1"]
