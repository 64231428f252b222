"""The shipped tables live in the repository's models/ and install as brian_errorcircuits/models."""
import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import find_packages

import brian_errorcircuits
from brian_errorcircuits import connectome

REPOSITORY = Path(brian_errorcircuits.__file__).resolve().parent.parent


def setup_options():
    config = configparser.ConfigParser()
    config.read(REPOSITORY / "setup.cfg")
    return config


def test_setup_cfg_lists_every_package_and_maps_the_tables_into_the_package():
    config = setup_options()
    listed = config["options"]["packages"].split()
    found = find_packages(where=str(REPOSITORY), include=["brian_errorcircuits*"])
    assert sorted(listed) == sorted(found + ["brian_errorcircuits.models"])
    assert config["options"]["package_dir"].split() == ["brian_errorcircuits.models", "=", "models"]
    assert config["options.package_data"]["brian_errorcircuits.models"] == "*.csv"


def test_a_checkout_reads_the_tables_from_the_top_level_models_folder():
    assert connectome._shipped_folder() == REPOSITORY / "models"
    assert not (REPOSITORY / "brian_errorcircuits" / "models").exists()
    assert connectome.shipped_tables() == tuple(sorted(p.stem for p in (REPOSITORY / "models").glob("*.csv")))


def test_an_installed_package_reads_the_tables_it_holds(tmp_path):
    """The layout a wheel installs: the tables inside the package, no repository around it."""
    site = tmp_path / "site-packages"
    shutil.copytree(REPOSITORY / "brian_errorcircuits", site / "brian_errorcircuits",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPOSITORY / "models", site / "brian_errorcircuits" / "models")
    script = ("from brian_errorcircuits import connectome; "
              "print(connectome._shipped_folder(), connectome.load_table('macaque_visual_7areas').areas[-1])")
    shown = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
                           capture_output=True, text=True, check=True).stdout.split()
    assert shown == [str(site / "brian_errorcircuits" / "models"), "DP"]
