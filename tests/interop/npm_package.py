"""Install DCC's ``@smartdcc/gbcs-parser`` once into ``.cache/interop/`` (git-ignored).

``npm install --prefix`` into a folder named after the package spec; a finished install is
marked by a stamp file, so later runs reuse it without the network. ``SMETSNET_GBCS_PARSER_SPEC``
overrides the spec with anything npm installs (a version, a tarball built from the source, a
folder): the cache key then includes the file's size and time so a rebuilt tarball reinstalls.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGE = "@smartdcc/gbcs-parser"
#: The tagged release the test was written against (v0.5.0); override with the variable below.
DEFAULT_SPEC = f"{PACKAGE}@0.5.0"
SPEC_VARIABLE = "SMETSNET_GBCS_PARSER_SPEC"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "interop"
STAMP = ".installed"
INSTALL_TIMEOUT_S = 300


class Unavailable(Exception):
    """Why the parser cannot be run here (the test skips with this reason)."""


def _spec() -> str:
    return os.environ.get(SPEC_VARIABLE, "").strip() or DEFAULT_SPEC


def _cache_key(spec: str) -> str:
    local = Path(spec)
    extra = ""
    if local.exists():  # a tarball or folder: reinstall when it changes
        st = local.stat()
        extra = f"{local.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    digest = hashlib.sha256(f"{spec}|{extra}".encode()).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9.]+', '_', spec)[-40:]}-{digest}"


def installed_version(prefix: Path) -> str:
    """The version npm actually installed under ``prefix``."""
    manifest = prefix / "node_modules" / PACKAGE / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def ensure_installed() -> Path:
    """The ``--prefix`` folder holding the package; raises :class:`Unavailable` if it cannot be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Unavailable("node/npm not found on PATH")
    spec = _spec()
    prefix = CACHE / _cache_key(spec)
    if (prefix / STAMP).is_file():
        return prefix
    CACHE.mkdir(parents=True, exist_ok=True)
    # Install into a fresh folder and rename it into place: an interrupted or concurrent run
    # never leaves a half-installed prefix that looks finished.
    work = Path(tempfile.mkdtemp(prefix="install-", dir=CACHE))
    try:
        (work / "package.json").write_text('{"private": true}\n')
        cmd = [npm, "install", "--prefix", str(work), "--ignore-scripts", "--no-audit"]
        cmd += ["--no-fund", "--omit=dev", "--no-package-lock", spec]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise Unavailable(f"npm install {spec} timed out (no registry?)") from exc
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            tail = " | ".join([x for x in lines if "error" in x][:2] or lines[-2:])
            raise Unavailable(f"npm install {spec} failed: {tail}")
        (work / STAMP).write_text(installed_version(work) + "\n")
        try:
            work.rename(prefix)
        except OSError:
            if not (prefix / STAMP).is_file():  # lost a race to nothing usable
                raise
        return prefix
    finally:
        shutil.rmtree(work, ignore_errors=True)
