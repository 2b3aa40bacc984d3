"""Writing: H.264 video (MP4, MOV, MKV), a lossless PNG sequence or one image, atomically, with the input's audio."""

from __future__ import annotations

import contextlib
import json
import math
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.error
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from ..atomic import Staged
from ..errors import SteadyStyleError
from ..frames import FrameError, check_frame
from .audio import AUDIO_LEAD, AudioCopy
from .container import one_line, open_container
from .folder_output import MANIFEST, check_folder, file_record, move_in
from .paths import VIDEO_EXTENSIONS, check_output_path, is_image_output, is_sequence_output
from .sequences import PRINTF_FIELD, frame_name, pattern_regex

__all__ = ["VideoWriter"]

_OUTPUT_TIME_BASE = Fraction(1, 90000)  # divisible by 24, 25, 30, 50, 60 and their /1.001 forms
_TO_YUV_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND


class VideoWriter:
    """Writes H.264 MP4 (``.mp4``/``.mov``), H.264 MKV (``.mkv``), a lossless PNG sequence
    (a printf pattern like ``out/%05d.png``, or a directory, existing or new, filled with
    ``%06d.png``; frames are numbered from 1 like ffmpeg), or one image (``out.png``, ``out.jpg``:
    a second frame is a one-line :class:`SteadyStyleError`).

    Into an existing folder only files steadystyle wrote there may be replaced or removed, and
    the frames arrive all at once or not at all (:mod:`.folder_output`).

    ``write`` takes ``(height, width, 3)`` uint8 RGB images and optional times in seconds; times
    are kept (rounded to 1/90000 s, forced strictly increasing) so variable-frame-rate input stays
    in sync with its audio.  Without times frame *i* is shown at ``i / fps``.  ``fps`` is the
    nominal rate written into the file.

    ``audio_from``: a file whose first audio stream is copied into the video (re-encoded as AAC
    only when the container cannot hold its codec).  PNG sequences carry no audio.

    Atomic (:class:`~steadystyle.atomic.Staged`): everything goes to a hidden temporary beside
    the output, renamed into place by :meth:`close`; on an exception or Ctrl-C inside ``with`` the
    temporary is deleted and nothing under the output name is touched.  ``crf`` is the x264
    quality (0 lossless .. 51, 18 is visually lossless).  ``overwrite=False`` refuses an existing
    output.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        width: int,
        height: int,
        fps: Fraction | float,
        *,
        audio_from: str | os.PathLike | None = None,
        crf: int = 18,
        overwrite: bool = True,
    ) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if not 0 <= crf <= 51:
            raise SteadyStyleError(f"crf must be between 0 and 51, got {crf}")
        if not fps or fps <= 0:
            raise SteadyStyleError(f"frame rate must be positive, got {fps}")
        self.path = check_output_path(path, audio_from)
        self._sequence = is_sequence_output(os.path.expanduser(os.fspath(path)))  # before "out/" loses its /
        self._image = not self._sequence and is_image_output(self.path)
        self._encoded: bytes | None = None  # the single image's file, until close
        self.width, self.height = int(width), int(height)
        self.fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
        self.overwrite = overwrite
        self.frames_written = 0
        self._last_pts = -1
        self._finished = False
        self._staged: Staged | None = None  # the hidden temporary everything is written to
        self._container: av.container.OutputContainer | None = None
        self._audio: AudioCopy | None = None
        if self._sequence:
            self._init_sequence()
        elif self._image:
            self._init_image()
        else:
            self._init_video(audio_from, crf)

    # -- setup ---------------------------------------------------------------------------------

    def _init_sequence(self) -> None:
        if PRINTF_FIELD.search(self.path.name):
            self._folder, self._pattern = self.path.parent, self.path.name
        else:
            self._folder, self._pattern = self.path, "%06d.png"
        self._regex = pattern_regex(self._pattern, self.path)
        if not self.overwrite and self._existing_frames():
            raise SteadyStyleError(f"{self.path}: output frames already exist")
        if self._folder.is_dir():
            check_folder(self._folder, self._pattern, self._regex, self.path)
        try:
            if self._folder.is_dir():  # fill a hidden folder inside (.steadystyle.tmp-…), move files out at close
                self._staged = Staged(self._folder / "steadystyle", folder=True)
            else:  # build the whole folder beside it, rename at close
                self._staged = Staged(self._folder, folder=True)
        except OSError as error:
            message = f"{self.path}: cannot create output ({one_line(error)})"
            raise SteadyStyleError(message) from None

    def _existing_frames(self) -> list[Path]:
        if not self._folder.is_dir():
            return []
        return [p for p in self._folder.iterdir() if self._regex.match(p.name) and p.is_file()]

    def _init_image(self) -> None:
        if not self.overwrite and self.path.exists():
            raise SteadyStyleError(f"{self.path}: output file already exists")
        try:
            self._staged = Staged(self.path)
        except OSError as error:
            raise SteadyStyleError(f"{self.path}: cannot create output ({one_line(error)})") from None

    def _init_video(self, audio_from: str | os.PathLike | None, crf: int) -> None:
        if not self.overwrite and self.path.exists():
            raise SteadyStyleError(f"{self.path}: output file already exists")
        try:
            self._staged = Staged(self.path, keep_suffix=True)  # FFmpeg picks the muxer from the extension
            fmt = VIDEO_EXTENSIONS[self.path.suffix.lower()]
            options = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
            self._container = av.open(str(self._staged.path), mode="w", format=fmt, options=options)
            self._stream = self._add_video_stream(crf)
            if audio_from is not None:
                source = open_container(Path(os.path.expanduser(os.fspath(audio_from))))
                try:
                    if source.streams.audio:
                        self._audio = AudioCopy(source, self._container)
                finally:
                    if self._audio is None:
                        source.close()
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(f"{self.path}: cannot write ({one_line(error)})") from None
        except BaseException:
            self.abort()
            raise

    def _add_video_stream(self, crf: int) -> av.video.stream.VideoStream:
        assert self._container is not None
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = self.width, self.height
        odd = self.width % 2 or self.height % 2
        self._pix_fmt = "yuv444p" if odd else "yuv420p"
        stream.pix_fmt = self._pix_fmt
        stream.time_base = _OUTPUT_TIME_BASE
        context = stream.codec_context
        context.time_base = _OUTPUT_TIME_BASE
        context.colorspace = 1  # AVCOL_SPC_BT709
        context.color_primaries = 1  # AVCOL_PRI_BT709
        context.color_trc = 1  # AVCOL_TRC_BT709
        context.color_range = 1  # AVCOL_RANGE_MPEG (limited)
        stream.options = {"crf": str(crf), "preset": "medium"}
        return stream

    # -- writing -------------------------------------------------------------------------------

    def write(self, image: np.ndarray, time: float | None = None) -> None:
        """Append one frame: ``image`` is ``(height, width, 3)`` uint8 RGB (else
        :class:`~steadystyle.frames.FrameError`, a ValueError); ``time`` in seconds (default
        ``index / fps``)."""
        if self._finished:
            raise RuntimeError(f"{self.path}: writer is closed")
        image = check_frame(np.asarray(image))
        if image.shape != (self.height, self.width, 3):
            raise FrameError(f"{self.path}: expected {self.width}×{self.height} frames (H×W×3 uint8 RGB), "
                             f"got {image.shape[1]}×{image.shape[0]}")
        try:
            if self._sequence:
                self._write_png(image)
            elif self._image:
                self._encode_image(image)
            else:
                self._write_video(image, time)
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(
                f"{self.path}: cannot write frame {self.frames_written} ({one_line(error)})"
            ) from None
        except BaseException:  # e.g. audio copy failed, Ctrl-C: the half-written file is useless
            self.abort()
            raise
        self.frames_written += 1

    def _write_png(self, image: np.ndarray) -> None:
        ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError("PNG encoding failed")
        assert self._staged is not None
        (self._staged.path / frame_name(self._pattern, self.frames_written + 1)).write_bytes(data.tobytes())

    def _encode_image(self, image: np.ndarray) -> None:
        if self._encoded is not None:
            raise SteadyStyleError(f"{self.path}: is one image, and a second frame came; write a .mp4, .mov or "
                                   f".mkv file, or a PNG pattern like {self.path.with_name('%06d.png')} "
                                   f"(nothing was written)")
        jpeg = self.path.suffix.lower() in (".jpg", ".jpeg")
        params = [cv2.IMWRITE_JPEG_QUALITY, 95] if jpeg else []
        ok, data = cv2.imencode(self.path.suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
        if not ok:
            raise OSError(f"{self.path.suffix} encoding failed")
        self._encoded = data.tobytes()

    def _write_video(self, image: np.ndarray, time: float | None) -> None:
        assert self._container is not None
        if time is None:
            time = self.frames_written / float(self.fps)
        pts = max(round(time / _OUTPUT_TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame = frame.reformat(
            format=self._pix_fmt,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
            interpolation=_TO_YUV_FLAGS,
        )
        frame.pts = pts
        frame.time_base = _OUTPUT_TIME_BASE
        if self._audio is not None:
            self._audio.feed_until(float(pts * _OUTPUT_TIME_BASE) + AUDIO_LEAD)
        self._container.mux(self._stream.encode(frame))

    # -- finishing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Finish the file and move it to its final name.  Safe to call twice; on failure the
        temporary is deleted and :class:`SteadyStyleError` is raised."""
        if self._finished:
            return
        try:
            if self.frames_written == 0:
                raise SteadyStyleError(f"{self.path}: no frames were written")
            if self._sequence:
                self._finish_sequence()
            elif self._image:
                self._finish_image()
            else:
                self._finish_video()
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(f"{self.path}: cannot finish ({one_line(error)})") from None
        except BaseException:
            self.abort()
            raise
        self._finished = True

    def _finish_video(self) -> None:
        assert self._container is not None
        self._container.mux(self._stream.encode(None))
        if self._audio is not None:
            self._audio.feed_until(math.inf)
            self._audio.close()
            self._audio = None
        self._container.close()
        self._container = None
        if not self.overwrite and self.path.exists():
            raise SteadyStyleError(f"{self.path}: output file already exists")
        assert self._staged is not None
        self._staged.commit()

    def _finish_image(self) -> None:
        assert self._staged is not None and self._encoded is not None
        self._staged.path.write_bytes(self._encoded)
        if not self.overwrite and self.path.exists():
            raise SteadyStyleError(f"{self.path}: output file already exists")
        self._staged.commit()

    def _finish_sequence(self) -> None:
        staged = self._staged
        assert staged is not None
        if not self._folder.exists():
            records = {p.name: file_record(p) for p in staged.path.iterdir()}
            (staged.path / MANIFEST).write_text(json.dumps({"files": records}, indent=0) + "\n", encoding="utf-8")
            staged.commit()  # the whole folder, built beside it
            return
        if not self.overwrite and self._existing_frames():
            raise SteadyStyleError(f"{self.path}: output frames already exist")
        move_in(staged, self._folder, self._pattern, self._regex, self.path)

    def abort(self) -> None:
        """Discard everything written so far; the output name is left untouched."""
        if self._finished:
            return
        self._finished = True
        for attr in ("_audio", "_container"):  # best effort: the files are deleted below anyway
            handle = getattr(self, attr)
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
                setattr(self, attr, None)
        staged = getattr(self, "_staged", None)
        if staged is not None:
            staged.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        """A writer dropped without close() leaves no temporary behind."""
        if not getattr(self, "_finished", True):
            with contextlib.suppress(Exception):
                self.abort()
