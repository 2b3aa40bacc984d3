"""Video input and output: decode any FFmpeg-readable clip to RGB frames, encode frames back.

Conventions used throughout:

* A frame image is a numpy array of shape ``(H, W, 3)``, dtype ``uint8``, channel order **RGB**,
  already rotated upright (phone clips carry a rotation flag that we apply).
* Times are seconds (``float``).  For videos they are presentation times measured from the start of
  the file (the earliest stream), so a clip whose video starts after its audio keeps that offset.
  For image sequences and raw streams without timestamps they are ``index / fps``.
* Problems a user can cause (missing file, not a video, no frames, bad output path ...) raise
  :class:`SteadyStyleError` with a one-line message naming the file.

Colour: frames are written as H.264 in BT.709 limited ("TV") range and the stream is tagged so
(matrix, primaries, transfer and range).  When reading, each frame is converted with its own tags;
untagged video uses BT.709 when it is HD (width >= 1280 or height > 576) and BT.601 otherwise,
like most players.  Even sizes are encoded as 4:2:0 (plays everywhere); odd widths or heights are
encoded as 4:4:4 (H.264 "High 4:4:4 Predictive"), because 4:2:0 cannot represent odd sizes exactly.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import os
import re
import secrets
import shutil
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.error
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from .errors import SteadyStyleError

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "VideoFrame",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "check_output_path",
    "is_image_sequence",
    "sequence_gaps",
    "OUTPUT_FORMS",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""File extensions read as images in a folder or pattern sequence."""

VIDEO_EXTENSIONS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""Output video extensions and the FFmpeg muxer each one uses (video codec: H.264)."""

DEFAULT_SEQUENCE_FPS = Fraction(25)
_OUTPUT_TIME_BASE = Fraction(1, 90000)  # divisible by 24, 25, 30, 50, 60 and their /1.001 forms
_REORDER_WINDOW = 16  # H.264 reorders at most 16 frames
_PRINTF_FIELD = re.compile(r"%(0?)(\d*)d")
# swscale flags.  Its fast 4:2:0 -> RGB path truncates: pictures come out about one grey level
# too dark (-1.05 mean error measured on natural images with FFmpeg 8 / PyAV 18).  Full chroma
# interpolation with accurate rounding is unbiased (about 6 ms per 720p frame instead of 1 ms).
_TO_RGB_FLAGS = Interpolation.BILINEAR | Interpolation.FULL_CHR_H_INT | Interpolation.ACCURATE_RND
_TO_YUV_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
_TEXT_ART_CODECS = {"ansi", "bintext", "xbin", "idf"}
_AUDIO_LEAD = 0.5  # seconds of audio muxed ahead of the video, for interleaving


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


# ----------------------------------------------------------------------------------------------
# Paths


def is_image_sequence(path: str | os.PathLike) -> bool:
    """True if ``path`` names an image sequence: an existing directory, a path ending in a
    separator, or a string containing a printf integer field such as ``%05d`` or ``%d``."""
    text = os.fspath(path)
    return (
        os.path.isdir(text)
        or text.endswith(("/", os.sep))
        or _PRINTF_FIELD.search(os.path.basename(text)) is not None
    )


def _natural_key(name: str) -> list[object]:
    """Sort key that orders ``frame2`` before ``frame10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _pattern_regex(pattern_name: str, where: Path) -> re.Pattern[str]:
    """Regex for the file names matched by a printf pattern with one ``%d`` field; group 1 is the
    frame number."""
    fields = list(_PRINTF_FIELD.finditer(pattern_name))
    if len(fields) != 1:
        raise SteadyStyleError(
            f"{where}: the file name pattern must contain exactly one integer field like %05d"
        )
    field = fields[0]
    prefix, suffix = pattern_name[: field.start()], pattern_name[field.end() :]
    return re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + r"\Z")


def _missing_folder(path: Path, folder: Path) -> SteadyStyleError:
    """The error for a sequence whose folder is not there: missing, or a file in its place."""
    if folder.exists():
        return SteadyStyleError(f"{path}: {folder} is a file, not a folder")
    return SteadyStyleError(f"{path}: folder {folder} does not exist")


