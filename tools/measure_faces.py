"""Do faces stay recognisable?  OpenCV's stock Haar face detector on input vs stylized frames.

For each development clip that shows a face, each shipped style and each ``--face-detail``
value, the clip runs through the real loop (:meth:`RunSpec.processor`, the default ``adaptive``
stabilizer, the ONNX Runtime backend) with :class:`steadystyle.face.FaceDetail` applied to every
stylization S(t) before the stabilizer — the hook the :class:`~steadystyle.loop.Processor` is
to get.  On every ``--every``-th frame, OpenCV's ``haarcascade_frontalface_default.xml``
(``detectMultiScale(grey, 1.1, 5)``) looks for faces in the input and in the output.  The mask
comes from a different detector (MTCNN), so the check is independent of it.

Counted per frame: *found* — the output has a detection whose centre lies inside one of the
input's detections of that frame (a face where the input has one; texture that happens to look
like a face elsewhere does not count).  The ratio is found / input frames with a face, summed
over the clips.  Beside it: the Gram ratio of each style (``train/gramcheck.py``, VGG-19
relu1_1–relu4_1, relative to the unstylized frame) on one frame per clip, and the share of
pixels outside the face masks that differ from the detail-0 output (0 = the face-free part is
untouched).  ``--timing`` adds the mask's cost in ms per frame at 320×240 and 640×480.

OpenCV 5 has no Haar cascades; give ``--haar-python`` an interpreter with ``opencv-python-headless<5``
(e.g. ``python -m venv /tmp/cv4 && /tmp/cv4/bin/pip install 'opencv-python-headless<5'``).

    python tools/measure_faces.py --videos ../shared/data/videos --haar-python /tmp/cv4/bin/python \\
        --details 0,0.4,0.6,0.8 --out faces.json --timing
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from steadystyle.backends import make_stylizer
from steadystyle.face import DEFAULT_FACE_DETAIL, FaceDetail
from steadystyle.geometry import Box
from steadystyle.sources import Frame
from steadystyle.spec import DEFAULT_METHOD, RunSpec
from steadystyle.styles import style_paths
from steadystyle.weights import read_metadata

HAAR_WORKER = r"""
import json, sys
import cv2, numpy as np
cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
assert not cascade.empty()
print(json.dumps({"opencv": cv2.__version__}), flush=True)
while True:
    header = sys.stdin.buffer.readline()
    if not header:
        break
    n, h, w = map(int, header.split())
    grey = np.frombuffer(sys.stdin.buffer.read(n * h * w), np.uint8).reshape(n, h, w)
    found = [[[int(v) for v in box] for box in cascade.detectMultiScale(g, 1.1, 5)] for g in grey]
    print(json.dumps(found), flush=True)
"""


class Haar:
    """Frames → Haar face boxes (x, y, w, h) per frame, in a worker interpreter with OpenCV 4."""

    def __init__(self, python: str) -> None:
        self.proc = subprocess.Popen([python, "-c", HAAR_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.opencv = json.loads(self.proc.stdout.readline())["opencv"]

    def __call__(self, frames: list[np.ndarray]) -> list[list[list[int]]]:
        grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
        n, h, w = grey.shape
        self.proc.stdin.write(f"{n} {h} {w}\n".encode() + grey.tobytes())
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def read_clip(spec: str, width: int, max_frames: int) -> tuple[str, list[np.ndarray]]:
    """``path`` or ``path@start:end`` (frame numbers) → (name, RGB frames ``width`` px wide)."""
    path, _, span = spec.partition("@")
    start, _, end = span.partition(":")
    start, end = int(start or 0), int(end) if end else None
    frames = []
    with av.open(path) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k < start:
                continue
            if (end is not None and k >= end) or len(frames) >= max_frames:
                break
            image = frame.to_ndarray(format="rgb24")
            h, w = image.shape[:2]
            size = (width, round(h * width / w / 2) * 2)
            frames.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    name = Path(path).name + (f"@{span}" if span else "")
    return name, frames


class CachedNetwork:
    """The stylizer with its outputs kept per (frame, box): every detail value sees the same S(t)."""

    def __init__(self, stylizer) -> None:
        self.inner = stylizer
        self.index = 0
        self.cache: dict = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        key = (self.index, None)
        if key not in self.cache:
            self.cache[key] = self.inner(image)
        return self.cache[key].copy()

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray:
        key = (self.index, tuple(box))
        if key not in self.cache:
            self.cache[key] = self.inner.stylize_region(image, box)
        return self.cache[key].copy()


class WithFaceDetail:
    """A stylizer whose every output has the face blend: what the Processor hook does."""

    def __init__(self, stylizer, face: FaceDetail) -> None:
        self.inner = stylizer
        self.face = face

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.face(image, self.inner(image))

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray:
        return self.face.apply_region(image, self.inner.stylize_region(image, box), box)


def matched(inputs: list[list[int]], outputs: list[list[int]]) -> bool:
    """Whether an output box has its centre inside one of the input's boxes."""
    for x, y, w, h in outputs:
        cx, cy = x + w / 2, y + h / 2
        if any(ix <= cx <= ix + iw and iy <= cy <= iy + ih for ix, iy, iw, ih in inputs):
            return True
    return False


