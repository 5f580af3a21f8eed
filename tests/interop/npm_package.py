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
from pathlib import Path

from tests.support.npm import NpmUnavailable, npm_install

PACKAGE = "@smartdcc/gbcs-parser"
#: The tagged release the test was written against (v0.5.0); override with the variable below.
DEFAULT_SPEC = f"{PACKAGE}@0.5.0"
SPEC_VARIABLE = "SMETSNET_GBCS_PARSER_SPEC"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "interop"


#: Why the parser cannot be run here (the test skips with this reason).
Unavailable = NpmUnavailable


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
    spec = _spec()
    return npm_install(spec, CACHE / _cache_key(spec), stamp_text=installed_version)
