"""``steadystyle styles``: the shipped styles, the default one marked."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("styles", help="list the shipped styles")
    p.add_argument("--json", action="store_true", help="print a JSON list (each with \"default\": true/false)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..styles import default_style, list_styles

    styles = list_styles()
    default = default_style() if styles else None
    if args.json:
        print(json.dumps([dict(s, default=s["name"] == default) for s in styles], indent=1))
        return 0
    if not styles:
        print("no shipped styles installed")
        return 0
    print(f"{'name':<24}{'variant':<9}painting")
    for s in styles:
        name = s["name"] + (" (default)" if s["name"] == default else "")
        print(f"{name:<24}{s['variant']:<9}{s['painting']}")
    return 0
