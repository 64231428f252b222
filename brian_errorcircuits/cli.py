"""Command line: ``errorcircuits list`` and ``errorcircuits run NAME [options]``."""
from __future__ import annotations

import argparse
import sys

from .circuit import DivergenceError
from .connectome import TableError
from .experiments import EXPERIMENTS, get
from .experiments.base import INCOMPLETE, add_common_arguments, run
from .spec import SpecError
from .sweep import SweepError

#: Exit status of a run refused for bad parameters or a bad table (as argparse's usage errors).
USAGE_ERROR = 2

#: Exit status of a sweep some of whose runs failed (the others are saved).
RUN_FAILED = 1

#: Exit status of a run ended by Ctrl-C (the shell's 128 + SIGINT).
INTERRUPTED = 130

#: What to do about each kind of error a user can fix, printed under its message (the first that matches).
HINTS = {
    DivergenceError: "lower the learning rates (--set eta_hz=...) or the time step (dt_ms)",
    SpecError: "`errorcircuits list -v` shows every parameter and its default",
    TableError: "a table is a comma-separated UTF-8 file: `#` comment lines, a header row of area "
                "names, one row per source area (README: projection tables)",
}


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
    try:
        run(args.name, get(args.name), args)
    except tuple(HINTS) as err:
        if args.debug:
            raise
        hint = next(text for kind, text in HINTS.items() if isinstance(err, kind))
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        print(f"hint: {hint}; --debug shows the traceback", file=sys.stderr)
        return USAGE_ERROR
    except SweepError as err:
        print(f"error: {err}", file=sys.stderr)
        print(f"hint: rerun the same command: it reuses the saved runs and tries the failed ones again; "
              f"the folder stays marked incomplete (file {INCOMPLETE})", file=sys.stderr)
        return RUN_FAILED
    except KeyboardInterrupt:
        print(f"interrupted: the output folder stays marked incomplete (file {INCOMPLETE}); run again to finish it",
              file=sys.stderr)
        return INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
