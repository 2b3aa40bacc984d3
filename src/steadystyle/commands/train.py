"""``steadystyle train``: a style network from a painting (perceptual loss, optional temporal loss)."""

from __future__ import annotations

import sys
from pathlib import Path

from .options import non_negative_float as _non_negative_float
from .options import positive_int as _positive_int


def add_parser(sub) -> None:
    t = sub.add_parser("train", help="train a style network from a painting")
    t.add_argument("--style-image", required=True, type=Path)
    t.add_argument("--content", required=True, nargs="+", type=Path, help="folders of content photos")
    t.add_argument("-o", "--output", required=True, type=Path, help="MODEL.safetensors")
    t.add_argument("--name", default=None)
    t.add_argument("--variant", choices=("full", "light"), default="light")
    t.add_argument("--image-size", type=_positive_int, default=128)
    t.add_argument("--style-size", type=_positive_int, default=256)
    t.add_argument("--batch-size", type=_positive_int, default=4)
    t.add_argument("--iterations", type=_positive_int, default=2000)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--content-weight", type=_non_negative_float, default=None)
    t.add_argument("--style-weight", type=_non_negative_float, default=None)
    t.add_argument("--tv-weight", type=_non_negative_float, default=None)
    t.add_argument("--loss-network", choices=("vgg19", "vgg16"), default="vgg19")
    t.add_argument("--vgg-weights", default=None, help="loss-network weights file (vgg16: torchvision .pth, or 'download')")
    t.add_argument("--temporal", choices=("none", "c-fdb", "p-fdb"), default="none", help="frame-difference temporal loss")
    t.add_argument("--temporal-pixel-weight", type=_non_negative_float, default=None)
    t.add_argument("--temporal-feature-weight", type=_non_negative_float, default=None)
    t.add_argument("--video-frames", nargs="*", type=Path, default=[], help="folders of consecutive video frames")
    t.add_argument("--init", type=Path, default=None, help="start from a trained model (temporal fine-tuning)")
    t.add_argument("--checkpoint-every", type=_positive_int, default=100)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--threads", type=_positive_int, default=None)
    t.add_argument("--amp", action="store_true", help="bfloat16 autocast on the CPU (always on for CUDA)")
    t.add_argument("--resume", action="store_true", help="continue from MODEL.ckpt.pt if it exists")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=run)


def run(args) -> int:
    from ..train.trainer import TrainConfig, train

    config = TrainConfig(style_image=args.style_image, content=args.content, output=args.output, name=args.name,
                         variant=args.variant, image_size=args.image_size, style_size=args.style_size,
                         batch_size=args.batch_size, iterations=args.iterations, lr=args.lr,
                         loss_network=args.loss_network, vgg_weights=args.vgg_weights, temporal=args.temporal,
                         temporal_pixel_weight=args.temporal_pixel_weight, video_frames=args.video_frames,
                         init=args.init, checkpoint_every=args.checkpoint_every, seed=args.seed, device=args.device,
                         threads=args.threads, amp=args.amp, resume=args.resume, progress=not args.quiet)
    for key in ("content_weight", "style_weight", "tv_weight", "temporal_feature_weight"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    try:
        path = train(config)
    except KeyboardInterrupt as exc:
        from ..train.trainer import interrupted_report

        print(interrupted_report(config, getattr(args, "argv", None), getattr(exc, "iteration", None)), file=sys.stderr)
        return 128 + int(getattr(exc, "signum", 2))
    print(f"wrote {path}")
    return 0
