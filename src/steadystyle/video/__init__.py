"""Video input and output: decode any FFmpeg-readable clip to RGB frames, encode frames back.

The package, one idea per module: :mod:`.reader` (decoding, times, truncation warnings),
:mod:`.writer` (H.264 or PNG, atomic), :mod:`.sequences` (image sequences and gaps in their
numbering), :mod:`.paths` (which outputs are accepted), :mod:`.audio` (the input's audio carried
over) and :mod:`.container` (opening inputs, one-line FFmpeg errors).  The public names below are
importable from ``steadystyle.video``.

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

from .paths import OUTPUT_FORMS, VIDEO_EXTENSIONS, check_output_path
from .reader import DEFAULT_SEQUENCE_FPS, VideoFrame, VideoInfo, VideoReader
from .sequences import IMAGE_EXTENSIONS, is_image_sequence, sequence_gaps
from .writer import VideoWriter
from .quiet import quiet_opencv

quiet_opencv()  # OpenCV's WARN lines stay off the terminal; our messages say what went wrong

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
    "DEFAULT_SEQUENCE_FPS",
    "quiet_opencv",
]
