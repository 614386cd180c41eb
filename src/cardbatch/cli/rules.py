"""``cardbatch rules``: check, load, list, show, diff and approve product rule sets.

A version is named ``CODE@N`` (``STD@2``); ``diff`` also takes rule files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    State,
    actor_for,
    emit_json,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)

if TYPE_CHECKING:  # the rules package pulls in pydantic: imported where a command needs it
    from cardbatch.rules.load import RuleError
    from cardbatch.rules.model import RuleSet
    from cardbatch.rules.versions import RuleVersion

app = typer.Typer(help="Product rule sets: versions, approval, diff.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Rule file (TOML).")]
RefArg = Annotated[str, typer.Argument(help="Stored version CODE@N.")]


def _read(path: Path) -> str:
    from cardbatch.rules.load import RuleSetInvalid, read_rules_file

    try:
        return read_rules_file(path)
    except RuleSetInvalid as exc:
        fail(str(exc.errors[0]) if exc.errors else str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, got {text!r}")


def _parse_ref(ref: str) -> tuple[str, int | None]:
    code, sep, number = ref.partition("@")
    if not sep:
        return code, None
    if not number.isdigit():
        fail(f"a version is CODE@N, got {ref!r}")
    return code, int(number)


def _version_json(version: RuleVersion, *, with_text: bool = False) -> dict[str, object]:
    doc: dict[str, object] = {
        "version": version.label,
        "product_code": version.product_code,
        "version_no": version.version_no,
        "effective_date": version.effective_date,
        "status": version.status,
        "sha256": version.sha256,
        "source_name": version.source_name,
        "loaded_by": version.loaded_by,
        "loaded_at": version.loaded_at,
        "approved_by": version.approved_by,
        "approved_at": version.approved_at,
    }
    if with_text:
        doc["toml"] = version.toml_text
    return doc


def _print_errors(source: str, errors: list[RuleError]) -> None:
    for error in errors:
        out.print(escape(f"{source}: {error}"))


@app.command("check")
def check_cmd(ctx: typer.Context, file: FileArg, json_: JsonOpt = False) -> None:
    """Validate a rule file: every error with its key path; exit 1 when invalid."""
    from cardbatch.rules.load import check_rules_text

    st = state(ctx, None, json_)
    rules, errors = check_rules_text(_read(file))
    if st.json:
        emit_json({"file": str(file), "valid": rules is not None,
                   "product": rules.product.code if rules else None,
                   "errors": [{"path": e.path, "message": e.message} for e in errors]})  # fmt: skip
    elif rules is not None:
        out.print(f"{escape(str(file))}: valid rules for product {rules.product.code}")
    else:
        _print_errors(str(file), errors)
        out.print(f"{len(errors)} error(s)")
    if rules is None:
        raise typer.Exit(EXIT_FOUND_WRONG)


@app.command("load")
def load_cmd(
    ctx: typer.Context,
    file: FileArg,
    effective: Annotated[str, typer.Option(help="First business date it applies, YYYY-MM-DD.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Store a rule file as a new pending version (immutable), effective from a date."""
    from cardbatch.rules.load import RuleSetInvalid
    from cardbatch.rules.versions import load_version

    st = state(ctx, db, json_, as_)
    effective_date = _parse_date(effective, "--effective")
    text = _read(file)
    actor = actor_for(st)
    try:
        with opened_store(st) as store, store.write() as conn:
            version, created = load_version(conn, text, effective_date, actor, file.name)
    except RuleSetInvalid as exc:
        if st.json:
            errors = [{"path": e.path, "message": e.message} for e in exc.errors]
            emit_json({"file": str(file), "loaded": False, "errors": errors})
        else:
            _print_errors(str(file), exc.errors)
        raise typer.Exit(EXIT_FOUND_WRONG) from None
    if st.json:
        emit_json({**_version_json(version), "created": created})
    elif created:
        out.print(f"loaded {version.label} effective {effective_date} ({version.status}); "
                  "a different user must approve it")  # fmt: skip
    else:
        out.print(f"already stored as {version.label} ({version.status}); nothing changed")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    product: Annotated[str | None, typer.Argument(help="Product code (default: all).")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List stored versions."""
    from cardbatch.rules.versions import list_versions

    st = state(ctx, db, json_)
    with opened_store(st) as store, store.read() as conn:
        versions = list_versions(conn, product)
    if st.json:
        emit_json({"versions": [_version_json(v) for v in versions]})
        return
    table = Table(title="rule versions")
    for column in ("version", "effective", "status", "loaded by", "approved by", "file", "sha256"):
        table.add_column(column)
    for v in versions:
        table.add_row(v.label, v.effective_date.isoformat(), v.status, v.loaded_by,
                      v.approved_by or "", v.source_name, v.sha256[:12])  # fmt: skip
    out.print(table)


def _stored(st: State, code: str, number: int | None, on: date | None) -> RuleVersion:
    from cardbatch.rules.versions import (
        RuleVersionError,
        get_version,
        list_versions,
        version_in_force,
    )

    with opened_store(st) as store, fail_on(RuleVersionError), store.read() as conn:
        if number is not None:
            return get_version(conn, code, number)
        if on is not None:
            version = version_in_force(conn, code, on)
            if version is None:
                fail(f"no approved rules for {code} in force on {on}")
            return version
        versions = list_versions(conn, code)
        if not versions:
            fail(f"no rule versions for {code}")
        return versions[-1]


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="CODE@N, or CODE (latest, or in force on --date).")],
    on: Annotated[str | None, typer.Option("--date", help="Version in force on this date.")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show one stored version: its metadata and its TOML text."""
    st = state(ctx, db, json_)
    code, number = _parse_ref(ref)
    version = _stored(st, code, number, _parse_date(on, "--date") if on else None)
    if st.json:
        emit_json(_version_json(version, with_text=True))
        return
    out.print(f"{version.label} effective {version.effective_date} [{version.status}] "
              f"loaded by {version.loaded_by}"
              + (f", approved by {version.approved_by}" if version.approved_by else ""),
              markup=False)  # fmt: skip
    out.print(f"sha256 {version.sha256}  file {version.source_name}", markup=False)
    out.print(version.toml_text, markup=False)


def _rules_for(st: State, ref: str) -> RuleSet:
    from cardbatch.rules.load import check_rules_text

    path = Path(ref)
    if path.exists():
        rules, errors = check_rules_text(_read(path))
        if rules is None:
            _print_errors(ref, errors)
            fail(f"{ref} is not a valid rule file ({len(errors)} error(s))")
        return rules
    if "@" not in ref:
        fail(f"{ref}: no such file, and not a stored version CODE@N")
    code, number = _parse_ref(ref)
    return _stored(st, code, number, None).rules()


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    left: Annotated[str, typer.Argument(help="Rule file or stored version CODE@N.")],
    right: Annotated[str, typer.Argument(help="Rule file or stored version CODE@N.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The keys whose values differ, side by side."""
    from cardbatch.rules.diff import diff_rules

    st = state(ctx, db, json_)
    changes = diff_rules(_rules_for(st, left), _rules_for(st, right))
    if st.json:
        emit_json({"left": left, "right": right, "changes": changes})
        return
    if not changes:
        out.print("no differences")
        return
    table = Table(title=f"{left} -> {right}")
    for column in ("key", left, right):
        table.add_column(escape(column))
    for change in changes:
        table.add_row(change.key, escape(change.left), escape(change.right))
    out.print(table)


@app.command("approve")
def approve_cmd(
    ctx: typer.Context, ref: RefArg, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """Approve a pending version; the approver (--as / CARDBATCH_USER) must not be its loader."""
    from cardbatch.rules.versions import RuleVersionError, approve_version

    st = state(ctx, db, json_, as_)
    code, number = _parse_ref(ref)
    if number is None:
        fail(f"approve needs a version CODE@N, got {ref!r}")
    actor = actor_for(st)
    with (
        opened_store(st) as store,
        fail_on(RuleVersionError, code=EXIT_FOUND_WRONG),
        store.write() as conn,
    ):
        version = approve_version(conn, code, number, actor)
    if st.json:
        emit_json(_version_json(version))
    else:
        out.print(f"approved {version.label} (effective {version.effective_date}) as {actor}")
