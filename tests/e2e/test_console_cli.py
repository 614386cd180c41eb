"""``cardbatch users`` and ``cardbatch audit`` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import sqlalchemy

from tests.e2e.cli import cli_json, run_cli


def _edit_directly(db_url: str, statement: str) -> None:
    """Change the database behind cardbatch's back (dropping the append-only guard first)."""
    engine = sqlalchemy.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_change ON audit_events")
        conn.exec_driver_sql(statement)
    engine.dispose()


def test_users_add_prints_a_token_once_and_list_never(db_url: str) -> None:
    assert run_cli("--db", db_url, "db", "upgrade").returncode == 0
    added = cli_json("--db", db_url, "users", "add", "zhang.wei", "--role", "approver")
    assert added["role"] == "approver" and added["token"].startswith("cb_")
    listed = run_cli("--db", db_url, "users", "list")
    assert listed.returncode == 0 and "zhang.wei" in listed.stdout
    assert added["token"] not in listed.stdout
    again = run_cli("--db", db_url, "users", "add", "zhang.wei", "--role", "admin")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = run_cli("--db", db_url, "users", "add", "x", "--role", "root")
    assert bad.returncode == 2 and "role must be one of" in bad.stderr


def test_audit_verify_fails_after_a_row_is_edited_in_the_database(db_url: str) -> None:
    assert run_cli("--db", db_url, "db", "upgrade").returncode == 0
    for name in ("a1", "a2", "a3"):
        assert run_cli("--db", db_url, "users", "add", name, "--role", "operator").returncode == 0
    ok = cli_json("--db", db_url, "audit", "verify")
    assert ok["ok"] is True and ok["rows"] == 4  # db.upgrade + three users.add
    listed = cli_json("--db", db_url, "audit", "list", "--action", "users.add")
    assert [e["subject"] for e in listed["events"]] == ["user:a3", "user:a2", "user:a1"]
    second = listed["events"][1]["event_id"]

    _edit_directly(db_url, f"UPDATE audit_events SET actor = 'nobody' WHERE event_id = {second}")
    done = run_cli("--db", db_url, "audit", "verify")
    assert done.returncode == 1
    assert f"BROKEN at event {second}" in done.stdout and "edited" in done.stdout


def test_audit_verify_fails_after_a_row_is_deleted(db_url: str) -> None:
    assert run_cli("--db", db_url, "db", "upgrade").returncode == 0
    for name in ("b1", "b2"):
        assert run_cli("--db", db_url, "users", "add", name, "--role", "auditor").returncode == 0
    events = cli_json("--db", db_url, "audit", "list")["events"]
    middle = events[1]["event_id"]
    _edit_directly(db_url, f"DELETE FROM audit_events WHERE event_id = {middle}")
    done = run_cli("--db", db_url, "--json", "audit", "verify")
    assert done.returncode == 1
    assert f'"first_bad_event_id": {events[0]["event_id"]}' in done.stdout


def test_serve_refuses_a_database_without_schema_in_one_line(sqlite_url: str) -> None:
    done = run_cli("--db", sqlite_url, "serve", "--port", "8")
    assert done.returncode == 2 and "cardbatch db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_two_workers_answers(sqlite_url: str) -> None:
    assert run_cli("--db", sqlite_url, "db", "upgrade").returncode == 0
    token = cli_json("--db", sqlite_url, "users", "add", "w1", "--role", "auditor")["token"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "cardbatch", "--db", sqlite_url, "serve", "--port", str(port),
         "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/audit/verify"
    headers = {"Authorization": f"Bearer {token}"}
    answer: httpx.Response | None = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(url, headers=headers, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answer is not None, "the server did not answer within 60 s"
        assert answer.status_code == 200 and answer.json()["ok"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
