"""XSD validation of DUIS documents against a schema folder given by the caller.

The DUIS schema imports its MMC schema by a file name with spaces (``MMC Schema V5.4.xsd``), which
libxml2 fails to resolve from a plain path; the import's ``schemaLocation`` is percent-encoded and
the document given a base URL of the folder, so the import resolves (reference/README.md). The
schema is read from the caller's folder: nothing is bundled and nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from lxml import etree

from smetsnet.duis.errors import DuisSchemaError
from smetsnet.duis.xml import parse_xml


class DuisSchema:
    """A compiled ``DUIS Schema V<version>.xsd``; ``validate`` raises :class:`DuisSchemaError`."""

    def __init__(self, folder: Path, version: str = "5.4") -> None:
        main = folder / f"DUIS Schema V{version}.xsd"
        mmc = f"MMC Schema V{version}.xsd"
        text = main.read_bytes().replace(
            f'schemaLocation="{mmc}"'.encode(), f'schemaLocation="{quote(mmc)}"'.encode()
        )
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        doc = etree.fromstring(text, parser, base_url=folder.resolve().as_uri() + "/")
        self.version = version
        self._schema = etree.XMLSchema(doc)

    def errors(self, document: etree._Element | bytes) -> list[str]:
        """Every XSD error of the document ("line N: message"), empty when it is valid."""
        root = parse_xml(document) if isinstance(document, bytes) else document
        if self._schema.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in self._schema.error_log]

    def validate(self, document: etree._Element | bytes) -> None:
        found = self.errors(document)
        if found:
            raise DuisSchemaError(f"not valid against DUIS V{self.version}: {found[0]}")
