"""Sphinx configuration: the model description (docs/model.md) and an API reference from the numpydoc docstrings.

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

extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
# numpydoc would list every attribute and method again under each class, and
# autodoc already documents them; the "See Also" links stay.
numpydoc_show_class_members = False

html_theme = "alabaster"
html_static_path = []
