"""Reading: decode any FFmpeg-readable clip or an image sequence to upright RGB frames with times."""

from __future__ import annotations

import heapq
import math
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np
from av.video.reformatter import Colorspace, Interpolation

from ..errors import SteadyStyleError
from .container import one_line, open_container
from .sequences import (frame_numbers, is_image_file, is_image_sequence, number_ranges, read_image, sequence_files,
                        sequence_gaps)

__all__ = ["DEFAULT_SEQUENCE_FPS", "VideoInfo", "VideoFrame", "VideoReader"]

DEFAULT_SEQUENCE_FPS = Fraction(25)
"""Frame rate of inputs without timestamps (image sequences, raw streams) unless one is given."""

_REORDER_WINDOW = 16  # H.264 reorders at most 16 frames
# swscale flags.  Its fast 4:2:0 -> RGB path truncates: pictures come out about one grey level
# too dark (-1.05 mean error measured on natural images with FFmpeg 8 / PyAV 18).  Full chroma
# interpolation with accurate rounding is unbiased (about 6 ms per 720p frame instead of 1 ms).
_TO_RGB_FLAGS = Interpolation.BILINEAR | Interpolation.FULL_CHR_H_INT | Interpolation.ACCURATE_RND
_TEXT_ART_CODECS = {"ansi", "bintext", "xbin", "idf"}
_COUNTED_FORMATS = ("mov", "mp4")  # demuxers whose frame count comes from a sample index
_DURATION_TAG = re.compile(r"\A(\d+):(\d\d):(\d\d(?:\.\d+)?)\Z")


@dataclass(frozen=True)
class VideoInfo:
    """What a :class:`VideoReader` knows about its input before decoding it.

    ``width``/``height`` are in pixels of the upright frame (after rotation).  ``fps`` is the
    nominal (average) frame rate in frames per second.  ``frame_count`` is ``None`` when the
    container does not say (and only as reliable as the container).  ``rotation`` is the
    counter-clockwise rotation in degrees (0, 90, 180 or 270) applied to the decoded pictures
    to make them upright.
    """

    width: int
    height: int
    fps: Fraction
    frame_count: int | None
    has_audio: bool
    rotation: int


@dataclass
class VideoFrame:
    """One decoded frame.

    ``image``: ``(H, W, 3)`` ``uint8`` RGB, upright, C-contiguous and writable.
    ``time``: presentation time in seconds from the start of the file (strictly increasing).
    ``index``: 0-based position in decoding output order.
    """

    image: np.ndarray
    time: float
    index: int


