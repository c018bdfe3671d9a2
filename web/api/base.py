"""The API blueprint: authentication by scoped bearer token, bodies, paging, errors.

Lists are paged in SQL by the services (``jiebang.paging``); ``paging()`` reads the
request's page and size."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from jiebang.errors import ServiceError
from jiebang.tokens import ApiToken, scope_covers, token_record
from web.errors import api_error, api_service_error
from web.ext import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return api_service_error(exc)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = HTTP_CODES.get(exc.code, "error")
    return api_error(code, exc.description or exc.name, exc.code or 500)


def bearer_token() -> ApiToken | None:
    """The valid token sent with the request, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token_record(db(), token.strip())


def bearer_user():
    record = bearer_token()
    return record.user if record else None


def token_required(scope: str = "read"):
    """The view needs a valid token whose scope is ``scope`` or wider."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            record = bearer_token()
            if record is None:
                return api_error(
                    "unauthorized",
                    _("Send a valid API token as 'Authorization: Bearer <token>'."),
                    401,
                )
            if not scope_covers(record.scope, scope):
                return api_error(
                    "insufficient_scope",
                    _(
                        "This needs a token with scope '%(scope)s'; create one on your profile.",
                        scope=scope,
                    ),
                    403,
                )
            g.api_user = record.user
            g.api_token = record
            return view(*args, **kwargs)

        wrapper.openapi = getattr(view, "openapi", None)
        return wrapper

    return decorate


def parse(model: type[BaseModel]) -> BaseModel:
    """The JSON body as ``model``; a 400 naming the first bad field otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("body", "Send a JSON object in the request body.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ServiceError(
            field, "%(name)s: %(problem)s", name=field, problem=first["msg"]
        ) from None


def paging() -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (1 to 200, default 50) from the query."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise ServiceError("page", "page and per_page must be whole numbers.") from None
    if page < 1 or not 1 <= per_page <= 200:
        raise ServiceError("page", "page must be 1 or more, per_page from 1 to 200.")
    return page, per_page