def _sequence_files(path: Path) -> list[Path]:
    """The image files of a sequence input, in frame order."""
    if path.is_dir():
        files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
        return sorted(files, key=lambda p: _natural_key(p.name))
    if not _PRINTF_FIELD.search(path.name):  # "name/" given for a folder that is not one
        raise _missing_folder(path, path)
    regex = _pattern_regex(path.name, path)
    folder = path.parent
    if not folder.is_dir():
        raise _missing_folder(path, folder)
    numbered = []
    for entry in folder.iterdir():
        match = regex.match(entry.name)
        if match and entry.is_file():
            numbered.append((int(match.group(1)), entry))
    return [entry for _, entry in sorted(numbered)]


_NUMBERED = re.compile(r"\A(.*?)(\d+)(\D*)\Z")


def _frame_numbers(files: list[Path]) -> list[int] | None:
    """The frame numbers of a sequence's files when all share one ``prefix<number>suffix``
    pattern (``f1.png`` … ``f10.png``), else ``None``."""
    parts = [_NUMBERED.match(f.name) for f in files]
    if not parts or not all(parts):
        return None
    if len({(m.group(1), m.group(3).lower()) for m in parts if m}) != 1:
        return None
    return [int(m.group(2)) for m in parts if m]


def _ranges(numbers: list[int], limit: int = 8) -> str:
    """``[5, 7, 8, 9]`` → ``"5, 7–9"`` (at most ``limit`` runs, then ``…``)."""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    text = [str(a) if a == b else f"{a}–{b}" for a, b in runs[:limit]]
    return ", ".join(text) + (", …" if len(runs) > limit else "")


def sequence_gaps(files: list[Path]) -> list[int]:
    """Frame numbers missing between the first and last file of a numbered sequence (sorted);
    empty when the numbering is complete or the names carry no common numbering."""
    numbers = _frame_numbers(files)
    if not numbers:
        return []
    present = set(numbers)
    return [n for n in range(min(numbers), max(numbers) + 1) if n not in present]


def _is_sequence_output(path: str | os.PathLike) -> bool:
    """Outputs are PNG sequences when :func:`is_image_sequence` says so: an existing folder, a
    name ending in ``/`` (a folder to be created) or a ``%d`` pattern.  A name without an
    extension is not guessed to be a folder (:func:`check_output_path` refuses it)."""
    return is_image_sequence(path)


