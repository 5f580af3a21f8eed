"""The little a store needs from a database connection, so one body of SQL serves both back-ends.

Statements use ``?`` placeholders (the adapter converts them); every driver error comes out as
:class:`~smetsnet.inventory.errors.StoreError`, a duplicate key as
:class:`~smetsnet.inventory.errors.AlreadyExists`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from smetsnet.store.dialect import Dialect

Row = tuple[Any, ...]
Params = Sequence[object]


class Db(Protocol):
    dialect: Dialect

    def one(self, sql: str, params: Params = ()) -> Row | None: ...

    def all(self, sql: str, params: Params = ()) -> list[Row]: ...

    def run(self, sql: str, params: Params = ()) -> int:
        """Execute; the number of rows changed."""
        ...

    def many(self, sql: str, rows: Iterable[Params]) -> None: ...

    def bulk_insert(self, table: str, columns: str, rows: Iterable[Params]) -> None:
        """Many rows into one table, the fastest way the back-end has (inside a transaction)."""
        ...

    def after_bulk_load(self, tables: Iterable[str]) -> None:
        """Housekeeping after a committed bulk load (planner statistics, identity sequences)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing; a block inside another joins it."""
        ...

    def close(self) -> None: ...
