"""Test-wide settings.

The suite compiles many small networks and simulates each briefly, so compiling
dominates its time: generated C++ is compiled without optimisation
(``ERRORCIRCUITS_BUILD=quick``, about 3x less compiler time; the environment
variable reaches the subprocesses that tests start too).  An explicit setting
in the environment wins.
"""
import os

from brian_errorcircuits.circuit import BUILD_ENV

os.environ.setdefault(BUILD_ENV, "quick")
