"""A window that shows the live output: Tk (Python's standard library), or OpenCV's HighGUI where
Tk is missing and the installed OpenCV has a GUI, so ``live --window`` works after the README's
install (which brings the headless OpenCV wheel).

Every GUI call — creating the window, drawing, reading keys — happens in the thread that calls
:meth:`WindowSink.write` (the live loop's window thread): GUI toolkits draw nothing, or crash,
when a window made in one thread is drawn from another.  Without a display (no ``$DISPLAY`` or
``$WAYLAND_DISPLAY`` on Linux) the sink refuses in one line before anything starts.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import SteadyStyleError

#: What ``backend`` may be: ``auto`` (Tk, else OpenCV with a GUI), ``opencv`` or ``tk``.
WINDOW_BACKENDS = ("auto", "opencv", "tk")


def opencv_has_gui() -> bool:
    """Whether the installed OpenCV was built with a GUI backend (the headless wheel was not)."""
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip().upper() not in ("", "NONE")
    return False


def tk_available() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


def check_display() -> None:
    """A one-line error when a window cannot be shown here (Linux/BSD without a display)."""
    if platform.system() in ("Linux", "FreeBSD") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SteadyStyleError("--window needs a display ($DISPLAY is not set); use --virtual-camera or --record, "
                               "or run under a desktop session (or xvfb-run)")


def pick_window_backend(backend: str = "auto") -> str:
    """The GUI ``backend`` means here; a one-line error when none can work."""
    if backend not in WINDOW_BACKENDS:
        raise SteadyStyleError(f"unknown window backend {backend!r}; choose {', '.join(WINDOW_BACKENDS)}")
    if backend == "opencv":
        if not opencv_has_gui():
            raise SteadyStyleError("this OpenCV has no GUI (opencv-python-headless); use the Tk window (the default)")
        return "opencv"
    if tk_available():  # Tk first: in the standard library, and drawn from our window thread without a fuss
        return "tk"
    if opencv_has_gui():
        return "opencv"
    raise SteadyStyleError("--window needs Tk (python3-tk) or OpenCV with a GUI; neither is installed here")


class _OpenCvWindow:
    def __init__(self, title: str) -> None:
        import cv2

        self.cv2, self.title = cv2, title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)

    def show(self, image: np.ndarray) -> str | None:
        self.cv2.imshow(self.title, self.cv2.cvtColor(image, self.cv2.COLOR_RGB2BGR))
        key = self.cv2.waitKey(1)
        return chr(key & 0xFF) if key >= 0 else None

    def close(self) -> None:
        try:
            self.cv2.destroyWindow(self.title)
        except self.cv2.error:
            pass


class _TkWindow:
    def __init__(self, title: str) -> None:
        import tkinter

        self.tk = tkinter
        try:
            self.root = tkinter.Tk()
        except tkinter.TclError as exc:
            raise SteadyStyleError(f"--window: cannot open a window ({exc})") from None
        self.root.title(title)
        self.label = tkinter.Label(self.root, borderwidth=0)
        self.label.pack()
        self.keys: list[str] = []
        self.root.bind("<Key>", lambda event: self.keys.append(event.char) if event.char else None)
        self.root.protocol("WM_DELETE_WINDOW", lambda: self.keys.append("q"))
        self.photo: Any = None

    def show(self, image: np.ndarray) -> str | None:
        h, w = image.shape[:2]
        photo = self.tk.PhotoImage(data=b"P6 %d %d 255\n" % (w, h) + np.ascontiguousarray(image).tobytes(), format="PPM")
        self.label.configure(image=photo)
        self.photo = photo  # Tk keeps no reference of its own
        self.root.update()
        return self.keys.pop(0) if self.keys else None

    def close(self) -> None:
        try:
            self.root.destroy()
        except self.tk.TclError:
            pass


class WindowSink:
    """Shows each result in a window; ``on_key(key)`` gets each key pressed (a one-character str;
    closing the window counts as ``q``).  The window opens on the first frame, in the thread
    that writes (see the module docstring)."""

    def __init__(self, title: str = "steadystyle", on_key: Callable[[str], None] | None = None,
                 backend: str = "auto") -> None:
        check_display()
        self.backend = pick_window_backend(backend)
        self.title = title
        self.on_key = on_key
        self._ui: _OpenCvWindow | _TkWindow | None = None

    def write(self, result: Any) -> None:
        if self._ui is None:
            self._ui = _OpenCvWindow(self.title) if self.backend == "opencv" else _TkWindow(self.title)
        key = self._ui.show(result.output)
        if key and self.on_key is not None:
            self.on_key(key)

    def close(self) -> None:
        if self._ui is not None:
            self._ui.close()
            self._ui = None

    abort = close


__all__ = ["WindowSink", "WINDOW_BACKENDS", "opencv_has_gui", "tk_available", "check_display", "pick_window_backend"]
