"""ERRORCIRCUITS_BUILD: quick builds compile with -O0 into a cache of their own, for one session only."""
import brian2 as b2
import pytest

from brian_errorcircuits import CircuitSpec, SpecError
from brian_errorcircuits.circuit import BUILD_ENV, brian_session

SPEC = CircuitSpec(layers=(2, 2), mode="rate", target="cython")


def optimisation_flags():
    return [flag for flag in b2.prefs["codegen.cpp.extra_compile_args_gcc"] if flag.startswith("-O")]


def test_quick_build_compiles_unoptimised_into_its_own_cache_and_restores_the_preferences(monkeypatch):
    monkeypatch.setenv(BUILD_ENV, "quick")
    before = (list(b2.prefs["codegen.cpp.extra_compile_args_gcc"]), b2.prefs["codegen.runtime.cython.cache_dir"])
    with brian_session(SPEC, 0):
        assert optimisation_flags() == ["-O0"]
        assert b2.prefs["codegen.runtime.cython.cache_dir"].endswith("brian_extensions_quick")
    assert (b2.prefs["codegen.cpp.extra_compile_args_gcc"], b2.prefs["codegen.runtime.cython.cache_dir"]) == before


def test_optimised_build_keeps_brians_flags(monkeypatch):
    monkeypatch.setenv(BUILD_ENV, "optimised")
    before = optimisation_flags()
    with brian_session(SPEC, 0):
        assert optimisation_flags() == before == ["-O3"]
        assert b2.prefs["codegen.runtime.cython.cache_dir"] is None


def test_unknown_build_setting_is_refused_before_anything_compiles(monkeypatch):
    monkeypatch.setenv(BUILD_ENV, "fast")
    with pytest.raises(SpecError, match="ERRORCIRCUITS_BUILD='fast'"):
        with brian_session(SPEC, 0):
            pass
