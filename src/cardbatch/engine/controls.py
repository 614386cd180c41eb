"""Control totals: what a step declared, checked against the item results and the ledger.

A step's totals are accumulated chunk by chunk in the chunk transactions. Before
a step starts, the engine checks the totals of every step it depends on (and,
at the end, of the last steps):

- items read = items succeeded + failed + skipped, and = the step's item count;
- one item result row per item read, with the same split by status;
- journal entries written = items that succeeded with an entry;
- debits = credits for the step;
- the postings in the ledger for those entries add up to the declared debits,
  credits and posting count.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from cardbatch.engine.job import StepTotals


def check_totals(t: StepTotals) -> list[str]:
    """Checks on the declared totals alone."""
    problems = []
    split = t.items_succeeded + t.items_failed + t.items_skipped
    if t.items_read != split:
        problems.append(
            f"step {t.step_name}: items read {t.items_read} != succeeded {t.items_succeeded} "
            f"+ failed {t.items_failed} + skipped {t.items_skipped}"
        )
    if t.items_read != t.items_total:
        problems.append(f"step {t.step_name}: read {t.items_read} of {t.items_total} items")
    if t.debits_fen != t.credits_fen:
        problems.append(
            f"step {t.step_name}: debits {t.debits_fen} fen != credits {t.credits_fen} fen"
        )
    return problems


_RESULT_COUNTS = text(
    "SELECT status, COUNT(*), COUNT(entry_id) FROM item_results "
    "WHERE run_id = :run AND step_name = :step GROUP BY status"
)
_LEDGER_SUMS = text(
    "SELECT COUNT(p.posting_id), "
    "COALESCE(SUM(CASE WHEN p.amount_fen > 0 THEN p.amount_fen END), 0), "
    "COALESCE(-SUM(CASE WHEN p.amount_fen < 0 THEN p.amount_fen END), 0) "
    "FROM item_results r JOIN postings p ON p.entry_id = r.entry_id "
    "WHERE r.run_id = :run AND r.step_name = :step AND r.status = 'succeeded'"
)


def check_against_store(conn: Connection, run_id: str, t: StepTotals) -> list[str]:
    """Checks of the declared totals against item results and the ledger."""
    problems = []
    params = {"run": run_id, "step": t.step_name}
    by_status = {s: (int(n), int(e)) for s, n, e in conn.execute(_RESULT_COUNTS, params)}
    stored = {s: by_status.get(s, (0, 0))[0] for s in ("succeeded", "failed", "skipped")}
    declared = {"succeeded": t.items_succeeded, "failed": t.items_failed,
                "skipped": t.items_skipped}  # fmt: skip
    if stored != declared:
        problems.append(f"step {t.step_name}: item results {stored} != declared {declared}")
    entries = by_status.get("succeeded", (0, 0))[1]
    if entries != t.entries_written:
        problems.append(
            f"step {t.step_name}: {t.entries_written} entries written but {entries} items "
            "posted an entry"
        )
    postings_n, debits, credits = conn.execute(_LEDGER_SUMS, params).one()
    ledger = (int(postings_n), int(debits), int(credits))
    declared_ledger = (t.postings_written, t.debits_fen, t.credits_fen)
    if ledger != declared_ledger:
        problems.append(
            f"step {t.step_name}: ledger has (postings, debits, credits) = {ledger}, "
            f"the step declared {declared_ledger}"
        )
    return problems


def verify_step(conn: Connection, run_id: str, t: StepTotals) -> list[str]:
    return check_totals(t) + check_against_store(conn, run_id, t)
