"""The tool's version, as the pages, the RSMF files and the custody statements name it.

Its own module, so that a writer that names the version does not import the HTML writer
(and jinja2) for it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("webex-space-archive")
except PackageNotFoundError:
    VERSION = "dev"
