"""DCC's DUIS signing tool (``@smartdcc/duis-sign-wrap``'s ``dist/tool.jar``) for interop tests.

The npm package is installed once into ``.cache/duis-sign-wrap/`` (git-ignored); a finished
install is marked by a stamp, so later runs need no network. Each tool call starts a JVM (about
0.5 s with the start-up flags below), so results of ``Sign`` are cached on disk keyed by the
input's SHA-256, the flags and the JAR's own hash: every template is signed once, ever, per tool
version. Calls run in parallel (one per CPU) and share a class-data archive made once.

Tool facts (shared/reference/README.md): ``Sign -`` / ``Validate -`` read stdin and write
stdout; ``--preserveCounter`` keeps the RequestID counter; exit codes 0 ok, 1 environment,
2 application, 3 missing key material, 10 validation failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry
from smetsnet.smki.imports import import_keystore_json
from tests.support.npm import NpmUnavailable, npm_install
from tests.support.vectors import REFERENCE, require_reference

PACKAGE = "@smartdcc/duis-sign-wrap"
#: The release the tests were written against.
SPEC = f"{PACKAGE}@0.1.2"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "duis-sign-wrap"
CALL_TIMEOUT_S = 60
MAIN = "uk.co.smartdcc.boxed.xmldsig."
# The tool runs for well under a second: a tiered-1 JIT and serial GC halve its start-up.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")

EXIT_OK, EXIT_ENVIRONMENT, EXIT_APPLICATION, EXIT_NO_KEY, EXIT_INVALID = 0, 1, 2, 3, 10


#: Why the tool cannot run here (the interop tests skip with this reason).
Unavailable = NpmUnavailable


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: str


@cache
def jar() -> Path:
    """The installed ``tool.jar``; raises :class:`Unavailable` when node/npm/java are missing
    or the install fails."""
    java, npm = shutil.which("java"), shutil.which("npm")
    if java is None:
        raise Unavailable("java not found on PATH (the signing tool is a JAR)")
    if npm is None or shutil.which("node") is None:
        raise Unavailable("node/npm not found on PATH")
    prefix = npm_install(SPEC, CACHE / "install")
    path = prefix / "node_modules" / PACKAGE / "dist" / "tool.jar"
    if not path.is_file():
        raise Unavailable(f"{SPEC} installed but has no dist/tool.jar")
    return path


@cache
def _jar_digest() -> str:
    return hashlib.sha256(jar().read_bytes()).hexdigest()[:16]


def _archive() -> Path:
    """A class-data-sharing archive of the tool's classes: it cuts each JVM start by a third."""
    return CACHE / f"tool-{_jar_digest()}.jsa"


def _make_archive(xml: bytes) -> None:
    """Record the archive from one real ``Sign`` run (once; before parallel calls start)."""
    if _archive().is_file():
        return
    partial = _archive().with_name(f".{_archive().name}.{os.getpid()}")
    flags = (*JVM_FLAGS, f"-XX:ArchiveClassesAtExit={partial}")
    cmd = ["java", *flags, "-cp", str(jar()), MAIN + "Sign", "--preserveCounter", "-"]
    subprocess.run(cmd, input=xml, capture_output=True, timeout=CALL_TIMEOUT_S, check=False)
    if partial.is_file():
        partial.replace(_archive())


def run_tool(command: str, xml: bytes, *args: str) -> ToolResult:
    """One call of ``Sign`` or ``Validate`` on ``xml`` (stdin), uncached."""
    flags = list(JVM_FLAGS)
    if _archive().is_file():  # -Xshare:auto: an unusable archive is ignored, not an error
        flags.append(f"-XX:SharedArchiveFile={_archive()}")
    cmd = ["java", *flags, "-cp", str(jar()), MAIN + command, *args, "-"]
    try:
        done = subprocess.run(cmd, input=xml, capture_output=True, timeout=CALL_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"{command} took over {CALL_TIMEOUT_S} s") from exc
    return ToolResult(
        returncode=done.returncode, stdout=done.stdout, stderr=done.stderr.decode(errors="replace")
    )