def default_clips(videos: str) -> list[str]:
    return (sorted(glob.glob(os.path.join(videos, "asl_gestures", "*.mkv")))
            + [os.path.join(videos, "intel_head_pose_female.gif"),
               os.path.join(videos, "intel_one_by_one_person.mp4@760:808")])


def timing(clip: list[np.ndarray], repeats: int = 1) -> dict:
    """ms per frame of FaceDetail (detector every 3rd frame + mask + blend) at 320×240 and 640×480."""
    out = {}
    for w, h in ((320, 240), (640, 480)):
        frames = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in clip]
        stylized = 255 - frames[0]
        fd = FaceDetail(DEFAULT_FACE_DETAIL)
        ms = []
        for _ in range(repeats):
            for f in frames:
                t = time.perf_counter()
                fd(f, stylized)
                ms.append((time.perf_counter() - t) * 1000.0)
        detector = fd._detector
        det = []
        for f in frames[:30]:
            t = time.perf_counter()
            detector(cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) if f.shape[1] > 320 else f)
            det.append((time.perf_counter() - t) * 1000.0)
        out[f"{w}x{h}"] = {"frames": len(ms), "mean_ms": float(np.mean(ms)), "median_ms": float(np.median(ms)),
                           "p95_ms": float(np.percentile(ms, 95)), "detector_mean_ms": float(np.mean(det))}
    return out


