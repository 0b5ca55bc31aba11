"""cci-mock as a user gets it: the Dockerfile's wheel build and venv install, run here.

Built once per test session (about 15 s: a wheel, a fresh venv, dependencies from the
package index) and shared by test_docker_path.py and the downstream-project test in
test_plugin.py. The commands are read from the Dockerfile itself, with its container
paths mapped to temporary folders, so the image and the tests cannot drift apart.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    found, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
            pending = ""
    return found


def run_lines() -> list[str]:
    return [rest for keyword, rest in instructions() if keyword == "RUN"]


def env() -> dict[str, str]:
    """ENV key=value pairs of the final stage."""
    values: dict[str, str] = {}
    for keyword, rest in instructions():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def exec_form(keyword: str) -> list[str]:
    """The JSON (exec) form of CMD, or of HEALTHCHECK's CMD."""
    rest = next(r for k, r in instructions() if k == keyword)
    return json.loads(rest[rest.index("["):])


@dataclass(frozen=True)
class Installation:
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: the venv first on PATH, nothing of this checkout."""
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("CCI_MOCK_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
        base["PATH"] = f"{self.bin}{os.pathsep}{base.get('PATH', '')}"
        base.update(extra)
        return base


def _map(command: str, paths: dict[str, str]) -> str:
    for container, local in paths.items():
        command = command.replace(container, local)
    return command


@functools.cache
def installed() -> Installation:
    """Run the Dockerfile's wheel-build and install RUN lines with local paths."""
    work = Path(tempfile.mkdtemp(prefix="cci-mock-install-"))
    atexit.register(shutil.rmtree, work, True)
    build, install = run_lines()[:2]
    python_dir = str(Path(sys.executable).parent)
    paths = {"/dist": str(work / "dist"), "/opt/cci-mock": str(work / "venv")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{python_dir}{os.pathsep}{env.get('PATH', '')}"  # "pip"/"python": this 3.11
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for command in (build, install):
        done = subprocess.run(["bash", "-c", _map(command, paths)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"{command!r} failed:\n{done.stdout}\n{done.stderr}")
    return Installation(work / "venv")
