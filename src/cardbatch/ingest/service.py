"""The import use case: one file of one kind into the store, every row accounted for.

:func:`import_file` checks the whole file first (size, encoding, header), refuses
content imported before unless forced, then streams chunks: validate, drop
duplicates inside the file, load into the store; rejected rows go to the
rejects file. Everything happens in one database transaction; the rejects file
is published only after it commits, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection

from cardbatch.ingest.columns import COLUMN_SETS, ColumnSet, Kind
from cardbatch.ingest.errors import FieldIssue, RowReject, RowWarning, WholeFileError
from cardbatch.ingest.formats import Chunk, Reader, open_reader
from cardbatch.ingest.loaders.base import LoadContext, Loader
from cardbatch.ingest.loaders.parties import AccountsLoader, CustomersLoader, DepositsLoader
from cardbatch.ingest.loaders.transactions import TransactionsLoader
from cardbatch.ingest.rejects import RejectsWriter
from cardbatch.ingest.settings import IngestSettings
from cardbatch.ingest.validate import INDEX, LINE, validate_chunk
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.ingest_repo import earlier_imports, record_import, sqlite_cache

HASH_BLOCK_BYTES = 1 << 20
HASH_SEED = 20240305
# Keys that must be unique inside one file, checked in this order.
DEDUPE_KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.CUSTOMERS: ("customer_id", "id_number"),
    Kind.ACCOUNTS: ("account_id", "card_number"),
    Kind.DEPOSITS: ("account_id",),
    Kind.TRANSACTIONS: ("txn_id",),
}
LOADERS: dict[Kind, type[CustomersLoader | AccountsLoader | DepositsLoader | TransactionsLoader]]
LOADERS = {
    Kind.CUSTOMERS: CustomersLoader,
    Kind.ACCOUNTS: AccountsLoader,
    Kind.DEPOSITS: DepositsLoader,
    Kind.TRANSACTIONS: TransactionsLoader,
}


@dataclass
class ImportResult:
    """What an import did; ``rows_total == rows_accepted + rows_rejected`` always."""

    file: str
    kind: str
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejects_file: str | None = None
    duplicate_of: int | None = None
    import_id: int | None = None
    refused: bool = False
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_warned: int = 0
    rows_fast: int = 0
    format: str = ""
    encoding: str | None = None
    business_date: str = ""
    content_sha256: str = ""
    rejects: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The documented JSON result (plus counts by outcome)."""
        keys = ("file", "kind", "rows_total", "rows_accepted", "rows_rejected", "rejects_file",
                "duplicate_of", "import_id", "refused", "rows_inserted", "rows_updated",
                "rows_unchanged", "rows_warned", "format", "encoding", "business_date",
                "content_sha256", "rejects", "warnings")  # fmt: skip
        return {key: getattr(self, key) for key in keys}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def import_file(
    target: Store | Connection,
    kind: str,
    path: str | Path,
    *,
    file_format: str = "auto",
    encoding: str = "auto",
    business_date: date | None = None,
    force: bool = False,
    actor: str = "system",
    settings: IngestSettings | None = None,
) -> ImportResult:
    """Import one file. Raises :class:`WholeFileError` when the file cannot be imported at all.

    ``target`` is a store (the import commits on its own) or a connection inside
    the caller's transaction (the caller commits; the rejects file is published
    when this function returns; if it raises, the caller must roll back).
    """
    try:
        columns = COLUMN_SETS[Kind(kind)]
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise WholeFileError("kind", f"unknown kind {kind!r}: use {kinds}") from None
    settings = settings or IngestSettings()
    source = Path(path)
    reader, header = open_reader(source, columns, file_format, encoding, settings)
    job = _Import(columns, reader, header.positions, settings, actor,
                  business_date or utc_now().date(), force)  # fmt: skip
    with _connection(target) as conn:
        result = job.run(conn, file_sha256(source))
    if not result.refused:
        published = job.writer.commit()
        result.rejects_file = str(published) if published else None
    return result


