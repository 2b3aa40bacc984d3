"""Training data: random crops of content photos, and consecutive-frame pairs.

Batches are N×3×S×S float32 tensors, RGB, 0–255. Bad image files are skipped with a warning
(one corrupt photo must not kill an hour-long run). Randomness comes from a generator seeded
by (seed, iteration), so a resumed run draws the same batches it would have drawn.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import SteadyStyleError

log = logging.getLogger(__name__)
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def find_images(folders: list[Path]) -> list[Path]:
    """All image files under the folders (recursively), sorted; error if there are none."""
    files: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise SteadyStyleError(f"{folder}: content folder does not exist")
        files += sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise SteadyStyleError(f"no images found in {', '.join(map(str, folders))}")
    return files


def read_rgb(path: Path) -> np.ndarray | None:
    """H×W×3 uint8 RGB, or None (with a warning) when the file cannot be decoded."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        log.warning("skipping unreadable image %s", path)
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize_short_side(image: np.ndarray, size: int) -> np.ndarray:
    """Scale so that the shorter side is ``size`` pixels (area filter down, cubic up)."""
    h, w = image.shape[:2]
    s = size / min(h, w)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, (max(size, round(w * s)), max(size, round(h * s))), interpolation=interp)


def to_batch(images: list[np.ndarray]) -> torch.Tensor:
    """List of H×W×3 uint8 RGB → N×3×H×W float32 0–255."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()


class ContentImages:
    """Random square crops of content photos, kept in memory at a working scale.

    Each photo is decoded once and stored with its short side at 1.15 × ``size`` so that
    crops still vary; small photos (e.g. portraits under 256 px) are upscaled.
    """

    def __init__(self, folders: list[Path], size: int) -> None:
        self.files = find_images(folders)
        self.size = size
        self._cache: dict[int, np.ndarray | None] = {}

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> np.ndarray | None:
        if index not in self._cache:
            rgb = read_rgb(self.files[index])
            self._cache[index] = None if rgb is None else resize_short_side(rgb, round(self.size * 1.15))
        return self._cache[index]

    def crop(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(100):
            image = self.image(int(rng.integers(len(self.files))))
            if image is not None:
                break
        else:
            raise SteadyStyleError("content folders hold no readable images")
        h, w = image.shape[:2]
        y, x = int(rng.integers(h - self.size + 1)), int(rng.integers(w - self.size + 1))
        crop = image[y:y + self.size, x:x + self.size]
        return crop[:, ::-1] if rng.random() < 0.5 else crop

    def batch(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        return to_batch([np.ascontiguousarray(self.crop(rng)) for _ in range(n)])


def synthesize_next_frame(frame: np.ndarray, rng: np.random.Generator, max_shift: float = 2.0,
                          max_rotation_deg: float = 1.0, max_scale: float = 0.02,
                          noise_sigma: float = 2.0, max_brightness: float = 4.0) -> np.ndarray:
    """A plausible next video frame from a still: a small random shift/rotation/scale,
    a brightness change and camera noise. H×W×3 uint8 RGB in and out."""
    h, w = frame.shape[:2]
    angle = rng.uniform(-max_rotation_deg, max_rotation_deg)
    scale = 1 + rng.uniform(-max_scale, max_scale)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += rng.uniform(-max_shift, max_shift, size=2)
    moved = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = moved.astype(np.float32) + rng.uniform(-max_brightness, max_brightness)
    out += rng.normal(0, noise_sigma, size=out.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


class FramePairs:
    """Pairs of consecutive frames (x(t−1), x(t)) for the temporal loss.

    From folders of video frames (consecutive images sorted by name, one folder per clip) when
    given; otherwise synthesised from content stills with :func:`synthesize_next_frame`.
    """

    def __init__(self, size: int, video_folders: list[Path] | None = None, stills: ContentImages | None = None) -> None:
        self.size = size
        self.stills = stills
        self.clips = [find_images([f]) for f in video_folders or []]
        self.clips = [c for c in self.clips if len(c) >= 2]
        if not self.clips and stills is None:
            raise SteadyStyleError("the temporal loss needs video frame folders or content images")

    def pair(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.clips:
            clip = self.clips[int(rng.integers(len(self.clips)))]
            i = int(rng.integers(len(clip) - 1))
            a, b = read_rgb(clip[i]), read_rgb(clip[i + 1])
            if a is not None and b is not None and a.shape == b.shape:
                a, b = resize_short_side(a, self.size), resize_short_side(b, self.size)
                h, w = a.shape[:2]
                y, x = int(rng.integers(h - self.size + 1)), int(rng.integers(w - self.size + 1))
                return a[y:y + self.size, x:x + self.size], b[y:y + self.size, x:x + self.size]
        assert self.stills is not None, "no readable frame pair"
        a = np.ascontiguousarray(self.stills.crop(rng))
        return a, synthesize_next_frame(a, rng)

    def batch(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [self.pair(rng) for _ in range(n)]
        return to_batch([np.ascontiguousarray(p[0]) for p in pairs]), to_batch([np.ascontiguousarray(p[1]) for p in pairs])
