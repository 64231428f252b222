"""What every experiment shares: parameters from the command line, output folder, summary."""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import time
from pathlib import Path

from ..files import write_json

#: Defaults every spiking training experiment shares: learning rate, timing, error-neuron gain.
SPIKING_TRAINING = {
    "eta_hz": 5.0,
    "duration_ms": 200.0,
    "settle_ms": 50.0,
    "dt_ms": 0.25,
    "error_rate_hz": 400.0,
}


def lr_factor(params: dict, epoch: int) -> float:
    """Learning-rate factor of training epoch ``epoch`` (1, 2, ...): 1 / (1 + lr_decay (epoch - 1)).

    Annealing shrinks the noise that online updates from spiking error
    signals leave in the weights; ``lr_decay`` = 0 keeps the rate constant.
    """
    if params["lr_decay"] < 0:
        raise SystemExit(f"lr_decay={params['lr_decay']}: must be >= 0")
    return 1.0 / (1.0 + params["lr_decay"] * (epoch - 1))


def presentation_timing(params: dict, prefix: str = "") -> dict:
    """``duration`` and ``settle`` of every presentation, from ``<prefix>duration_ms`` /
    ``<prefix>settle_ms`` (e.g. ``prefix="test_"`` for a test run with presentations of its own)."""
    import brian2 as b2

    return dict(duration=params[f"{prefix}duration_ms"] * b2.ms, settle=params[f"{prefix}settle_ms"] * b2.ms)


def parse_value(key: str, text: str, default):
    """Convert ``text`` to the type of ``default`` (tuples of ints as ``4,10,2``)."""
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, tuple):
            return tuple(type(default[0])(v) for v in text.split(",") if v.strip())
        return type(default)(text)
    except ValueError:
        raise SystemExit(f"--set {key}={text}: expected a value like {default!r}") from None


def parameters(defaults: dict, overrides: list[str] = (), **named) -> dict:
    """Defaults updated by ``key=value`` strings and keyword values; unknown keys are refused."""
    params = dict(defaults)
    for item in overrides:
        if "=" not in item:
            raise SystemExit(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        if key not in defaults:
            raise SystemExit(f"--set {key}: unknown parameter; known: {', '.join(sorted(defaults))}")
        params[key] = parse_value(key, text, defaults[key])
    for key, value in named.items():
        if value is not None:
            if key not in defaults:
                raise SystemExit(f"--{key} does not apply to this experiment")
            params[key] = value
    return params


def output_dir(name: str, params: dict, out: str | None = None) -> Path:
    """``out`` or ``results/<name>-<hash of params>``, created."""
    if out is None:
        digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
        out = Path("results") / f"{name}-{digest}"
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path


def provenance() -> dict:
    """What produced a result: versions of this package, Brian2 and numpy, and the git commit (or None)."""
    import brian2
    import numpy

    from .. import __version__

    return {"package_version": __version__, "brian2_version": brian2.__version__,
            "numpy_version": numpy.__version__, "git_commit": git_commit(Path(__file__).resolve().parent)}


def git_commit(folder: Path) -> str | None:
    """HEAD of the git checkout whose tracked files include ``folder``; None when there is none.

    An installed copy of the package (not tracked, even inside some
    repository's virtual environment) and a machine without git give None.
    """
    def git(*arguments):
        return subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=True)

    try:
        git("ls-files", "--error-unmatch", ".")
        return git("rev-parse", "HEAD").stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def argument_parser(name: str, module) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"errorcircuits run {name}", description=module.QUESTION)
    add_common_arguments(parser)
    return parser


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="output folder (default: results/<name>-<hash>)")
    parser.add_argument("--seed", type=int, help="random seed (data, weights, spikes)")
    parser.add_argument("--mode", choices=("rate", "spiking"))
    parser.add_argument("--target", choices=("cython", "numpy", "cpp_standalone"),
                        help="Brian2 code generation target")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter (repeatable); see `errorcircuits list -v`")


def run(name: str, module, args) -> dict:
    """Run experiment ``module`` with parsed ``args``: params.json, summary.json, figures."""
    params = parameters(module.DEFAULTS, args.overrides, seed=args.seed, mode=args.mode, target=args.target)
    out = output_dir(name, params, args.out)
    write_json(out / "params.json", {**params, **provenance()})
    print(f"{name}: {module.QUESTION}\n  output: {out}", flush=True)
    start = time.perf_counter()
    summary = module.run(params, out)
    summary.setdefault("wall_time_s", time.perf_counter() - start)
    write_json(out / "summary.json", summary)
    print(f"  summary: {out / 'summary.json'}", flush=True)
    return summary


def main(name: str, argv=None) -> dict:
    """Command line of one experiment script."""
    from . import get

    module = get(name)
    args = argument_parser(name, module).parse_args(argv)
    return run(name, module, args)
