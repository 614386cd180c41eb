"""The hot account endpoints write their JSON directly: the same document as FastAPI's encoder."""

from __future__ import annotations

import json

from fastapi.encoders import jsonable_encoder

from cardbatch.api.answers import json_bytes
from cardbatch.services import accounts
from cardbatch.store import open_store
from tests.console_support import ConsoleDemo


def test_direct_json_equals_the_framework_encoding(console_demo: ConsoleDemo) -> None:
    store = open_store(console_demo.db_url)
    try:
        card = console_demo.card_account_id
        views = [
            accounts.summary(store, card),
            accounts.summary(store, console_demo.deposit_account_id, unmasked=True),
            accounts.transactions(store, card, 50),
            accounts.statements(store, card),
            accounts.statements(store, card, unmasked=True),
        ]
    finally:
        store.dispose()
    statement = views[3]
    assert isinstance(statement, accounts.Statements) and statement.statement is not None
    for view in views:
        assert json.loads(json_bytes(view)) == jsonable_encoder(view)
