"""``factory keys``: make the CURVE key pairs of the controller and the stations."""

from __future__ import annotations

import argparse
from pathlib import Path

from factory.pipeline.keys import make_keys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="make CURVE key pairs for the controller and the stations",
        description="Create DIR/controller.key(_secret) if missing, and one key pair per station name "
        "(machine ids such as P01, QA stations, intake clients): the public key in DIR/authorized/, the pair in "
        "DIR/private/NAME.key_secret. The controller accepts only keys in DIR/authorized/; a station must "
        "connect with the key of its own name.",
    )
    parser.add_argument("names", nargs="*", help="station names (e.g. P01 P02 qa1 intake)")
    parser.add_argument("--dir", type=Path, default=Path("keys"), help="key directory (default: keys/)")
    parser.add_argument("--replace", action="store_true", help="make new pairs for existing names (rotation)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    written = make_keys(args.dir, list(args.names), replace=args.replace)
    for path in written:
        print(f"wrote {path}")
    kept = [n for n in args.names if not any(p.stem == n for p in written)]
    if kept:
        print("kept existing keys of " + ", ".join(kept))
    print(f"authorized stations: {', '.join(sorted(p.stem for p in (args.dir / 'authorized').glob('*.key'))) or 'none'}")
    return 0
