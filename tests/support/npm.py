"""Install an npm package once per cache folder for interop tests (real DCC client tools).

Installs go into a fresh folder renamed into place, so an interrupted or concurrent run never
leaves a half-installed prefix that looks finished. Any failure (no npm, no registry, a package
that is not published) raises :class:`NpmUnavailable` with the reason, which the tests turn into a
visible skip.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

STAMP = ".installed"
INSTALL_TIMEOUT_S = 300


class NpmUnavailable(Exception):
    """Why an npm package cannot be installed or run here."""


def npm_install(
    spec: str, prefix: Path, *, stamp_text: Callable[[Path], str] | None = None
) -> Path:
    """``npm install --prefix prefix spec`` unless ``prefix`` already holds a finished install;
    ``stamp_text(work)`` gives what to record in the stamp (default: the spec)."""
    if (prefix / STAMP).is_file():
        return prefix
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise NpmUnavailable("node/npm not found on PATH")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=prefix.parent))
    try:
        (work / "package.json").write_text('{"private": true}\n')
        cmd = [npm, "install", "--prefix", str(work), "--ignore-scripts", "--no-audit"]
        cmd += ["--no-fund", "--omit=dev", "--no-package-lock", spec]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise NpmUnavailable(f"npm install {spec} timed out (no registry?)") from exc
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            tail = " | ".join([x for x in lines if "error" in x][:2] or lines[-2:])
            raise NpmUnavailable(f"npm install {spec} failed: {tail}")
        (work / STAMP).write_text((stamp_text(work) if stamp_text else spec) + "\n")
        try:
            work.rename(prefix)
        except OSError:
            if not (prefix / STAMP).is_file():  # lost a race to nothing usable
                raise
        return prefix
    finally:
        shutil.rmtree(work, ignore_errors=True)
