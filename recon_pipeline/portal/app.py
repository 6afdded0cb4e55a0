"""The finance portal (CONTRACT.md §4 ``recon serve``): a read-only Starlette app.

Routes are GET only (Starlette answers 405 to anything else), every one behind HTTP Basic
(``auth``), every response with security headers and ``Cache-Control: no-store`` (each page is
behind a password and shows money). Reads come from the portal's tables (``reader``), never
the DuckDB warehouse itself, so a build is never blocked; downloads and searches are recorded
with the user (``access_log``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from recon_pipeline.portal import access_log
from recon_pipeline.portal.auth import Authenticator, BasicAuthMiddleware
from recon_pipeline.portal.chart import line_chart
from recon_pipeline.portal.queries import (
    cycle_accounts,
    cycle_exceptions,
    dashboard_series,
    exception_detail,
    list_cycles,
)
from recon_pipeline.portal.reader import NothingPublished, PortalReader
from recon_pipeline.portal.search import MAX_RESULTS, search
from recon_pipeline.settings import Settings

HERE = Path(__file__).parent
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Adds the headers to every response, the 401 challenge included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def money(value: Any) -> str:
    if value is None:
        return ""
    d = Decimal(value)
    shown = d.quantize(Decimal("0.01")) if d == d.quantize(Decimal("0.01")) else d.normalize()
    return f"{shown:,}"


def percent(value: Any) -> str:
    return "" if value is None else f"{Decimal(value) * 100:.1f} %"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["money"] = money
    templates.env.filters["percent"] = percent
    templates.env.globals["now"] = lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return templates


def _cycle(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(404, f"{text!r} is not a pay cycle (YYYY-MM-DD)") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def create_app(settings: Settings) -> Starlette:
    reader = PortalReader(settings)
    templates = _templates()

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, {"user": request.state.user, **context},
                                          status_code=status)

    def index(request: Request) -> Response:
        with reader.open() as wh:
            cycles = list_cycles(wh)
        for row in cycles:
            row["close_pack"] = settings.close_pack_path(row["pay_cycle"].isoformat()).is_file()
        return page(request, "index.html", {"cycles": cycles})

    def dashboard(request: Request) -> Response:
        with reader.open() as wh:
            series = dashboard_series(wh)
        labels = [c.isoformat() for c in series["cycles"]]
        charts = [
            line_chart("Match rate", labels, {"match rate": series["match_rate"]},
                       fmt=lambda v: f"{v * 100:.0f} %", top=Decimal(1)),
            line_chart("Open exceptions", labels, {"open exceptions": series["open_exceptions"]},
                       fmt=lambda v: f"{v:,.0f}"),
            line_chart("Exposure", labels, series["exposure"], fmt=lambda v: f"{v:,.0f}"),
        ]
        return page(request, "dashboard.html", {"charts": charts, "rows": list(reversed(series["rows"])),
                                                "titles": ["Match rate", "Open exceptions",
                                                           "Exposure (completed, not confirmed by the bank)"]})

    def cycle(request: Request) -> Response:
        day = _cycle(request.path_params["pay_cycle"])
        with reader.open() as wh:
            accounts = cycle_accounts(wh, day)
            exceptions = cycle_exceptions(wh, day)
        if not accounts:
            raise HTTPException(404, f"pay cycle {day} has not been built")
        return page(request, "cycle.html", {"day": day, "accounts": accounts, "exceptions": exceptions,
                                            "close_pack": settings.close_pack_path(day.isoformat()).is_file()})

    def close_pack(request: Request) -> Response:
        day = _cycle(request.path_params["pay_cycle"]).isoformat()
        path = settings.close_pack_path(day)
        try:
            data = path.read_bytes()  # one read: what is hashed is what is sent
        except FileNotFoundError:
            raise HTTPException(404, f"no close pack for pay cycle {day}") from None
        access_log.record_access(settings, request.state.user, access_log.DOWNLOAD, day,
                                 {"file": path.name, "bytes": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest()})
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"content-disposition": f'attachment; filename="{path.name}"'})

    def exception(request: Request) -> Response:
        exception_id = request.path_params["exception_id"]
        with reader.open() as wh:
            detail = exception_detail(wh, exception_id)
        if detail is None:
            raise HTTPException(404, f"no exception {exception_id}")
        return page(request, "exception.html", detail)

    def search_page(request: Request) -> Response:
        q = request.query_params.get("q", "").strip()[:200]
        results: list[dict[str, Any]] = []
        if q:
            with reader.open() as wh:
                results = search(wh, q)
            access_log.record_access(settings, request.state.user, access_log.SEARCH, q,
                                     {"results": len(results)})
        if _wants_json(request):
            return JSONResponse({"query": q, "count": len(results), "truncated": len(results) >= MAX_RESULTS,
                                 "results": [{k: _jsonable(v) for k, v in r.items()} for r in results]})
        return page(request, "search.html", {"q": q, "results": results, "limit": MAX_RESULTS})

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request) or not hasattr(request.state, "user"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return page(request, "message.html", {"title": "Not available", "message": exc.detail}, exc.status_code)

    async def nothing_published(request: Request, exc: NothingPublished) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=503)
        return page(request, "message.html", {"title": "Nothing to show yet", "message": str(exc)}, 503)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/search", search_page, methods=["GET"]),
        Route("/cycles/{pay_cycle}", cycle, methods=["GET"]),
        Route("/cycles/{pay_cycle}/close-pack", close_pack, methods=["GET"]),
        Route("/exceptions/{exception_id}", exception, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeadersMiddleware),
                    Middleware(BasicAuthMiddleware, authenticator=Authenticator(settings.portal_users))],
        exception_handlers={HTTPException: not_found, NothingPublished: nothing_published},
    )