def gallery(out: str, videos: str, styles: list[str], detail: float) -> None:
    """Before/after crops: per style a row of input | detail 0 | ``detail``, for two clips."""
    shots = [(os.path.join(videos, "asl_gestures", "book.mkv"), 30), (os.path.join(videos, "intel_head_pose_female.gif"), 8)]
    cell = 176
    rows = []
    crops = []
    for path, index in shots:
        _, frames = read_clip(f"{path}@{index}:{index + 1}", 480, 1)
        image = frames[0]
        from steadystyle.facedetect import FaceDetector

        face = FaceDetector(20)(image)[0]
        side = int(2.6 * max(face.width, face.height))
        cx, cy = int((face.box[0] + face.box[2]) / 2), int((face.box[1] + face.box[3]) / 2 + 0.15 * side)
        x0, y0 = max(0, min(image.shape[1] - side, cx - side // 2)), max(0, min(image.shape[0] - side, cy - side // 2))
        crops.append((image, Box(y0, y0 + side, x0, x0 + side)))

    def label(tile: np.ndarray, text: str) -> np.ndarray:
        tile = tile.copy()
        cv2.putText(tile, text, (5, cell - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(tile, text, (5, cell - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        return tile

    for style in styles:
        network = make_stylizer(style, backend="onnx")
        row = []
        for image, box in crops:
            stylized = network(image)
            tiles = [(image, "input"), (stylized, f"{style}, face 0"),
                     (FaceDetail(detail)(image, stylized), f"face {detail:g}")]
            row += [label(cv2.resize(t[box.slices()], (cell, cell), interpolation=cv2.INTER_AREA), name)
                    for t, name in tiles]
        rows.append(np.hstack(row))
    sheet = np.vstack(rows)
    cv2.imwrite(out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def gram_only(clips, styles: list[str], details: list[float], paintings: str) -> dict:
    """Gram ratio per style and detail on each clip's middle frame, stylized per frame (no stabilizer:
    a quick check of a detail the full run did not cover)."""
    from steadystyle.train.gramcheck import GramCheck
    from steadystyle.train.vgg import DEFAULT_LAYERS, make_loss_network

    vgg = make_loss_network("vgg19", DEFAULT_LAYERS["vgg19"][1])
    frames = [f[len(f) // 2] for _, f in clips]
    out = {}
    for style in styles:
        meta = read_metadata(style_paths()[style])
        check = GramCheck(Path(paintings) / meta["painting"], meta["settings"]["style_size"], vgg)
        network = make_stylizer(style, backend="onnx")
        stylized = [network(f) for f in frames]
        before = float(np.mean([check.distance(f) for f in frames]))
        out[style] = {str(d): float(np.mean([check.distance(FaceDetail(d, every=1)(f, s))
                                             for f, s in zip(frames, stylized)]) / before) for d in details}
        print(style, out[style], flush=True)
    return out


def evaluate_table(reports: list[str]) -> str:
    """One Markdown row per ``steadystyle evaluate`` report.json (style, face detail) and method:
    the face counts summed over the clips with a face in the input, the rate of those sums, and
    the median over clips of the per-clip landmark distance (× the input's eye distance)."""
    rows = ["| style | face detail | method | MTCNN faces in → out (at the face) | MTCNN rate | "
            "Haar faces in → out (at the face) | Haar rate | landmarks × eye dist (median of clips) |",
            "|" + "---|" * 8]
    for path in reports:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"measure_faces: error: {path}: not a readable evaluate report ({exc})") from None
        style, detail = data["settings"]["style"], data["settings"].get("face_detail", "?")
        for label in data["methods"]:
            cells = []
            marks = []
            for name in ("mtcnn", "haar"):
                got = [c["methods"][label].get("faces", {}).get(name, {}) for c in data["clips"]]
                got = [f for f in got if f.get("available")]
                if not got:
                    cells += ["n/a", "n/a"]
                    continue
                n_in, n_out = sum(f["input_frames"] for f in got), sum(f["output_frames"] for f in got)
                n_at = sum(f["matched_frames"] for f in got)
                cells += [f"{n_in} → {n_out} ({n_at})", f"{n_out / n_in:.2f}" if n_in else "–"]
                marks += [f["landmark_distance"] for f in got if f.get("landmark_distance") is not None]
            lm = f"{float(np.median(marks)):.3f} ({len(marks)} clips)" if marks else "–"
            rows.append(f"| {style} | {detail:g} | {label} | " + " | ".join(cells) + f" | {lm} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", default="../shared/data/videos", help="folder of the development clips")
    parser.add_argument("--clips", default=None, help="comma-separated clip paths (path@start:end for a span)")
    parser.add_argument("--styles", default="all", help="comma-separated shipped styles, or all")
    parser.add_argument("--details", default=f"0,{DEFAULT_FACE_DETAIL}", help="comma-separated face detail values")
    parser.add_argument("--width", type=int, default=480, help="frame width for the whole run (px)")
    parser.add_argument("--max-frames", type=int, default=120, help="frames per clip")
    parser.add_argument("--every", type=int, default=2, help="check every N-th frame with the Haar detector")
    parser.add_argument("--haar-python", default=sys.executable, help="interpreter whose cv2 has CascadeClassifier")
    parser.add_argument("--paintings", default="../shared/data/styles", help="folder of the style paintings (Gram check)")
    parser.add_argument("--no-gram", action="store_true", help="skip the Gram check")
    parser.add_argument("--gram-details", default=None, help="face detail values to run the Gram check on (default: all)")
    parser.add_argument("--timing", action="store_true", help="also time the mask at 320×240 and 640×480")
    parser.add_argument("--out", default="faces.json")
    parser.add_argument("--gallery", default=None, help="only write a before/after gallery (JPEG) of --styles")
    parser.add_argument("--gram-only", action="store_true", help="only the per-frame Gram check of --details")
    parser.add_argument("--evaluate-table", nargs="+", default=None, metavar="REPORT_JSON",
                        help="only print a Markdown table of the face measures in these 'steadystyle evaluate' reports")
    args = parser.parse_args(argv)
    if args.evaluate_table:
        print(evaluate_table(args.evaluate_table))
        return 0
    if args.gallery:
        styles = sorted(style_paths()) if args.styles == "all" else args.styles.split(",")
        gallery(args.gallery, args.videos, styles, float(args.details.split(",")[-1]))
        return 0

    cv2.setNumThreads(1)
    details = [float(d) for d in args.details.split(",")]
    if args.gram_only:
        styles = sorted(style_paths()) if args.styles == "all" else args.styles.split(",")
        clips = [read_clip(c, args.width, args.max_frames)
                 for c in (args.clips.split(",") if args.clips else default_clips(args.videos))]
        write_json({"settings": vars(args), "gram_per_frame": gram_only(clips, styles, details, args.paintings)},
                   args.out)
        return 0
    gram_details = None if args.gram_details is None else {float(d) for d in args.gram_details.split(",")}
    styles = sorted(style_paths()) if args.styles == "all" else args.styles.split(",")
    clips = [read_clip(c, args.width, args.max_frames)
             for c in (args.clips.split(",") if args.clips else default_clips(args.videos))]
    haar = Haar(args.haar_python)
    report: dict = {"settings": {**vars(args), "method": DEFAULT_METHOD, "backend": "onnx",
                                 "haar": f"OpenCV {haar.opencv} haarcascade_frontalface_default.xml, "
                                         "detectMultiScale(grey, 1.1, 5)",
                                 "machine": f"{platform.machine()}, {os.cpu_count()} cores"},
                    "clips": {}, "styles": {}}
    t_start = time.perf_counter()
    inputs = {}
    for name, frames in clips:
        sampled = list(range(0, len(frames), args.every))
        boxes = haar([frames[i] for i in sampled])
        inputs[name] = dict(zip(sampled, boxes))
        report["clips"][name] = {"frames": len(frames), "checked": len(sampled),
                                 "input_faces": sum(1 for b in boxes if b)}
        print(f"{name}: {len(frames)} frames, face in {report['clips'][name]['input_faces']}/{len(sampled)} checked",
              flush=True)

    gram = None
    if not args.no_gram:
        from steadystyle.train.gramcheck import GramCheck
        from steadystyle.train.vgg import DEFAULT_LAYERS, make_loss_network

        vgg = make_loss_network("vgg19", DEFAULT_LAYERS["vgg19"][1])

    for style in styles:
        meta = read_metadata(style_paths()[style])
        if not args.no_gram:
            gram = GramCheck(Path(args.paintings) / meta["painting"], meta["settings"]["style_size"], vgg)
        network = make_stylizer(style, backend="onnx")
        row = {str(d): {"found": 0, "input_faces": 0, "per_clip": {}, "outside_changed": 0.0} for d in details}
        gram_in, gram_out = [], {str(d): [] for d in details}
        for name, frames in clips:
            cached = CachedNetwork(network)
            base = None
            for d in details:
                face = FaceDetail(d)
                processor = RunSpec(style=WithFaceDetail(cached, face), method=DEFAULT_METHOD).processor()
                found = 0
                outs, changed, counted = {}, [], []
                union = np.zeros(frames[0].shape[:2], bool)  # every pixel any face mask touched so far
                for k, image in enumerate(frames):
                    cached.index = k
                    out = processor.process(Frame(image, k / 30.0, k)).output
                    if face.detail > 0:
                        union |= face.mask(image) > 0
                    if k in inputs[name]:
                        outs[k] = out
                        if base is not None and d > 0 and not union.all():
                            changed.append(float(np.any(out != base[k], axis=2)[~union].mean()))
                checked = sorted(outs)
                boxes = haar([outs[k] for k in checked])
                for k, b in zip(checked, boxes):
                    if inputs[name][k]:
                        counted.append(k)
                        found += matched(inputs[name][k], b)
                r = row[str(d)]
                r["found"] += found
                r["input_faces"] += len(counted)
                r["per_clip"][name] = [found, len(counted)]
                if changed:
                    r["outside_changed"] = max(r["outside_changed"], float(np.mean(changed)))
                if gram is not None and (gram_details is None or d in gram_details):
                    mid = checked[len(checked) // 2]
                    if d == details[0]:
                        gram_in.append(gram.distance(frames[mid]))
                    gram_out[str(d)].append(gram.distance(outs[mid]))
                if base is None:
                    base = outs
        for d in details:
            r = row[str(d)]
            r["ratio"] = r["found"] / max(1, r["input_faces"])
            if gram_out[str(d)]:
                r["gram_ratio"] = float(np.mean(gram_out[str(d)]) / np.mean(gram_in))
        report["styles"][style] = row
        summary = "  ".join(f"d={d}: {row[str(d)]['ratio']:.2f}" + (f" (Gram {row[str(d)]['gram_ratio']:.2f})"
                                                                    if "gram_ratio" in row[str(d)] else "") for d in details)
        print(f"{style}: {summary}   [{time.perf_counter() - t_start:.0f} s]", flush=True)
        write_json(report, args.out)  # after every style: a long run that is cut off keeps what it measured
    haar.close()
    if args.timing:
        report["timing"] = timing(clips[0][1])
        print(json.dumps(report["timing"], indent=1))
    report["seconds"] = time.perf_counter() - t_start
    write_json(report, args.out)
    return 0


def write_json(report: dict, path: str) -> None:
    """``report`` to ``path`` through a temporary file and a rename (never half a file)."""
    tmp = Path(path).with_name("." + Path(path).name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
