"""Experiments: one module per scientific question, found by name.

Each module defines ``QUESTION`` (one line), ``DEFAULTS`` (parameter ->
default; units are part of the name, e.g. ``duration_ms``) and
``run(params, out_dir) -> summary``, and optionally ``check(params)``, which
raises ``SpecError`` for values the experiment cannot run before its output
folder is touched.  A module whose runs are a sweep (:mod:`brian_errorcircuits.sweep`)
sets ``SWEEPS = True`` and takes ``run(params, out_dir, cluster=Cluster(...))``
(``--scheduler`` / ``--workers``).  :func:`brian_errorcircuits.experiments.base.main`
gives each one the same command line, output folder and ``summary.json``.
"""
from importlib import import_module

EXPERIMENTS = {
    "teacher-student": "brian_errorcircuits.experiments.teacher_student",
    "visual-cortex": "brian_errorcircuits.experiments.visual_cortex",
    "depth-scaling": "brian_errorcircuits.experiments.depth_scaling",
    "predictions": "brian_errorcircuits.experiments.predictions",
    "cartpole": "brian_errorcircuits.experiments.cartpole",
    "yinyang": "brian_errorcircuits.experiments.yinyang",
    "dms": "brian_errorcircuits.experiments.dms",
    "mean-field": "brian_errorcircuits.experiments.mean_field",
    "spike-statistics": "brian_errorcircuits.experiments.spike_statistics",
    "populations": "brian_errorcircuits.experiments.populations",
    "heterogeneity": "brian_errorcircuits.experiments.heterogeneity",
}


def get(name: str):
    """The module of experiment ``name`` (a KeyError lists the known names)."""
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    return import_module(EXPERIMENTS[name])
