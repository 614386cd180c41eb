"""The console's batch pages: the list with an upload form, one batch with approve and run
buttons for the roles that may press them, and its return files as one download.

Pages call :mod:`cardbatch.services.batches` as the API does; every form carries the
session's CSRF token. The approve button is shown only to a role that may approve a
validated batch it did not submit (maker-checker), and the service refuses it anyway.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from cardbatch.api.deps import settings_of, store_of
from cardbatch.api.uploads import UploadRefused, store_upload
from cardbatch.domain.redact import redact_text
from cardbatch.domain.roles import Action, MakerCheckerViolation, sees_personal_data
from cardbatch.paybatch import BatchNotFound, PaybatchError
from cardbatch.services import batches
from cardbatch.services.users import WebSession
from cardbatch.web.routes import PAGE_ROWS, render, same_token, signed_in

router = APIRouter(include_in_schema=False)
ACCOUNT_LEN_MAX = 40


def _refused(request: Request, session: WebSession, exc: Exception) -> Response:
    status = 404 if isinstance(exc, BatchNotFound) else 403 if isinstance(
        exc, MakerCheckerViolation) else 409  # fmt: skip
    return render(request, "message.html", status, session, key="refused",
                  text=redact_text(str(exc)))  # fmt: skip


@router.get("/batches")
def batches_page(request: Request) -> Response:
    found = signed_in(request, Action.BATCHES_READ)
    if not isinstance(found, WebSession):
        return found
    rows = batches.list_batches(store_of(request), PAGE_ROWS, sees_personal_data(found.user.role))
    return render(request, "batches.html", session=found, rows=rows, kinds=batches.KINDS,
                  today=date.today().isoformat())  # fmt: skip


@router.post("/batches/upload")
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=16)] = "",
    party_account: Annotated[str, Form(max_length=ACCOUNT_LEN_MAX)] = "",
    business_date: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    found = await run_in_threadpool(signed_in, request, Action.BATCHES_SUBMIT)
    if not isinstance(found, WebSession):
        return found
    if not same_token(found.csrf_token, csrf_token):
        return render(request, "message.html", 403, found, key="csrf_failed")
    try:
        day = date.fromisoformat(business_date)
        if kind not in batches.KINDS or not party_account.strip():
            raise ValueError
    except ValueError:
        return render(request, "message.html", 422, found, key="bad_upload_form")
    work = Path(tempfile.mkdtemp(prefix="cardbatch-upload-"))
    try:
        try:
            stored = await store_upload(file, work, settings_of(request))
        except UploadRefused as exc:
            return render(request, "message.html", 413, found, key="refused", text=str(exc))
        named = stored.path.rename(work / stored.original_name)
        upload_ = batches.Upload(named, kind, party_account.strip(), day)
        outcome = await run_in_threadpool(
            batches.submit_upload, store_of(request), upload_, found.user.name
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RedirectResponse(f"/batches/{outcome.batch_id}", status_code=303)


@router.get("/batches/{batch_id}")
def batch_page(request: Request, batch_id: int) -> Response:
    found = signed_in(request, Action.BATCHES_READ)
    if not isinstance(found, WebSession):
        return found
    user = found.user
    try:
        view = batches.show(store_of(request), batch_id, user.name, user.role,
                            sees_personal_data(user.role))  # fmt: skip
    except PaybatchError as exc:
        return _refused(request, found, exc)
    return render(request, "batch.html", session=found, view=view, b=view.summary)


@router.post("/batches/{batch_id}/approve")
def approve(
    request: Request, batch_id: int, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    found = signed_in(request, Action.BATCHES_APPROVE)
    if not isinstance(found, WebSession):
        return found
    if not same_token(found.csrf_token, csrf_token):
        return render(request, "message.html", 403, found, key="csrf_failed")
    try:
        batches.approve(store_of(request), batch_id, found.user.name)
    except (PaybatchError, MakerCheckerViolation) as exc:
        return _refused(request, found, exc)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.post("/batches/{batch_id}/run")
def run(
    request: Request, batch_id: int, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    found = signed_in(request, Action.BATCHES_RUN)
    if not isinstance(found, WebSession):
        return found
    if not same_token(found.csrf_token, csrf_token):
        return render(request, "message.html", 403, found, key="csrf_failed")
    try:
        batches.run(store_of(request), batch_id, found.user.name)
    except PaybatchError as exc:
        return _refused(request, found, exc)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.get("/batches/{batch_id}/returns")
def returns(request: Request, batch_id: int) -> Response:
    found = signed_in(request, Action.BATCHES_DOWNLOAD)
    if not isinstance(found, WebSession):
        return found
    work = Path(tempfile.mkdtemp(prefix="cardbatch-returns-"))
    try:
        bundle = batches.write_returns_zip(store_of(request), batch_id, work)
    except PaybatchError as exc:
        shutil.rmtree(work, ignore_errors=True)
        return _refused(request, found, exc)
    return FileResponse(bundle, media_type="application/zip", filename=bundle.name,
                        background=BackgroundTask(shutil.rmtree, work, True))  # fmt: skip
