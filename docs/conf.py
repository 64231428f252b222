"""Sphinx configuration: the model description (docs/model.md), the tutorial notebook and an API
reference from the numpydoc docstrings.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors;
``tests/test_docs.py`` runs the same build).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not

import brian_errorcircuits  # noqa: E402  (after the path is set)

project = "brian_errorcircuits"
author = "brian_errorcircuits authors"
release = version = brian_errorcircuits.__version__

# myst_nb parses Markdown (it includes myst_parser) and notebooks; it needs no pandoc, so CI's
# pip-only install builds the docs.
extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc", "myst_nb"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute"]

# The tutorial is committed without outputs and rendered as it is: its code and text. Executing
# it here would make every docs build train a circuit; tests/test_tutorial.py executes it instead.
nb_execution_mode = "off"

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
# numpydoc would list every attribute and method again under each class, and
# autodoc already documents them; the "See Also" links stay.
numpydoc_show_class_members = False

html_theme = "alabaster"
html_static_path = []
