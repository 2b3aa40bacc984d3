"""``steadystyle serve``: the painted video call in a browser, over WebRTC."""

from __future__ import annotations

import argparse


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0–65535 (got {value})")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the painted video call (and the study) to a browser over WebRTC",
                       description="A web page that sends your camera over WebRTC and shows it painted live, "
                                   "with style, method, strength and resolution controls. Loopback by default; "
                                   "browsers give the camera only to https:// or localhost pages, so use "
                                   "--cert/--key to serve other machines.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    p.add_argument("--cert", default=None, help="TLS certificate (PEM) for https")
    p.add_argument("--key", default=None, help="TLS private key (PEM) for https")
    p.add_argument("--styles", default=None, help="comma-separated style names the page offers (default: all shipped)")
    p.add_argument("--style", default=None, help="the style a call starts with")
    p.add_argument("--method", default="frame-diff", help="the method a call starts with (default frame-diff)")
    p.add_argument("--size", default="320x240", help="the processing size a call starts with (default 320x240)")
    p.add_argument("--backend", default="auto", help="auto, torch or onnx (default auto)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--max-calls", type=int, default=4, help="calls served at once (default 4)")
    p.add_argument("--study", default=None, metavar="STUDY_DIR",
                   help="also serve the user study prepared in STUDY_DIR at /study")
    p.set_defaults(run=run)


def run(args) -> int:
    import logging

    from ..errors import SteadyStyleError
    from ..web.server import ServerConfig, serve

    if args.max_calls < 1:
        raise SteadyStyleError("--max-calls must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    styles = [s for s in (args.styles or "").split(",") if s]
    if styles:
        from ..styles import load_style

        for name in styles:
            load_style(name)  # unknown names fail here, in one line
    config = ServerConfig(styles=styles, style=args.style, method=args.method, size=args.size,
                          backend=args.backend, device=args.device, max_sessions=args.max_calls,
                          study_dir=args.study)
    serve(config, host=args.host, port=args.port, cert=args.cert, key=args.key)
    return 0