def sign(xml: bytes, *, preserve_counter: bool = True) -> ToolResult:
    """``Sign`` with the tool's key for the RequestID's originator, cached by content."""
    args = ("--preserveCounter",) if preserve_counter else ()
    if not preserve_counter:  # a fresh epoch-millisecond counter each time: never cached
        return run_tool("Sign", xml, *args)
    key = hashlib.sha256(xml + b"|" + " ".join(args).encode()).hexdigest()
    folder = CACHE / "signed" / _jar_digest()
    meta, body = folder / f"{key}.json", folder / f"{key}.xml"
    if meta.is_file() and body.is_file():
        saved = json.loads(meta.read_text())
        return ToolResult(
            returncode=saved["returncode"], stdout=body.read_bytes(), stderr=saved["stderr"]
        )
    result = run_tool("Sign", xml, *args)
    if result.returncode in (EXIT_OK, EXIT_NO_KEY):  # answers about the input, not the machine
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(body, result.stdout)
        _write_atomic(
            meta, json.dumps({"returncode": result.returncode, "stderr": result.stderr}).encode()
        )
    return result


def _write_atomic(path: Path, data: bytes) -> None:
    # A unique partial name per call: threads of one process may sign identical documents (two
    # templates with the same content) and must not rename each other's partial file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    partial.write_bytes(data)
    partial.replace(path)


def validate(xml: bytes) -> ToolResult:
    """``Validate``: XSD + signature by any key the tool knows (never cached)."""
    return run_tool("Validate", xml)


def sign_all(documents: Sequence[bytes]) -> list[ToolResult]:
    """:func:`sign` (counter preserved) over many documents, a JVM per CPU at a time."""
    jar()  # install once, before the threads start
    if documents:
        _make_archive(documents[0])
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(sign, documents))


def validate_all(documents: Sequence[bytes]) -> list[ToolResult]:
    jar()
    if documents:
        _make_archive(documents[0])
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(validate, documents))


# --- the reference material the interop tests sign and check ---------------------------------
TEMPLATES = REFERENCE / "duis" / "templates"
KEYSTORE_JSON = REFERENCE / "duis" / "keystore" / "keystore.json"
#: Originator of the two templates the tool cannot sign: the load controller has no XML-signing
#: key in the tool (exit 3), DOMAIN.md "Templates and their signers".
LOAD_CONTROLLER = bytes.fromhex("90B3D51F30010008")
_REQUEST_ID = re.compile(rb"<sr:RequestID>([0-9A-F-]{23}):")


def templates() -> list[Path]:
    return sorted(require_reference(TEMPLATES).glob("*.XML"))


def originator(xml: bytes) -> bytes:
    """The originator EUI of a request's RequestID (a regex: these helpers do not parse DUIS)."""
    match = _REQUEST_ID.search(xml)
    assert match is not None, "no RequestID"
    return bytes.fromhex(match.group(1).decode().replace("-", ""))


def reference_bundle() -> CertificateBundle:
    """keystore.json as pinned test material (mdr-ds/mdr-ka are refused by ``cryptography``)."""
    data = (require_reference(KEYSTORE_JSON.parent) / KEYSTORE_JSON.name).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two mdr certificates' deprecation warning
        bundle, _report = import_keystore_json(data, at=datetime(2024, 6, 1, tzinfo=UTC))
    return bundle


def xml_signer(bundle: CertificateBundle, eui: bytes) -> CertificateEntry:
    """The key a user signs DUIS with: its XML-signing one, else (the second supplier, which has
    none) its GBCS digital-signing one, as the tool does for GCS16b."""
    entry = bundle.xml_signing(eui) or bundle.current(eui, KeyUsage.DIGITAL_SIGNATURE)
    assert entry is not None and entry.private_key is not None and entry.certificate is not None
    return entry
