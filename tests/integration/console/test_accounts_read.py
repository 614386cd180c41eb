"""The console's one-query card read gives what the two single reads give: the card with its
holder, and the account's balance by component (none for a card that never posted)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from cardbatch.store import open_store
from cardbatch.store.accounts_read import card_holder_balances, card_with_holder
from cardbatch.store.ledger_repo import account_balances
from cardbatch.store.tables import balances, card_accounts
from tests.console_support import ConsoleDemo


class _RolledBack(Exception):
    pass


def test_one_query_equals_the_card_read_and_the_balances_read(console_demo: ConsoleDemo) -> None:
    store = open_store(console_demo.db_url)
    try:
        with store.read() as conn:
            ids = list(conn.execute(select(card_accounts.c.account_id)).scalars())
            assert len(ids) >= 10
            for account_id in ids:
                card, found = card_holder_balances(conn, account_id)
                assert tuple(card)[:-2] == tuple(card_with_holder(conn, account_id))
                assert found == dict(sorted(account_balances(conn, account_id).items()))
                assert list(found) == sorted(found)
            assert any(card_holder_balances(conn, a)[1] for a in ids)
            assert card_holder_balances(conn, "NO-SUCH-CARD") == (None, {})
            deposit = console_demo.deposit_account_id
            assert card_holder_balances(conn, deposit) == (None, {})
    finally:
        store.dispose()


def test_a_card_without_balances_has_none(console_demo: ConsoleDemo) -> None:
    store = open_store(console_demo.db_url)
    account_id = console_demo.card_account_id
    try:
        with pytest.raises(_RolledBack), store.write() as conn:
            conn.execute(delete(balances).where(balances.c.account_id == account_id))
            card, found = card_holder_balances(conn, account_id)
            assert card is not None and card.account_id == account_id
            assert found == {}
            raise _RolledBack
        with store.read() as conn:
            assert card_holder_balances(conn, account_id)[1]  # the rows are back
    finally:
        store.dispose()
