#!/usr/bin/env python3
"""Previews for the shipped styles and the README gallery.

- src/steadystyle/styles/NAME.jpg: each style applied to a frame of the built-in synthetic call
  (our own content, so the preview carries no third-party licence), 240 px wide.
- docs/gallery.jpg: one real frame (an Intel IoT Dev Kit sample video, CC BY 4.0) stylized in
  every shipped style, labelled, with the original first.
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from steadystyle.evaluate.synthetic import CallClipConfig, make_call_clip
from steadystyle.styles import STYLES_DIR, style_paths
from steadystyle.stylizer import Stylizer, resize_image
from steadystyle.video import VideoReader


def frame_of(path: str, index: int, width: int) -> np.ndarray:
    with VideoReader(path) as reader:
        for frame in reader:
            if frame.index == index:
                h = round(frame.image.shape[0] * width / frame.image.shape[1])
                return resize_image(frame.image, width, h)
    sys.exit(f"{path} has fewer than {index + 1} frames")


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def save_jpg(path: Path, rgb: np.ndarray, quality: int = 88) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frame-from", required=True, help="real clip for the gallery")
    p.add_argument("--frame-index", type=int, default=30)
    p.add_argument("--gallery", default="docs/gallery.jpg")
    p.add_argument("--columns", type=int, default=4)
    args = p.parse_args()
    call = make_call_clip(CallClipConfig(seconds=2.0)).frames[40]
    real = frame_of(args.frame_from, args.frame_index, 320)
    tiles = [label(real, "input (Intel sample, CC BY 4.0)")]
    for name, path in style_paths().items():
        stylizer = Stylizer(path, device="cpu")
        save_jpg(STYLES_DIR / f"{name}.jpg", resize_image(stylizer(call), 240, 180), quality=85)
        tiles.append(label(stylizer(real), f"{name} ({stylizer.model.metadata.get('variant')})"))
    while len(tiles) % args.columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + args.columns], axis=1) for i in range(0, len(tiles), args.columns)]
    Path(args.gallery).parent.mkdir(parents=True, exist_ok=True)
    save_jpg(Path(args.gallery), np.concatenate(rows, axis=0))
    print(f"wrote {args.gallery} and {len(style_paths())} previews in {STYLES_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
