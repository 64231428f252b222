"""Result files written safely: never half-written, always strict JSON.

Every result file (JSON, figures, reports) is written to a temporary file in
its own folder and then moved over the target with :func:`os.replace`, so an
interrupted run leaves the previous file or the new one, never a truncated
one.  JSON has no NaN or infinity: non-finite numbers are written as ``null``
and listed, by JSON pointer, under the top-level key ``"non_finite"``;
:func:`read_json` puts them back.  :func:`provenance` says what produced a
file: package, Brian2 and numpy versions and the git commit.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: Top-level key of a JSON result file that lists the values written as null because they were NaN or infinite.
NON_FINITE_KEY = "non_finite"


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on failure it is removed.

    The temporary name keeps ``path``'s suffix, so writers that pick a format
    from it (matplotlib) write the right one.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path, data: dict) -> None:
    """Write ``data`` (numpy values allowed) as strict JSON, atomically.

    NaN and infinities become ``null``; each one's JSON pointer and value
    (``"nan"``, ``"inf"``, ``"-inf"``) is recorded under ``"non_finite"``.
    """
    non_finite = {}

    def plain(value, pointer):
        if isinstance(value, dict):
            return {str(k): plain(v, f"{pointer}/{_escape(str(k))}") for k, v in value.items()}
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            return [plain(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            non_finite[pointer] = str(value)
            return None
        return value

    document = plain(data, "")
    if non_finite:
        document[NON_FINITE_KEY] = non_finite
    write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def read_json(path) -> dict:
    """Read a file written by :func:`write_json`, with its non-finite values restored.

    Raises ``ValueError`` (``json.JSONDecodeError``, ``UnicodeDecodeError``
    among them) when the file is not valid JSON, holds no JSON object, or
    lists non-finite values where its data has none.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, found {type(document).__name__}")
    non_finite = document.pop(NON_FINITE_KEY, {})
    try:
        for pointer, value in non_finite.items():
            *parents, last = [_unescape(step) for step in pointer.split("/")[1:]]
            container = document
            for step in parents:
                container = container[int(step) if isinstance(container, list) else step]
            container[int(last) if isinstance(container, list) else last] = float(value)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as err:
        raise ValueError(f"the {NON_FINITE_KEY!r} record does not match the data ({err!r})") from None
    return document


def _escape(key: str) -> str:
    """``key`` as one step of a JSON pointer (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(step: str) -> str:
    """The key that :func:`_escape` turned into ``step``."""
    return step.replace("~1", "/").replace("~0", "~")


def provenance() -> dict:
    """What produced a result: versions of this package, Brian2 and numpy, the git commit (or None),
    and the OpenMP threads standalone binaries get unless a circuit's spec says otherwise."""
    import brian2

    from . import __version__
    from .circuit import standalone_threads

    return {"package_version": __version__, "brian2_version": brian2.__version__,
            "numpy_version": np.__version__, "git_commit": git_commit(Path(__file__).resolve().parent),
            "standalone_threads": standalone_threads()}


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