@contextmanager
def _connection(target: Store | Connection) -> Iterator[Connection]:
    if isinstance(target, Store):
        with target.write() as conn:
            yield conn
    else:
        yield target


class _Import:
    """One import in progress: counts, in-file keys seen so far, the rejects writer."""

    def __init__(
        self,
        columns: ColumnSet,
        reader: Reader,
        positions: dict[str, int],
        settings: IngestSettings,
        actor: str,
        business_date: date,
        force: bool,
    ) -> None:
        from cardbatch.ingest.columns import HeaderMap

        self.columns = columns
        self.reader = reader
        self.header = HeaderMap(positions, ())
        self.settings = settings
        self.actor = actor
        self.business_date = business_date
        self.force = force
        self.writer = RejectsWriter(reader, columns)
        self.seen: dict[str, pl.DataFrame] = {}
        self.result = ImportResult(
            file=str(reader.path), kind=columns.kind.value, format=reader.format,
            encoding=reader.encoding, business_date=business_date.isoformat(),
        )  # fmt: skip

    def run(self, conn: Connection, content_sha256: str) -> ImportResult:
        result = self.result
        result.content_sha256 = content_sha256
        earlier = earlier_imports(conn, content_sha256)
        if earlier:
            result.duplicate_of = earlier[0][0]
            if not self.force:
                result.refused = True
                return result
        try:
            with sqlite_cache(conn, self.settings.sqlite_cache_mb):
                self._stream(conn, content_sha256)
        except BaseException:
            self.writer.abort()
            raise
        values = self._record(content_sha256, len(earlier), result.duplicate_of)
        result.import_id = record_import(conn, values)
        audit.record(
            conn, self.actor, f"import.{result.kind}", self.reader.path.name,
            import_id=result.import_id, rows_total=result.rows_total,
            rows_accepted=result.rows_accepted, rows_rejected=result.rows_rejected,
        )  # fmt: skip
        return result

    def _stream(self, conn: Connection, content_sha256: str) -> None:
        present = frozenset(self.header.positions)
        ctx = LoadContext(self.actor, utc_now(), self.business_date, present,
                          run_id=f"import:{content_sha256[:16]}")  # fmt: skip
        loader: Loader = LOADERS[self.columns.kind](conn, ctx)
        for chunk in self.reader.chunks(self.settings.chunk_rows):
            self._chunk(conn, chunk, loader)
        loader.finish(conn)
        if self.result.rows_total == 0:
            raise WholeFileError("empty", f"{self.reader.path.name}: the file has no data rows")

    def _chunk(self, conn: Connection, chunk: Chunk, loader: Loader) -> None:
        checked = validate_chunk(chunk, self.columns, self.header)
        rejects = list(checked.rejects)
        fresh, duplicates = self._dedupe(checked.accepted)
        rejects.extend(duplicates)
        outcome = loader.load(conn, fresh)
        rejects.extend(outcome.rejects)
        for index, reject in sorted(rejects, key=lambda item: item[0]):
            raw = chunk.raws[index] if chunk.raws is not None else None
            ragged = index in chunk.ragged
            self.writer.write(chunk.cells_as_read(index), reject, raw, ragged)
        rejected_lines = {reject.line for _, reject in rejects}
        warnings = [w for w in checked.warnings + outcome.warnings if w.line not in rejected_lines]
        self._count(len(chunk), rejects, warnings, outcome)
        self.result.rows_fast += checked.fast_rows

    def _count(
        self,
        rows: int,
        rejects: list[tuple[int, RowReject]],
        warnings: list[RowWarning],
        outcome: Any,
    ) -> None:
        result = self.result
        result.rows_total += rows
        result.rows_rejected += len(rejects)
        result.rows_inserted += outcome.inserted
        result.rows_updated += outcome.updated
        result.rows_unchanged += outcome.unchanged
        result.rows_accepted = result.rows_inserted + result.rows_updated + result.rows_unchanged
        assert result.rows_total == result.rows_accepted + result.rows_rejected, (
            f"rows lost: {result.rows_total} != {result.rows_accepted} + {result.rows_rejected}"
        )
        result.rows_warned += len(warnings)
        listed_max = self.settings.errors_listed_max
        for _, reject in sorted(rejects, key=lambda item: item[1].line):
            if len(result.rejects) < listed_max:
                result.rejects.append(
                    {"line": reject.line, "field": reject.fields, "reason": reject.codes,
                     "message": reject.message}
                )  # fmt: skip
        for warning in warnings:
            if len(result.warnings) < listed_max:
                issue = warning.issue
                result.warnings.append(
                    {"line": warning.line, "field": issue.field, "reason": issue.code,
                     "message": issue.message}
                )  # fmt: skip

    def _dedupe(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, RowReject]]]:
        """Drop rows whose key an earlier row of the file already had.

        Keys seen so far are kept with a 64-bit hash; a hash hit is only a
        candidate, confirmed by comparing the keys themselves.
        """
        rejects: list[tuple[int, RowReject]] = []
        for key in DEDUPE_KEYS[self.columns.kind]:
            frame = frame.with_columns(pl.col(key).hash(seed=HASH_SEED).alias("_hash"))
            earlier = self.seen.get(key)
            candidate = ~pl.col(key).is_first_distinct()
            if earlier is not None:
                candidate = candidate | pl.col("_hash").is_in(earlier.get_column("_hash").implode())
            candidates = frame.filter(candidate & pl.col(key).is_not_null())
            if candidates.height:
                duplicates = self._duplicates(frame, candidates, key, earlier)
                for index, line, first in duplicates.iter_rows():
                    issue = FieldIssue(key, "duplicate_in_file", f"same {key} as line {first}")
                    rejects.append((index, RowReject(line, (issue,))))
                frame = frame.filter(~pl.col(INDEX).is_in(duplicates.get_column(INDEX).implode()))
            frame = frame.drop("_hash")
        for key in DEDUPE_KEYS[self.columns.kind]:
            new = frame.filter(pl.col(key).is_not_null()).select(
                pl.col(key).hash(seed=HASH_SEED).alias("_hash"), key, pl.col(LINE).alias("_first")
            )
            old = self.seen.get(key)
            self.seen[key] = new if old is None else pl.concat([old, new], rechunk=False)
        return frame, rejects

    @staticmethod
    def _duplicates(
        frame: pl.DataFrame, candidates: pl.DataFrame, key: str, earlier: pl.DataFrame | None
    ) -> pl.DataFrame:
        """(index, line, first line) of the candidates that repeat an earlier row's key."""
        keys = candidates.get_column(key)
        firsts = (
            frame.filter(pl.col(key).is_in(keys.implode()))
            .group_by(key)
            .agg(pl.col(LINE).min().alias("_in_chunk"))
        )
        marked = candidates.join(firsts, on=key, how="left")
        if earlier is not None:
            before = earlier.filter(pl.col("_hash").is_in(candidates.get_column("_hash").implode()))
            before = before.group_by(key).agg(pl.col("_first").min())
            marked = marked.join(before, on=key, how="left")
        else:
            marked = marked.with_columns(pl.lit(None, dtype=pl.Int64).alias("_first"))
        first = pl.coalesce("_first", "_in_chunk")
        return (
            marked.filter(first != pl.col(LINE))
            .select(INDEX, LINE, first.alias("first"))
            .sort(INDEX)
        )

    def _record(self, content_sha256: str, seq: int, duplicate_of: int | None) -> dict[str, Any]:
        result = self.result
        return {
            "kind": result.kind, "file_name": self.reader.path.name[:255],
            "file_format": result.format, "encoding": result.encoding,
            "content_sha256": content_sha256, "duplicate_seq": seq, "duplicate_of": duplicate_of,
            "business_date": self.business_date, "rows_total": result.rows_total,
            "rows_inserted": result.rows_inserted, "rows_updated": result.rows_updated,
            "rows_unchanged": result.rows_unchanged, "rows_rejected": result.rows_rejected,
            "rows_warned": result.rows_warned,
            "rejects_file": str(self.writer.final_path) if self.writer.rows_written else None,
            "actor": self.actor, "created_at": utc_now(),
        }  # fmt: skip
