"""A circuit in one file: what :meth:`ErrorCircuit.save` writes and :meth:`ErrorCircuit.load` reads.

The file is a numpy ``.npz`` archive, readable with ``numpy.load`` alone and
without pickle (``allow_pickle=False``):

- ``circuit.json``: JSON text with the file format, the spec
  (:meth:`~brian_errorcircuits.spec.CircuitSpec.as_dict`, Quantities as SI
  values with their unit), the circuit's run count and what wrote it
  (:func:`~brian_errorcircuits.files.provenance`: package, Brian2 and numpy
  versions, git commit);
- one array per value of :class:`~brian_errorcircuits.arrays.CircuitArrays`,
  named by its place (:meth:`~brian_errorcircuits.arrays.CircuitArrays.as_flat`:
  ``weights/0``, ``lateral/2/WIP``, ``neurons/1/P/g_l``, ...).

Arrays are stored bit for bit and JSON floats round-trip exactly, so a loaded
circuit simulates exactly as the saved one would have.
"""
from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .arrays import CircuitArrays
from .files import atomic_path, provenance
from .spec import CircuitSpec, SpecError

#: Version of the file layout; files of another layout are refused.
FORMAT = 1
#: Name of the JSON entry in the archive.
HEADER = "circuit.json"


class VersionWarning(UserWarning):
    """A saved circuit was written by another version of this package or of Brian2."""


def save_circuit(path, spec: CircuitSpec, arrays: CircuitArrays, runs: int) -> Path:
    """Write ``spec``, ``arrays`` and the run count ``runs`` to ``path`` (atomically); returns the path."""
    path = Path(path)
    header = {"format": FORMAT, "spec": spec.as_dict(), "runs": runs, "written_by": provenance()}
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **{HEADER: np.array(json.dumps(header))}, **arrays.as_flat())
    return path


def load_circuit(path) -> tuple:
    """(spec, arrays, runs) from a file of :func:`save_circuit`.

    A file that is not such an archive, or of another format, raises
    :class:`SpecError`; one written by another package or Brian2 version
    warns (:class:`VersionWarning`) and loads.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise SpecError(f"{path}: not a saved circuit ({err})") from None
    if HEADER not in stored:
        raise SpecError(f"{path}: not a saved circuit (no {HEADER!r} entry)")
    header = json.loads(str(stored.pop(HEADER)))
    if header.get("format") != FORMAT:
        raise SpecError(f"{path}: saved circuit format {header.get('format')!r}; this version reads format {FORMAT}")
    written_by, running = header["written_by"], provenance()
    changed = [f"{name} {written_by.get(name)} (now {running[name]})" for name in ("package_version", "brian2_version")
               if written_by.get(name) != running[name]]
    if changed:
        warnings.warn(f"{path} was written with {', '.join(changed)}: results may differ from the saved circuit's",
                      VersionWarning, stacklevel=3)
    spec = CircuitSpec.from_dict(header["spec"])
    return spec, CircuitArrays.from_flat(spec, stored), header["runs"]
