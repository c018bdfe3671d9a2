"""The OpenAPI document, generated from the routes and their pydantic models.

Each API view carries its documentation as data (``@doc(...)``): summary, the
scope its token needs, its request and response models. ``build_spec`` walks the
app's URL map and turns that into an OpenAPI 3.1 document with apispec, so the
document cannot drift from the routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from apispec import APISpec
from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import IntegerConverter, Rule

from web.api.schemas import Error

DESCRIPTION = (
    "Jiebang's REST API. Authenticate with `Authorization: Bearer <token>`; a token "
    "has a scope: `read` (read only), `submit` (also teams, submissions, selections) "
    "or `manage` (also listing and revoking your other tokens, and sponsor, judge and "
    "admin actions). Errors are "
    '`{"error": {"code", "message", "field"}}`.'
)


@dataclass(frozen=True)
class Doc:
    summary: str
    response: type[BaseModel]
    tag: str
    status: int = 200
    scope: str | None = None
    body: type[BaseModel] | None = None
    multipart: dict[str, dict] | None = None
    raw_body: bool = False  # the body may also be the file itself (application/octet-stream)
    query: dict[str, dict] = field(default_factory=dict)
    details: str = ""
    # A file answered instead of JSON (its media type); ``response`` then documents the
    # file's manifest, listed among the schemas.
    produces: str | None = None


def doc(summary: str, response: type[BaseModel], *, tag: str, **options) -> callable:
    """Attach the view's documentation; it is read when the document is built."""

    def decorate(view):
        view.openapi = Doc(summary, response, tag, **options)
        return view

    return decorate


PAGING = {
    "page": {"type": "integer", "minimum": 1, "default": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
}


def _ref(spec: APISpec, model: type[BaseModel]) -> dict:
    name = model.__name__
    if name not in spec.components.schemas:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            if sub_name not in spec.components.schemas:
                spec.components.schema(sub_name, sub)
        spec.components.schema(name, schema)
    return {"$ref": f"#/components/schemas/{name}"}


def _json(spec: APISpec, model: type[BaseModel], description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(spec, model)}},
    }


def _success(spec: APISpec, meta: Doc) -> dict:
    if meta.produces is None:
        return _json(spec, meta.response, "Success")
    _ref(spec, meta.response)
    return {
        "description": f"Success: a file; its manifest is a {meta.response.__name__}",
        "content": {meta.produces: {"schema": {"type": "string", "format": "binary"}}},
    }


def _parameters(rule: Rule, meta: Doc) -> list[dict]:
    params = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        schema = {"type": "string"}
        if isinstance(converter, IntegerConverter):
            schema = {"type": "integer", "minimum": converter.min, "maximum": converter.max}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name, schema in meta.query.items():
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    return params


def _operation(spec: APISpec, rule: Rule, method: str, meta: Doc) -> dict:
    operation = {
        "operationId": f"{rule.endpoint.removeprefix('api.')}_{method}",
        "summary": meta.summary,
        "tags": [meta.tag],
        "parameters": _parameters(rule, meta),
        "responses": {
            str(meta.status): _success(spec, meta),
            "default": _json(spec, Error, "An error; `code` says which, `message` what to do"),
        },
    }
    notes = [meta.details] if meta.details else []
    if meta.scope:
        operation["security"] = [{"bearer": []}]
        notes.append(f"Needs a token with scope `{meta.scope}` or wider.")
    if notes:
        operation["description"] = " ".join(notes)
    if meta.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(spec, meta.body)}},
        }
    content = {}
    if meta.multipart is not None:
        required = [name for name, schema in meta.multipart.items() if schema.pop("required", 0)]
        form = {"type": "object", "properties": meta.multipart, "required": required}
        content["multipart/form-data"] = {"schema": form}
    if meta.raw_body:
        content["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    if content:
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def build_spec(app: Flask, *, server_url: str = "/") -> dict:
    spec = APISpec(
        title="Jiebang API",
        version="1.0",
        openapi_version="3.1.0",
        info={"description": DESCRIPTION},
        servers=[{"url": server_url}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        meta = getattr(app.view_functions.get(rule.endpoint), "openapi", None)
        if not rule.endpoint.startswith("api.") or meta is None:
            continue
        path = re.sub(r"<(?:[\w()=, ]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            multipart = {k: dict(v) for k, v in meta.multipart.items()} if meta.multipart else None
            copy = Doc(**{**meta.__dict__, "multipart": multipart})
            paths.setdefault(path, {})[method.lower()] = _operation(
                spec, rule, method.lower(), copy
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
