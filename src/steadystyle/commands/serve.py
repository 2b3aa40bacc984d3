"""``steadystyle serve``: the painted video call in a browser, over WebRTC."""

from __future__ import annotations

import argparse

from .options import add_run_options, positive_int, run_spec


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
                                   "with style, method, strength, steadiness, face-detail and resolution controls. Loopback by default "
                                   "(the call's ICE then stays on loopback too; on another address, on that "
                                   "interface); browsers give the camera only to https:// or localhost pages, so "
                                   "use --cert/--key to serve other machines.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    p.add_argument("--cert", default=None, help="TLS certificate (PEM) for https")
    p.add_argument("--key", default=None, help="TLS private key (PEM) for https")
    p.add_argument("--styles", default=None, help="comma-separated style names the page offers (default: all shipped)")
    add_run_options(p)  # --style is the style a call starts with; --method etc. the call's start
    p.add_argument("--size", default="320x240", help="the processing size a call starts with (default 320x240)")
    p.add_argument("--ice-peers", choices=("host", "loopback"), default="host",
                   help="serving on loopback, whom a call may talk to: host (default: loopback and this machine's "
                        "own addresses, so a browser here connects and no packet leaves the machine) or loopback "
                        "(127.0.0.0/8 only; browsers then need e.g. chromium --allow-loopback-in-peer-connection)")
    p.add_argument("--max-calls", type=positive_int, default=4, help="calls served at once (default 4)")
    p.add_argument("--study", default=None, metavar="STUDY_DIR",
                   help="also serve the user study prepared in STUDY_DIR at /study")
    p.set_defaults(run=run)


def run(args) -> int:
    import logging

    from ..styles import list_styles, load_style
    from ..web.server import ServerConfig, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    names = [s for s in (args.styles or "").split(",") if s]
    for name in names:
        load_style(name)  # unknown names fail here, in one line
    names = names or [s["name"] for s in list_styles()]
    styles: dict[str, str] = {name: name for name in names}
    spec = run_spec(args)  # no --style: the default style
    if args.style is None:
        if spec.style not in styles and names:
            spec = spec.replace(style=names[0])
    elif args.style not in styles:
        load_style(args.style)  # a model file: checked now, served under its file name
        from pathlib import Path

        styles[Path(args.style).stem or args.style] = args.style
    config = ServerConfig(spec=spec, styles=styles, size=args.size, max_sessions=args.max_calls, host=args.host,
                          ice_peers=args.ice_peers, study_dir=args.study)
    serve(config, port=args.port, cert=args.cert, key=args.key)
    return 0