OUTPUT_FORMS = ".mp4, .mov or .mkv file, a PNG pattern like out/%06d.png, or a folder ending in / (out/)"
"""The output forms :func:`check_output_path` accepts, as named in its error messages."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _sequence_dir(path: Path) -> Path:
    """The folder an image sequence lives in (the path itself for a folder, else its parent)."""
    return path.parent if _PRINTF_FIELD.search(path.name) else path


def check_output_path(
    output: str | os.PathLike, input: str | os.PathLike | None = None
) -> Path:
    """Check that ``output`` can be written and return it as a ``Path`` (``~`` expanded).

    Accepted outputs: ``.mp4``, ``.mov``, ``.mkv`` files, or a PNG sequence (a pattern like
    ``out/%05d.png``, an existing directory, or a path ending in ``/``).  Raises
    :class:`SteadyStyleError` if the output is the input file (or the input sequence's folder),
    if the folder it goes into does not exist or is not writable, or if the name has no
    extension or an unsupported one (the message names :data:`OUTPUT_FORMS`).
    """
    text = os.path.expanduser(os.fspath(output))
    out = Path(text)
    sequence = _is_sequence_output(text)
    if not sequence and not out.suffix:
        if out.exists():
            raise SteadyStyleError(f"{out}: is a file without an extension; write a {OUTPUT_FORMS}")
        raise SteadyStyleError(f"{out}: output has no extension; write a {OUTPUT_FORMS}")
    if sequence:
        if _PRINTF_FIELD.search(out.name):
            _pattern_regex(out.name, out)
            if out.suffix.lower() != ".png":
                raise SteadyStyleError(f"{out}: image sequence output must be .png")
        folder = _sequence_dir(out)
        if folder.exists() and not folder.is_dir():
            raise _missing_folder(out, folder)
        parent = folder if folder.is_dir() else folder.parent
    else:
        if out.suffix.lower() not in VIDEO_EXTENSIONS:
            raise SteadyStyleError(
                f"{out}: unsupported output type {out.suffix!r}; write a {OUTPUT_FORMS}"
            )
        if out.is_dir():
            raise SteadyStyleError(f"{out}: is a directory")
        parent = out.parent
    if not parent.is_dir():
        raise _missing_folder(out, parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SteadyStyleError(f"{out}: folder {parent} is not writable")
    if input is not None:
        src = Path(os.path.expanduser(os.fspath(input)))
        if sequence and is_image_sequence(src):
            if _same_file(_sequence_dir(out), _sequence_dir(src)):
                raise SteadyStyleError(
                    f"{out}: output would be written into the input folder {_sequence_dir(src)}"
                )
        elif not sequence and _same_file(out, src):
            raise SteadyStyleError(f"{out}: output is the input file; choose another name")
    return out


# ----------------------------------------------------------------------------------------------
# Reading


def _one_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


def _open_container(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise SteadyStyleError(f"{path}: no such file")
    if path.is_dir():
        raise SteadyStyleError(f"{path}: is a directory without images")
    if path.stat().st_size == 0:
        raise SteadyStyleError(f"{path}: file is empty")
    if not os.access(path, os.R_OK):
        raise SteadyStyleError(f"{path}: permission denied")
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise SteadyStyleError(
            f"{path}: not a video FFmpeg can read ({_one_line(error)})"
        ) from None


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

    Reads what FFmpeg reads: mp4, mkv, avi, mov, raw ``.264``, GIF ..., and image sequences (a
    folder of images sorted by name with numbers in numeric order, or a printf pattern like
    ``frames/%05d.png``).  ``fps`` is the frame rate of inputs without timestamps (image sequences,
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
        else:
            self.info = self._open_video()

    # -- setup ---------------------------------------------------------------------------------

    def _open_sequence(self) -> VideoInfo:
        self._files = _sequence_files(self.path)
        if not self._files:
            raise SteadyStyleError(f"{self.path}: contains no frames")
        height, width = self._read_image(self._files[0], 0).shape[:2]
        fps = self._fps_override or DEFAULT_SEQUENCE_FPS
        missing = sequence_gaps(self._files)
        if missing:
            numbers = _frame_numbers(self._files) or [0]
            self._opening_warnings.append(
                f"{self.path}: {len(missing)} frame{'s' if len(missing) > 1 else ''} missing from the "
                f"numbered sequence {min(numbers)}–{max(numbers)} (number {_ranges(missing)}); "
                f"the {len(self._files)} frames found are read one after the other"
            )
        self.warnings = list(self._opening_warnings)
        self.frames_announced = len(self._files) + len(missing)
        return VideoInfo(width, height, fps, len(self._files), has_audio=False, rotation=0)

    def _open_video(self) -> VideoInfo:
        self._container = _open_container(self.path)
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
                    f"{self.path}: cannot decode frame {count} ({_one_line(error)})"
                ) from None
            self._decode_error = f"cannot decode frame {count} ({_one_line(error)})"

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

    def _read_image(self, file: Path, index: int) -> np.ndarray:
        try:
            data = np.fromfile(file, dtype=np.uint8)
        except OSError as error:
            message = f"{file}: cannot read frame {index} ({_one_line(error)})"
            raise SteadyStyleError(message) from None
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise SteadyStyleError(f"{file}: frame {index} is not a readable image")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def _iter_sequence(self) -> Iterator[VideoFrame]:
        assert self._files is not None
        size = (self.info.height, self.info.width)
        for index, file in enumerate(self._files):
            image = self._read_image(file, index)
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
            self._container = _open_container(self.path)
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


_COUNTED_FORMATS = ("mov", "mp4")  # demuxers whose frame count comes from a sample index
_DURATION_TAG = re.compile(r"\A(\d+):(\d\d):(\d\d(?:\.\d+)?)\Z")


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


# ----------------------------------------------------------------------------------------------
# Writing


def _temp_name(final: Path, folder: bool = False) -> Path:
    """A hidden name beside ``final`` that keeps its real extension last (FFmpeg picks the muxer
    from it), e.g. ``.out.mp4.tmp-1a2b3c4d.mp4``."""
    tag = secrets.token_hex(4)
    if folder:
        return final.parent / f".{final.name}.tmp-{tag}"
    return final.parent / f".{final.name}.tmp-{tag}{final.suffix}"


class _AudioCopy:
    """Moves the first audio stream of ``source`` into ``output``: packets are copied unchanged when
    the output container accepts the codec, otherwise decoded and re-encoded as AAC.  Times keep
    the source's origin (its container start), matching :class:`VideoReader` frame times."""

    def __init__(
        self, source: av.container.InputContainer, output: av.container.OutputContainer
    ) -> None:
        self.input = source
        self.source = source.name
        self.output = output
        self.in_stream = self.input.streams.audio[0]
        self.origin = (self.input.start_time or 0) / av.time_base
        try:
            codec = self.in_stream.codec_context.name
            if output.format.name == "mp4" and codec.startswith("pcm_"):
                raise ValueError("PCM in MP4 plays almost nowhere")
            self.out_stream = output.add_stream_from_template(self.in_stream)
            self.encoder = None
        except ValueError:  # the output format does not accept this codec
            rate = self.in_stream.codec_context.sample_rate or 48000
            layout = "mono" if self.in_stream.codec_context.layout.nb_channels == 1 else "stereo"
            self.out_stream = output.add_stream("aac", rate=rate, layout=layout)
            self.out_stream.bit_rate = 192_000
            self.encoder = self.out_stream
        self.packets = self.input.demux(self.in_stream)
        self.done = False

    def feed_until(self, time: float) -> None:
        """Mux source audio up to ``time`` seconds (``math.inf``: all of it, then flush)."""
        if self.done:
            return
        tb = self.in_stream.time_base
        shift = round(self.origin / tb)
        try:
            for packet in self.packets:
                ahead = packet.pts is not None and float((packet.pts - shift) * tb) > time
                if self.encoder is not None:
                    self._reencode(packet, shift)  # (the final empty packet flushes the decoder)
                elif packet.size:
                    self._copy(packet, shift)
                if ahead:
                    return
            if self.encoder is not None:
                self.output.mux(self.encoder.encode(None))
        except (av.error.FFmpegError, OSError) as error:
            message = f"{self.source}: cannot copy audio ({_one_line(error)})"
            raise SteadyStyleError(message) from None
        self.done = True

    def _copy(self, packet: av.Packet, shift: int) -> None:
        if packet.pts is not None:
            packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        packet.stream = self.out_stream
        self.output.mux(packet)

    def _reencode(self, packet: av.Packet, shift: int) -> None:
        rate = self.out_stream.codec_context.sample_rate
        for frame in packet.decode():
            if frame.pts is not None:
                start = float((frame.pts - shift) * frame.time_base)
                frame.pts = round(start * rate)
            frame.time_base = Fraction(1, rate)
            self.output.mux(self.encoder.encode(frame))

    def close(self) -> None:
        self.input.close()


class VideoWriter:
    """Writes H.264 MP4 (``.mp4``/``.mov``), H.264 MKV (``.mkv``), or a lossless PNG sequence
    (a printf pattern like ``out/%05d.png``, or a directory, existing or new, filled with
    ``%06d.png``; frames are numbered from 1 like ffmpeg).

    ``write`` takes ``(height, width, 3)`` uint8 RGB images and optional times in seconds; times
    are kept (rounded to 1/90000 s, forced strictly increasing) so variable-frame-rate input stays
    in sync with its audio.  Without times frame *i* is shown at ``i / fps``.  ``fps`` is the
    nominal rate written into the file.

    ``audio_from``: a file whose first audio stream is copied into the video (re-encoded as AAC
    only when the container cannot hold its codec).  PNG sequences carry no audio.

    Atomic: everything goes to a hidden temporary beside the output, renamed into place by
    :meth:`close`; on an exception or Ctrl-C inside ``with`` the temporary is deleted and nothing
    under the output name is touched.  ``crf`` is the x264 quality (0 lossless .. 51, 18 is
    visually lossless).  ``overwrite=False`` refuses an existing output.
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
        self._sequence = _is_sequence_output(os.path.expanduser(os.fspath(path)))  # before "out/" loses its /
        self.width, self.height = int(width), int(height)
        self.fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
        self.overwrite = overwrite
        self.frames_written = 0
        self._last_pts = -1
        self._finished = False
        self._container: av.container.OutputContainer | None = None
        self._audio: _AudioCopy | None = None
        if self._sequence:
            self._init_sequence()
        else:
            self._init_video(audio_from, crf)

    # -- setup ---------------------------------------------------------------------------------

    def _init_sequence(self) -> None:
        if _PRINTF_FIELD.search(self.path.name):
            self._folder, self._pattern = self.path.parent, self.path.name
        else:
            self._folder, self._pattern = self.path, "%06d.png"
        self._regex = _pattern_regex(self._pattern, self.path)
        if not self.overwrite and self._existing_frames():
            raise SteadyStyleError(f"{self.path}: output frames already exist")
        if self._folder.is_dir():  # fill a hidden folder inside, move files out at close
            self._temp = self._folder / f".steadystyle.tmp-{secrets.token_hex(4)}"
        else:  # build the whole folder beside it, rename at close
            self._temp = _temp_name(self._folder, folder=True)
        try:
            self._temp.mkdir()
        except OSError as error:
            message = f"{self.path}: cannot create output ({_one_line(error)})"
            raise SteadyStyleError(message) from None

    def _existing_frames(self) -> list[Path]:
        if not self._folder.is_dir():
            return []
        return [p for p in self._folder.iterdir() if self._regex.match(p.name) and p.is_file()]

    def _init_video(self, audio_from: str | os.PathLike | None, crf: int) -> None:
        if not self.overwrite and self.path.exists():
            raise SteadyStyleError(f"{self.path}: output file already exists")
        self._temp = _temp_name(self.path)
        try:
            open(self._temp, "xb").close()  # reserve the name (normal permissions)
            fmt = VIDEO_EXTENSIONS[self.path.suffix.lower()]
            options = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
            self._container = av.open(str(self._temp), mode="w", format=fmt, options=options)
            self._stream = self._add_video_stream(crf)
            if audio_from is not None:
                source = _open_container(Path(os.path.expanduser(os.fspath(audio_from))))
                try:
                    if source.streams.audio:
                        self._audio = _AudioCopy(source, self._container)
                finally:
                    if self._audio is None:
                        source.close()
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(f"{self.path}: cannot write ({_one_line(error)})") from None
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
        """Append one frame: ``image`` is ``(height, width, 3)`` uint8 RGB; ``time`` in seconds
        (default ``index / fps``)."""
        if self._finished:
            raise RuntimeError(f"{self.path}: writer is closed")
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.shape != (self.height, self.width, 3):
            raise ValueError(
                f"expected a ({self.height}, {self.width}, 3) uint8 RGB image, "
                f"got {image.shape} {image.dtype}"
            )
        try:
            if self._sequence:
                self._write_png(image)
            else:
                self._write_video(image, time)
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(
                f"{self.path}: cannot write frame {self.frames_written} ({_one_line(error)})"
            ) from None
        except BaseException:  # e.g. audio copy failed, Ctrl-C: the half-written file is useless
            self.abort()
            raise
        self.frames_written += 1

    def _write_png(self, image: np.ndarray) -> None:
        ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError("PNG encoding failed")
        (self._temp / (self._pattern % (self.frames_written + 1))).write_bytes(data.tobytes())

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
            self._audio.feed_until(float(pts * _OUTPUT_TIME_BASE) + _AUDIO_LEAD)
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
            else:
                self._finish_video()
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise SteadyStyleError(f"{self.path}: cannot finish ({_one_line(error)})") from None
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
        os.replace(self._temp, self.path)

    def _finish_sequence(self) -> None:
        if not self._folder.exists():
            os.replace(self._temp, self._folder)
            return
        if not self.overwrite and self._existing_frames():
            raise SteadyStyleError(f"{self.path}: output frames already exist")
        written = {p.name for p in self._temp.iterdir()}
        for stale in self._existing_frames():  # frames of an earlier, longer run
            if stale.name not in written:
                stale.unlink()
        for name in sorted(written):
            os.replace(self._temp / name, self._folder / name)
        self._temp.rmdir()

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
        temp = getattr(self, "_temp", None)
        if temp is not None:
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)

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

