"""Print pyproject.toml's direct dependencies (runtime and dev), for `make lock`."""

import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
print(" ".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
