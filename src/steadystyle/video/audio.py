"""Audio: the first audio stream of the input carried into the output video, in sync with the frames."""

from __future__ import annotations

from fractions import Fraction

import av
import av.error

from ..errors import SteadyStyleError
from .container import one_line

__all__ = ["AUDIO_LEAD", "AudioCopy"]

AUDIO_LEAD = 0.5
"""Seconds of audio muxed ahead of the video, for interleaving."""


class AudioCopy:
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
            message = f"{self.source}: cannot copy audio ({one_line(error)})"
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
