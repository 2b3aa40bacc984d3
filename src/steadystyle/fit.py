"""Fitting a frame into another size: stretch, crop (fill) or letterbox (fit), aspect kept by the
last two.  All functions take and return H×W×3 uint8 RGB arrays; sizes are (width, height) px."""

from __future__ import annotations

import cv2
import numpy as np

from .errors import SteadyStyleError

#: How a frame of another aspect ratio is fitted: ``crop`` fills the size and cuts the overhang
#: (what call apps do), ``letterbox`` shows it all with black bars, ``stretch`` distorts it.
FIT_MODES = ("crop", "letterbox", "stretch")


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an H×W×3 uint8 frame to width×height (area filter down, linear up), aspect not kept."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width``×``height`` (aspect kept), centred on black."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y:y + nh, x:x + nw] = resize_image(image, nw, nh)
    return out


def crop_fill(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to cover ``width``×``height`` (aspect kept), the overhang cut evenly."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    target = width / height
    if w / h > target:  # too wide: cut the sides
        cw = max(1, round(h * target))
        x = (w - cw) // 2
        image = image[:, x:x + cw]
    else:  # too tall: cut top and bottom
        ch = max(1, round(w / target))
        y = (h - ch) // 2
        image = image[y:y + ch]
    return resize_image(image, width, height)


def fit_image(image: np.ndarray, width: int, height: int, mode: str = "crop") -> np.ndarray:
    """``image`` at exactly ``width``×``height`` by ``mode`` (one of :data:`FIT_MODES`)."""
    if mode == "crop":
        return crop_fill(image, width, height)
    if mode == "letterbox":
        return letterbox(image, width, height)
    if mode == "stretch":
        return resize_image(image, width, height)
    raise SteadyStyleError(f"unknown fit {mode!r}; choose {', '.join(FIT_MODES)}")


__all__ = ["FIT_MODES", "resize_image", "letterbox", "crop_fill", "fit_image"]
