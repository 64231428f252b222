"""Command line: ``errorcircuits list`` and ``errorcircuits run NAME [options]``."""
from __future__ import annotations

import argparse
import sys

from .experiments import EXPERIMENTS, get
from .experiments.base import add_common_arguments, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="errorcircuits", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list experiments")
    listing.add_argument("-v", "--verbose", action="store_true", help="show parameters and defaults")
    runner = commands.add_parser("run", help="run an experiment")
    runner.add_argument("name", choices=sorted(EXPERIMENTS))
    add_common_arguments(runner)
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in sorted(EXPERIMENTS):
            module = get(name)
            print(f"{name}: {module.QUESTION}")
            if args.verbose:
                for key, value in module.DEFAULTS.items():
                    print(f"    {key} = {value!r}")
        return 0
    run(args.name, get(args.name), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
