"""The project's own commands: every make target is real and listed, and the locks pin
exactly what pyproject.toml asks for (production's lock without the dev tools)."""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _phony_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    (line,) = re.findall(r"^\.PHONY:(.*)$", makefile, re.M)
    return set(line.split())


def _rules() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


def test_every_declared_make_target_has_a_rule():
    assert _phony_targets() <= _rules()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target():
    listed = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    shown = {line.split()[1] for line in listed.splitlines() if line.startswith("make ")}
    assert shown == _phony_targets()


def test_the_locks_pin_what_pyproject_asks_for():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins(ROOT / "requirements.lock")
    dev_lines = (ROOT / "requirements-dev.lock").read_text().splitlines()
    assert dev_lines[0] == "-r requirements.lock"
    dev = _pins(ROOT / "requirements-dev.lock")
    for requirement in project["dependencies"]:
        name, version = requirement.split("==")
        assert runtime[re.sub(r"\[.*\]", "", name).lower()] == version, requirement
    for requirement in project["optional-dependencies"]["dev"]:
        name, version = requirement.split("==")
        assert dev[name.lower()] == version, requirement
    # Production installs no test or lint tool, and no package is pinned twice.
    assert not set(dev) & set(runtime)
    assert "pytest" not in runtime and "mypy" not in runtime
