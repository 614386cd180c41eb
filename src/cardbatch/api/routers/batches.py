"""``/api/batches``: payroll and collection batches: submit by upload, show, approve, run, returns.

Over :mod:`cardbatch.services.batches` (itself over ``cardbatch.paybatch``, the functions the
CLI uses). Approval checks the role, then maker-checker: the submitter cannot approve their
own batch (403). An upload is stored under a generated name, checked as the CLI checks a
file, and removed once the batch is recorded (its rows are in the store).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from cardbatch.api.deps import SettingsDep, StoreDep, require, unmasked_for
from cardbatch.api.uploads import UploadRefused, store_upload
from cardbatch.domain.roles import Action, MakerCheckerViolation
from cardbatch.money import MoneyError, parse_yuan
from cardbatch.paybatch import BatchNotFound, MakerCheckerError, PaybatchError
from cardbatch.payfiles.model import FORMATS
from cardbatch.services import batches
from cardbatch.services.users import User

router = APIRouter(prefix="/api/batches", tags=["batches"])
Reader = Annotated[User, Depends(require(Action.BATCHES_READ))]
Submitter = Annotated[User, Depends(require(Action.BATCHES_SUBMIT))]
Approver = Annotated[User, Depends(require(Action.BATCHES_APPROVE))]
Runner = Annotated[User, Depends(require(Action.BATCHES_RUN))]
Downloader = Annotated[User, Depends(require(Action.BATCHES_DOWNLOAD))]
BatchId = Annotated[int, Path(ge=1, le=2**62)]
LIST_ROWS_MAX = 500
ACCOUNT_LEN_MAX = 40


@contextmanager
def refusals() -> Iterator[None]:
    """paybatch's refusals as answers: unknown 404, maker-checker 403, wrong state 409."""
    try:
        yield
    except BatchNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (MakerCheckerViolation, MakerCheckerError) as exc:
        raise HTTPException(403, str(exc)) from None
    except PaybatchError as exc:
        raise HTTPException(409, str(exc)) from None


def _view(view: batches.BatchView) -> dict[str, Any]:
    answer: dict[str, Any] = jsonable_encoder(view.summary)
    answer["may_approve"] = view.may_approve
    answer["may_run"] = view.may_run
    answer["may_download"] = view.may_download
    return answer


@router.get("", response_model=None, summary="Recent batches, newest first")
def list_batches(
    user: Reader,
    store: StoreDep,
    status: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z]+$")] = None,
    kind: Annotated[Literal["payroll", "collection"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_ROWS_MAX)] = 50,
) -> dict[str, Any]:
    found = batches.list_batches(store, limit, unmasked_for(user), status, kind)
    return {"batches": jsonable_encoder(found)}


@router.post("/upload", response_model=None, status_code=201,
             summary="Submit a payroll or collection file (validated or rejected)")  # fmt: skip
async def upload_batch(
    user: Submitter,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The payroll or collection file.")],
    kind: Annotated[Literal["payroll", "collection"], Form()],
    party_account: Annotated[str, Form(min_length=1, max_length=ACCOUNT_LEN_MAX)],
    business_date: Annotated[date, Form()],
    fmt: Annotated[str, Form(max_length=16)] = "auto",
    declared_count: Annotated[int | None, Form(ge=0, le=10_000_000)] = None,
    declared_total: Annotated[str | None, Form(max_length=24)] = None,
    allow_date: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    if fmt != "auto" and fmt not in FORMATS:
        raise HTTPException(422, f"form.fmt: must be auto or one of {', '.join(FORMATS)}")
    try:
        total_fen = parse_yuan(declared_total) if declared_total else None
    except MoneyError as exc:
        raise HTTPException(422, f"form.declared_total: {exc}") from None
    work = FsPath(tempfile.mkdtemp(prefix="cardbatch-upload-"))
    try:
        try:
            stored = await store_upload(file, work, settings)
        except UploadRefused as exc:
            raise HTTPException(413, str(exc)) from None
        named = stored.path.rename(work / stored.original_name)  # a folder of its own
        upload = batches.Upload(
            named, kind, party_account.strip(), business_date, fmt,  # type: ignore[arg-type]
            declared_count, total_fen, allow_date,
        )  # fmt: skip
        outcome = await run_in_threadpool(batches.submit_upload, store, upload, user.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rejection = outcome.rejection
    return {
        "batch_id": outcome.batch_id, "status": outcome.status, "row_count": outcome.row_count,
        "total_fen": outcome.total_fen, "reject_code": rejection.code if rejection else None,
        "reject_reason": rejection.reason if rejection else None,
    }  # fmt: skip


@router.get("/{batch_id}", response_model=None, summary="One batch: totals, results by reason")
def get_batch(user: Reader, store: StoreDep, batch_id: BatchId) -> dict[str, Any]:
    with refusals():
        view = batches.show(store, batch_id, user.name, user.role, unmasked_for(user))
    return _view(view)


@router.post("/{batch_id}/approve", response_model=None,
             summary="Approve a validated batch (maker-checker)")  # fmt: skip
def approve_batch(user: Approver, store: StoreDep, batch_id: BatchId) -> dict[str, Any]:
    with refusals():
        batches.approve(store, batch_id, user.name)
        view = batches.show(store, batch_id, user.name, user.role, unmasked_for(user))
    return _view(view)


@router.post("/{batch_id}/run", response_model=None, summary="Run an approved batch to the end")
def run_batch(user: Runner, store: StoreDep, batch_id: BatchId) -> dict[str, Any]:
    with refusals():
        outcome = batches.run(store, batch_id, user.name)
    result: dict[str, Any] = jsonable_encoder(outcome)
    return result


@router.get("/{batch_id}/returns", response_model=None, response_class=FileResponse,
            summary="The batch's return files (回盘) in one zip")  # fmt: skip
def download_returns(_user: Downloader, store: StoreDep, batch_id: BatchId) -> FileResponse:
    work = FsPath(tempfile.mkdtemp(prefix="cardbatch-returns-"))
    try:
        with refusals():
            bundle = batches.write_returns_zip(store, batch_id, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(bundle, media_type="application/zip", filename=bundle.name,
                        background=BackgroundTask(shutil.rmtree, work, True))  # fmt: skip
