"""The documentation builds: docs/model.md, the tutorial and the API reference, with Sphinx's warnings as errors."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BUILD_TOOLS = ("sphinx", "numpydoc", "myst_nb")


@pytest.mark.skipif(any(importlib.util.find_spec(name) is None for name in BUILD_TOOLS),
                    reason="the docs build needs sphinx, numpydoc and myst-nb "
                           "(pip install -e '.[docs]'; the test extra includes them)")
def test_sphinx_build_passes_with_warnings_as_errors(tmp_path):
    """A fresh HTML build (-E: no cached environment) in a subprocess, so that Sphinx's imports
    of the package leave this process alone; every warning is reported (--keep-going) and fails it.
    The tutorial notebook is a page of its own, every code cell shown (not executed: test_tutorial runs it)."""
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", str(DOCS),
         str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    pages = {path.relative_to(tmp_path / "html").as_posix() for path in (tmp_path / "html").rglob("*.html")}
    assert {"index.html", "model.html", "tutorial.html", "api/index.html", "api/circuit.html"} <= pages
    notebook = json.loads((DOCS / "tutorial.ipynb").read_text())
    code_cells = sum(cell["cell_type"] == "code" for cell in notebook["cells"])
    tutorial = (tmp_path / "html" / "tutorial.html").read_text()
    assert tutorial.count('class="cell_input') == code_cells > 0
    assert 'href="tutorial.html"' in (tmp_path / "html" / "index.html").read_text()
