"""Test-wide settings.

The suite compiles many small networks and simulates each briefly, so compiling
dominates its time: generated C++ is compiled without optimisation
(``ERRORCIRCUITS_BUILD=quick``, about 3x less compiler time; the environment
variable reaches the subprocesses that tests start too).  Test files are
spread over one pytest-xdist worker per core (``-n auto --dist loadfile`` in
setup.cfg), so each worker's ``cpp_standalone`` builds run ``make -j1``
instead of one job per core.  An explicit setting in the environment wins.
"""
import os

from brian_errorcircuits.circuit import BUILD_ENV, COMPILE_JOBS_ENV

os.environ.setdefault(BUILD_ENV, "quick")
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault(COMPILE_JOBS_ENV, "1")
