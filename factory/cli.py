"""The ``factory`` command: discovers the subcommands in ``factory.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import factory.commands
from factory.errors import FactoryError

__all__ = ["build_parser", "main"]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``factory`` parser with every subcommand, or only ``command``'s when its module is known.

    A line starts some thirty ``factory`` processes; importing every command
    (the panel's FastAPI, the audit, the QA stage...) cost each about a second
    of CPU, so a process that names its command imports just that module: the
    one named like it (``device-sim`` -> ``device_sim``). Any other argument
    list (``--help``, a command registered by a differently named module, a
    typo) gets the full parser and its messages.
    """
    parser = argparse.ArgumentParser(
        prog="factory",
        description="Controller of a passport and permit production center.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = sorted(info.name for info in pkgutil.iter_modules(factory.commands.__path__))
    module_name = command.replace("-", "_") if command else None
    if module_name in names:
        importlib.import_module(f"factory.commands.{module_name}").register(subparsers)
        if command in subparsers.choices:
            return parser
        return build_parser()
    for name in names:
        importlib.import_module(f"factory.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments and not arguments[0].startswith("-") else None
    args = build_parser(command).parse_args(arguments)
    try:
        return int(args.run(args) or 0)
    except FactoryError as err:
        # Errors that name the field and the reason are the user's to fix: no traceback.
        print(f"factory: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