def _stream_fps(stream: av.video.stream.VideoStream) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < rate < 1000:
            return Fraction(rate)
    return None


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate an image counter-clockwise by ``rotation`` degrees (a multiple of 90); the result is
    C-contiguous and writable."""
    if rotation:
        image = np.rot90(image, k=rotation // 90)
    image = np.ascontiguousarray(image)
    return image if image.flags.writeable else image.copy()


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """Convert a decoded frame to ``(H, W, 3)`` uint8 RGB using the frame's own colour tags.

    Untagged YUV is treated as BT.709 for HD sizes and BT.601 otherwise; an unspecified range is
    limited (the decoder marks full-range "yuvj" pictures itself).  Transfer curve and primaries
    are not converted (HDR / BT.2020 video is not tone-mapped).
    """
    kwargs = {}
    if frame.format.name.startswith(("yuv", "nv")) and frame.colorspace == 2:  # unspecified
        hd = frame.width >= 1280 or frame.height > 576
        kwargs["src_colorspace"] = Colorspace.ITU709 if hd else Colorspace.ITU601
    return frame.to_ndarray(format="rgb24", interpolation=_TO_RGB_FLAGS, **kwargs)


class VideoReader:
    """Context manager / iterable of :class:`VideoFrame`.

    Reads what FFmpeg reads: mp4, mkv, avi, mov, raw ``.264``, GIF ..., image sequences (a
    folder of images sorted by name with numbers in numeric order, or a printf pattern like
    ``frames/%05d.png``), and a single image file (``photo.jpg``: a one-frame input, decoded by
    OpenCV with its EXIF orientation applied).  ``fps`` is the frame rate of inputs without timestamps (image sequences,
    raw streams); it defaults to 25.  Each iteration starts again from the first frame.

    The constructor already decodes the first frame, so missing, unreadable and empty inputs fail
    there with :class:`SteadyStyleError`; decoding errors later name the frame index.

    Inputs that are not what they claim do not fail but are reported in :attr:`warnings` (one
    line each, naming the file): a numbered image sequence with missing numbers (known once
    constructed), and a video that ends before the frames or seconds its container announces
    (a truncated file; known after a pass that reached the end).  :attr:`frames_announced` is the
    container's frame count where it is reliable (MP4/MOV indexes, image sequences), else
    ``None``; :attr:`frames_read` counts the frames of the last pass.
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None) -> None:
        if fps is not None and not fps > 0:
            raise SteadyStyleError(f"{path}: frame rate must be positive, got {fps}")
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self._fps_override = Fraction(fps).limit_denominator(1001) if fps else None
        self._container: av.container.InputContainer | None = None
        self._files: list[Path] | None = None
        self._first: av.VideoFrame | None = None  # peeked by __init__, handed out first
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._timestamps = True  # False for raw streams: times are index / fps
        self._opening_warnings: list[str] = []
        self._decode_error: str | None = None  # what ended the last pass early
        self.warnings: list[str] = []
        self.frames_announced: int | None = None
        self.seconds_announced: float | None = None
        self.frames_read = 0
        if is_image_sequence(path):
            self.info = self._open_sequence()
        elif is_image_file(self.path):
            self.info = self._open_image()
        else:
            self.info = self._open_video()

    # -- setup ---------------------------------------------------------------------------------

    def _open_sequence(self) -> VideoInfo:
        self._files = sequence_files(self.path)
        if not self._files:
            raise SteadyStyleError(f"{self.path}: contains no frames")
        height, width = read_image(self._files[0], 0).shape[:2]
        fps = self._fps_override or DEFAULT_SEQUENCE_FPS
        missing = sequence_gaps(self._files)
        if missing:
            numbers = frame_numbers(self._files) or [0]
            self._opening_warnings.append(
                f"{self.path}: {len(missing)} frame{'s' if len(missing) > 1 else ''} missing from the "
                f"numbered sequence {min(numbers)}–{max(numbers)} (number {number_ranges(missing)}); "
                f"the {len(self._files)} frames found are read one after the other"
            )
        self.warnings = list(self._opening_warnings)
        self.frames_announced = len(self._files) + len(missing)
        return VideoInfo(width, height, fps, len(self._files), has_audio=False, rotation=0)

    def _open_image(self) -> VideoInfo:
        """One image file: a one-frame sequence."""
        self._files = [self.path]
        height, width = read_image(self.path, 0).shape[:2]
        self.frames_announced = 1
        return VideoInfo(width, height, self._fps_override or DEFAULT_SEQUENCE_FPS, 1, has_audio=False, rotation=0)

    def _open_video(self) -> VideoInfo:
        self._container = open_container(self.path)
        try:
            if not self._container.streams.video:
                raise SteadyStyleError(f"{self.path}: contains no video stream")
            stream = self._container.streams.video[0]
            if stream.codec_context.name in _TEXT_ART_CODECS:  # FFmpeg "plays" text files
                raise SteadyStyleError(f"{self.path}: not a video (looks like a text file)")
            self._frames = self._decode(self._container)
            self._first = next(self._frames, None)
            if self._first is None:
                raise SteadyStyleError(f"{self.path}: contains no frames")
            self._timestamps = self._first.pts is not None
            fps = _stream_fps(stream) or DEFAULT_SEQUENCE_FPS
            if not self._timestamps and self._fps_override:
                fps = self._fps_override
            self.frames_announced, self.seconds_announced = _announced(self._container, stream)
            rotation = round(self._first.rotation / 90) * 90 % 360
            width, height = self._first.width, self._first.height
            if rotation in (90, 270):
                width, height = height, width
            return VideoInfo(
                width=width,
                height=height,
                fps=fps,
                frame_count=stream.frames or None,
                has_audio=bool(self._container.streams.audio),
                rotation=rotation,
            )
        except BaseException:
            self.close()
            raise

    def _decode(self, container: av.container.InputContainer) -> Iterator[av.VideoFrame]:
        """Decoded frames of the first video stream.  An error before the first frame is a
        SteadyStyleError; a later one ends the stream there and is reported in ``warnings``."""
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        self._decode_error = None
        try:
            for frame in container.decode(stream):
                yield frame
                count += 1
        except (av.error.FFmpegError, OSError) as error:
            if count == 0:
                raise SteadyStyleError(
                    f"{self.path}: cannot decode frame {count} ({one_line(error)})"
                ) from None
            self._decode_error = f"cannot decode frame {count} ({one_line(error)})"

    # -- iteration -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[VideoFrame]:
        self.warnings = list(self._opening_warnings)
        self.frames_read = 0
        if self._files is not None:
            return self._counted(self._iter_sequence())
        return self._counted(self._iter_video(), check_end=True)

    def _counted(self, frames: Iterator[VideoFrame], check_end: bool = False) -> Iterator[VideoFrame]:
        """Count the frames handed out; at the natural end, compare with what was announced."""
        last: VideoFrame | None = None
        for last in frames:
            self.frames_read += 1
            yield last
        if check_end and last is not None:
            problem = self._shortfall(last.time)
            if problem:
                self.warnings.append(problem)

    def _shortfall(self, last_time: float) -> str | None:
        """A one-line description of a video that ended early, or ``None``."""
        read, announced = self.frames_read, self.frames_announced
        if self._decode_error:
            of = f" of the {announced} the file announces" if announced else ""
            return (f"{self.path}: {self._decode_error}; the video ends there, after {read} frames{of} "
                    f"(damaged file?)")
        if announced is not None and read < announced:
            return (f"{self.path}: only {read} of the {announced} frames the file announces could be "
                    f"decoded (truncated or damaged file?)")
        seconds = self.seconds_announced
        step = 1 / float(self.info.fps)
        end = last_time + step
        if announced is None and seconds is not None and end < seconds - max(2 * step, 0.1):
            return (f"{self.path}: video ends after {read} frames at {end:.2f} s of the {seconds:.2f} s "
                    f"the file announces (truncated or damaged file?)")
        return None

    def _iter_sequence(self) -> Iterator[VideoFrame]:
        assert self._files is not None
        size = (self.info.height, self.info.width)
        for index, file in enumerate(self._files):
            image = read_image(file, index)
            if image.shape[:2] != size:
                raise SteadyStyleError(
                    f"{file}: frame {index} is {image.shape[1]}x{image.shape[0]}, "
                    f"expected {size[1]}x{size[0]} like the first image"
                )
            yield VideoFrame(image, float(index / self.info.fps), index)

    def _iter_video(self) -> Iterator[VideoFrame]:
        """Decode frames and attach strictly increasing times.

        Decoders output pictures in display order, but some containers (AVI with B-frames) hand
        out timestamps in decode order.  Holding up to 16 decoded frames and always giving the
        oldest one the smallest pending timestamp repairs that, and changes nothing otherwise.
        """
        if self._first is not None:  # first pass: continue after the frame peeked in __init__
            frames = _prepend(self._first, self._frames)
            self._first = None
        else:  # later passes: start again from the top
            self.close()
            self._container = open_container(self.path)
            frames = self._decode(self._container)
        assert self._container is not None
        time_base = self._container.streams.video[0].time_base
        origin = (self._container.start_time or 0) / av.time_base
        step = 1 / float(self.info.fps)
        pending: deque[av.VideoFrame] = deque()  # decoded, waiting for their timestamp
        times: list[float] = []  # heap of the pending frames' timestamps
        last_time, index = -math.inf, 0

        def release(keep: int) -> Iterator[VideoFrame]:
            nonlocal last_time, index
            while len(pending) > keep:
                time = heapq.heappop(times)
                if time <= last_time:  # duplicate or broken timestamps: keep strictly increasing
                    time = last_time + step
                image = _upright(_to_rgb(pending.popleft()), self.info.rotation)
                yield VideoFrame(image, time, index)
                last_time, index = time, index + 1

        for frame in frames:
            if frame.pts is not None and self._timestamps:
                time = float(frame.pts * time_base) - origin
            else:  # no timestamps (raw stream): frame number / fps
                time = (index + len(pending)) * step
            pending.append(frame)
            heapq.heappush(times, time)
            yield from release(keep=_REORDER_WINDOW - 1)
        yield from release(keep=0)

    def close(self) -> None:
        """Release the decoder and file; safe to call more than once."""
        if self._container is not None:
            self._container.close()
            self._container = None
        self._first = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _announced(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> tuple[int | None, float | None]:
    """(frames, seconds) the container announces for the video stream, each ``None`` when unknown
    or unreliable.  Frame counts are trusted only from MP4/MOV sample indexes (AVI headers, for
    one, count packed and dropped frames); seconds come from the stream's own duration or its
    Matroska ``DURATION`` tag, never from the container (audio may run longer)."""
    frames = None
    if any(name in _COUNTED_FORMATS for name in container.format.name.split(",")) and stream.frames > 0:
        frames = int(stream.frames)
    seconds = None
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        match = _DURATION_TAG.match(str(stream.metadata.get("DURATION", "")))
        if match:
            hours, minutes, secs = match.groups()
            seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    return frames, (seconds if seconds and seconds > 0 else None)


def _prepend(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest
