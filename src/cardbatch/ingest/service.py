"""The import use case: one file of one kind into the store, every row accounted for.

:func:`import_file` checks the whole file first (size, encoding, header), refuses
content imported before unless forced, then streams chunks: validate, drop
duplicates inside the file, load into the store; rejected rows go to the
rejects file. Everything happens in one database transaction; the rejects file
is published only after it commits, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
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
from cardbatch.ingest.validate import INDEX, LINE, ChunkResult, validate_chunk
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.ingest_repo import earlier_imports, record_import, sqlite_cache

HASH_BLOCK_BYTES = 1 << 20
HASH_SEED = 20240305
# In-file duplicate check: a row accepted, waiting for an earlier row of its chunk,
# or (0, 1, ...) rejected for the key of that number in DEDUPE_KEYS.
_ACCEPT, _WAIT = -1, -2
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
        try:
            with closing(self._validated()) as chunks:  # closed at once if a chunk fails
                for chunk, checked in chunks:
                    self._chunk(conn, chunk, checked, loader)
            loader.finish(conn)
        except BaseException as error:
            loader.abort(error)
            raise
        if self.result.rows_total == 0:
            raise WholeFileError("empty", f"{self.reader.path.name}: the file has no data rows")

    def _validated(self) -> Generator[tuple[Chunk, ChunkResult], None, None]:
        """The file's chunks, each read and validated one chunk ahead on a worker thread.

        Reading and validating touch no store, so chunk N+1 is prepared while
        chunk N is deduplicated and written; at most two chunks are in memory.
        """
        chunks = self.reader.chunks(self.settings.chunk_rows)

        def step() -> tuple[Chunk, ChunkResult] | None:
            chunk = next(chunks, None)
            if chunk is None:
                return None
            return chunk, validate_chunk(chunk, self.columns, self.header)

        with ThreadPoolExecutor(1, thread_name_prefix="import-validate") as pool:
            ahead = pool.submit(step)
            while (item := ahead.result()) is not None:
                ahead = pool.submit(step)
                yield item

    def _chunk(self, conn: Connection, chunk: Chunk, checked: ChunkResult, loader: Loader) -> None:
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

        The rule, row by row in file order: a row is rejected when one of its keys
        (checked in ``DEDUPE_KEYS`` order, the first that repeats is named) is held
        by an earlier row that this check accepted; otherwise it is accepted and
        holds its keys. Vectorised, a row is decided at once when no earlier row
        of the chunk shares a key with it (accepted, or rejected by a key held from
        an earlier chunk); only rows that share a key with an earlier row of the
        same chunk go through the rule in Python. Keys of earlier chunks are kept
        with a 64-bit hash; a hash hit is confirmed by comparing the keys.
        """
        keys = DEDUPE_KEYS[self.columns.kind]
        frame = frame.with_columns(
            *(self._held_before(frame, key).alias(f"_held:{key}") for key in keys),
            *((pl.col(key).is_not_null() & ~pl.col(key).is_first_distinct()).alias(f"_wait:{key}")
              for key in keys),
        )  # fmt: skip
        decision: Any = pl
        for number, key in enumerate(keys):
            decision = decision.when(pl.col(f"_held:{key}").is_not_null()).then(pl.lit(number))
            decision = decision.when(pl.col(f"_wait:{key}")).then(pl.lit(_WAIT))
        frame = frame.with_columns(decision.otherwise(pl.lit(_ACCEPT)).alias("_decision"))
        rejects: list[tuple[int, RowReject]] = []
        for number, key in enumerate(keys):
            for index, line, first in (
                frame.filter(pl.col("_decision") == number)
                .select(INDEX, LINE, f"_held:{key}")
                .iter_rows()
            ):
                issue = FieldIssue(key, "duplicate_in_file", f"same {key} as line {first}")
                rejects.append((index, RowReject(line, (issue,))))
        accepted = frame.filter(pl.col("_decision") == _ACCEPT)
        waiting = frame.filter(pl.col("_decision") == _WAIT)
        if waiting.height:
            accepted = pl.concat([accepted, self._sequential(accepted, waiting, keys, rejects)])
            accepted = accepted.sort(INDEX)
        accepted = accepted.drop("_decision", *(f"_{part}:{key}" for part in ("held", "wait")
                                                for key in keys))  # fmt: skip
        for key in keys:
            new = accepted.filter(pl.col(key).is_not_null()).select(
                pl.col(key).hash(seed=HASH_SEED).alias("_hash"), key, pl.col(LINE).alias("_first")
            )
            old = self.seen.get(key)
            self.seen[key] = new if old is None else pl.concat([old, new], rechunk=False)
        return accepted, rejects

    def _held_before(self, frame: pl.DataFrame, key: str) -> pl.Expr:
        """Per row, the line of an earlier chunk's accepted row with the same key (or null)."""
        earlier = self.seen.get(key)
        if earlier is None:
            return pl.lit(None, dtype=pl.Int64)
        hashes = frame.get_column(key).hash(seed=HASH_SEED)
        hits = earlier.filter(pl.col("_hash").is_in(hashes.implode()))
        if hits.height == 0:
            return pl.lit(None, dtype=pl.Int64)
        held = dict(hits.select(key, "_first").iter_rows())
        return pl.col(key).replace_strict(held, default=None, return_dtype=pl.Int64)

    @staticmethod
    def _sequential(
        accepted: pl.DataFrame,
        waiting: pl.DataFrame,
        keys: tuple[str, ...],
        rejects: list[tuple[int, RowReject]],
    ) -> pl.DataFrame:
        """The rule in file order for rows sharing a key with an earlier row of the chunk.

        Rows decided at once never share a key with a later waiting row's earlier
        rows that are still undecided, so the keys held by accepted rows of the
        chunk (limited to the waiting rows' values) are all this needs.
        """
        held: dict[str, dict[Any, int]] = {}
        for key in keys:
            values = waiting.get_column(key).drop_nulls().implode()
            found = accepted.filter(pl.col(key).is_in(values)).select(key, LINE)
            held[key] = dict(found.iter_rows())
        kept: list[int] = []
        for row in waiting.iter_rows(named=True):
            for key in keys:
                value = row[key]
                first = row[f"_held:{key}"] if value is not None else None
                if first is None and value is not None:
                    first = held[key].get(value)
                if first is not None:
                    issue = FieldIssue(key, "duplicate_in_file", f"same {key} as line {first}")
                    rejects.append((row[INDEX], RowReject(row[LINE], (issue,))))
                    break
            else:
                kept.append(row[INDEX])
                for key in keys:
                    if row[key] is not None:
                        held[key][row[key]] = row[LINE]
        return waiting.filter(pl.col(INDEX).is_in(kept))

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
