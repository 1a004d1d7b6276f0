"""The tool's version, as the pages, the RSMF files and the custody statements name it.

The one place it is written: pyproject.toml reads it from here when the package is built
(``[tool.hatch.version]``), so the installed version is this one. A constant, not read from
the installed package's metadata: importing ``importlib.metadata`` and finding the
distribution cost every render 25-70 ms. Its own module, so that a writer that names the
version does not import the HTML writer (and jinja2) for it.
"""

VERSION = "0.1.0"
