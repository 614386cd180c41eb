"""The console's pages: sign-in and out, accounts, an account, runs, audit; the language switch.

Every page checks the signed-in user's role through the role matrix; every
form that changes state carries a CSRF token (the session's, or before sign-in
a double-submit cookie) compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cardbatch.api.deps import settings_of as get_settings
from cardbatch.api.deps import store_of as get_store
from cardbatch.domain import credentials
from cardbatch.domain.redact import redact_text
from cardbatch.domain.roles import Action, allowed, sees_personal_data
from cardbatch.money import format_fen
from cardbatch.services import accounts, audit, runs_view, users
from cardbatch.services.accounts import ACCOUNT_ID_LEN_MAX, UnknownAccount
from cardbatch.services.users import WebSession
from cardbatch.web.i18n import pick_lang, translator

SESSION_COOKIE = "cb_session"
CSRF_COOKIE = "cb_csrf"
LANG_COOKIE = "cb_lang"
PAGE_ROWS = 50
HISTORY_ROWS_SHOWN = 500

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["yuan"] = format_fen
templates.env.filters["redact"] = redact_text


def render(request: Request, name: str, status: int = 200, session: WebSession | None = None,
            **context: Any) -> HTMLResponse:  # fmt: skip
    lang = pick_lang(request.cookies.get(LANG_COOKIE))

    def can(action: str) -> bool:
        return session is not None and allowed(session.user.role, Action(action))

    base = {"t": translator(lang), "lang": lang, "session": session,
            "can": can}  # fmt: skip
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _local(next_path: str) -> str:
    """Only same-site paths are followed after sign-in or a language switch."""
    ok = next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path
    return next_path if ok else "/"


def signed_in(request: Request, action: Action) -> WebSession | Response:
    """The page's session, or the answer to give instead (sign-in redirect or 403)."""
    session = users.session_for(get_store(request), request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if not allowed(session.user.role, action):
        return render(request, "message.html", 403, session, key="forbidden")
    request.state.user = session.user.name
    return session


def same_token(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", csrf_token=csrf, next=_local(next), error=None)
    _set_cookie(request, response, CSRF_COOKIE, csrf, max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    secret: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not same_token(cookie, csrf_token):
        return render(request, "message.html", 403, key="csrf_failed")
    store = get_store(request)
    if credentials.split_token(secret) is not None:
        user = users.authenticate_token(store, secret)
        user = user if user is not None and user.name == name else None
    else:
        user = users.authenticate_password(store, name, secret)
    if user is None:
        return render(request, "login.html", 401, csrf_token=cookie, next=_local(next),
                       error="bad_credentials")  # fmt: skip
    value, _session = users.start_session(store, user, get_settings(request).session_ttl_s)
    response = RedirectResponse(_local(next), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, value, get_settings(request).session_ttl_s)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    found = signed_in(request, Action.ME_READ)
    if not isinstance(found, WebSession):
        return found
    if not same_token(found.csrf_token, csrf_token):
        return render(request, "message.html", 403, found, key="csrf_failed")
    users.end_session(get_store(request), request.cookies.get(SESSION_COOKIE, ""), found.user.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _set_cookie(request: Request, response: Response, key: str, value: str, max_age: int) -> None:
    response.set_cookie(key, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=get_settings(request).cookie_secure)  # fmt: skip


@router.get("/lang")
def switch_language(request: Request, to: str = "zh") -> Response:
    """Set the language and go back to the page the link was on (its path only)."""
    back = urlsplit(request.headers.get("referer", "/"))
    same_site = not back.netloc or back.netloc == request.url.netloc
    target = back.path + (f"?{back.query}" if back.query else "") if same_site else "/"
    response = RedirectResponse(_local(target or "/"), status_code=303)
    response.set_cookie(LANG_COOKIE, pick_lang(to), max_age=365 * 86400, samesite="lax")
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse("/accounts", status_code=303)


@router.get("/accounts")
def accounts_page(
    request: Request, after: Annotated[str, Query(max_length=ACCOUNT_ID_LEN_MAX)] = ""
) -> Response:
    found = signed_in(request, Action.ACCOUNTS_READ)
    if not isinstance(found, WebSession):
        return found
    page = accounts.card_accounts_page(get_store(request), after, PAGE_ROWS,
                                       unmasked=sees_personal_data(found.user.role))  # fmt: skip
    next_after = page[-1].account_id if len(page) == PAGE_ROWS else None
    return render(request, "accounts.html", session=found, rows=page, next_after=next_after)


@router.get("/account-lookup")
def account_lookup(
    account_id: Annotated[str, Query(max_length=ACCOUNT_ID_LEN_MAX)] = "",
) -> Response:
    return RedirectResponse(f"/accounts/{quote(account_id.strip(), safe='')}", status_code=303)


@router.get("/accounts/{account_id}")
def account_page(request: Request, account_id: str) -> Response:
    found = signed_in(request, Action.ACCOUNTS_READ)
    if not isinstance(found, WebSession):
        return found
    unmasked = sees_personal_data(found.user.role)
    store = get_store(request)
    try:
        view = accounts.summary(store, account_id, unmasked=unmasked)
        history = accounts.transactions(store, account_id, HISTORY_ROWS_SHOWN, unmasked=unmasked)
        bills = accounts.statements(store, account_id, unmasked=unmasked)
    except UnknownAccount:
        return render(request, "message.html", 404, found, key="not_found")
    return render(request, "account.html", session=found, view=view, history=history,
                   statements=bills)  # fmt: skip


@router.get("/runs")
def runs_page(request: Request) -> Response:
    found = signed_in(request, Action.RUNS_READ)
    if not isinstance(found, WebSession):
        return found
    return render(request, "runs.html", session=found,
                   runs=runs_view.list_runs(get_store(request), PAGE_ROWS))  # fmt: skip


@router.get("/runs/table")
def runs_table(request: Request) -> Response:
    """The runs table alone; the runs page re-fetches it every few seconds (htmx)."""
    found = signed_in(request, Action.RUNS_READ)
    if not isinstance(found, WebSession):
        return found
    return render(request, "runs_table.html", session=found,
                   runs=runs_view.list_runs(get_store(request), PAGE_ROWS))  # fmt: skip


@router.get("/audit")
def audit_page(request: Request) -> Response:
    found = signed_in(request, Action.AUDIT_READ)
    if not isinstance(found, WebSession):
        return found
    events = audit.list_events(get_store(request), PAGE_ROWS)
    return render(request, "audit.html", session=found, events=events,
                   unmasked=sees_personal_data(found.user.role))  # fmt: skip
