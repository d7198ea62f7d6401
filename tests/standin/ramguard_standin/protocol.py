"""Request parsing and response building for the JSON-based AWS protocols the stand-in serves.

Operations are identified from botocore's service models (the same models the SDKs are generated
from), so routing, query-string members and error HTTP status codes follow the real wire contract.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

import botocore.session

_SESSION = botocore.session.get_session()
_MODELS: dict[str, Any] = {}


def service_model(name: str) -> Any:
    if name not in _MODELS:
        _MODELS[name] = _SESSION.get_service_model(name)
    return _MODELS[name]


class AwsError(Exception):
    """An error answered the way the service answers it: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None, extra: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}


@dataclass
class Call:
    service: str  # signing name as lower-case: ram, config, organizations, securityhub, sts, ...
    operation: str | None
    region: str
    account: str
    params: dict[str, Any] = field(default_factory=dict)
    protocol: str = "json"
    # the caller's IAM principal ARN (a role's ARN for assumed-role credentials), read on demand
    principal: Callable[[], str] = lambda: ""


def error_status(service: str, code: str) -> int:
    try:
        model = service_model(service)
        shape = model.shape_for(code)
        status = shape.metadata.get("error", {}).get("httpStatusCode")
        if status:
            return int(status)
    except Exception:  # noqa: BLE001 - unknown shape: fall back to the protocol default
        pass
    if code in ("ThrottlingException", "TooManyRequestsException"):
        return 429 if service in ("ram", "securityhub") else 400
    return 400


def error_body(code: str, message: str, extra: dict | None = None) -> bytes:
    body = {"__type": code, "message": message, "Message": message}
    body.update(extra or {})
    return json.dumps(body).encode()


_REST_ROUTES: dict[str, list[tuple[str, re.Pattern[str], str]]] = {}


def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], str]]:
    if service not in _REST_ROUTES:
        routes = []
        model = service_model(service)
        for op in model.operation_names:
            http = model.operation_model(op).http
            uri = http["requestUri"].split("?")[0]
            pattern = re.sub(r"\{([^}+]+)\+?\}", r"(?P<\1>[^/]+)", uri.rstrip("/") or "/")
            routes.append((http["method"], re.compile(f"^{pattern}/?$"), op))
        _REST_ROUTES[service] = routes
    return _REST_ROUTES[service]


def rest_operation(service: str, method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for m, pattern, op in _rest_routes(service):
        if m == method:
            match = pattern.match(path)
            if match:
                return op, match.groupdict()
    return None, {}


def rest_params(service: str, operation: str, body: bytes, query: str, uri: dict[str, str], headers: dict) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(body) if body.strip() else {}
    model = service_model(service).operation_model(operation)
    if model.input_shape is None:
        return params
    qs = parse_qs(query, keep_blank_values=True)
    for name, member in model.input_shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "querystring" and wire in qs:
            values = qs[wire]
            params[name] = values if member.type_name == "list" else values[0]
        elif loc == "uri" and wire in uri:
            params[name] = uri[wire]
        elif loc == "header" and wire.lower() in headers:
            params[name] = headers[wire.lower()]
    return params


def encode_token(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "s": scope}).encode()).decode()


def decode_token(token: str | None, scope: str, error_code: str) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["s"] != scope or int(data["o"]) < 0:
            raise ValueError("token issued for another request")
        return int(data["o"])
    except Exception as exc:  # noqa: BLE001
        raise AwsError(error_code, f"The specified value for NextToken is not valid: {exc}") from exc


def paginate(items: list, max_results: int, token: str | None, scope: str, error_code: str,
             empty_page_first: bool = False) -> tuple[list, str | None]:
    """Slice a listing. With empty_page_first, an initial call answers an empty page and a token,
    as AWS list APIs may: only a missing token ends a listing."""
    if empty_page_first and token is None:
        return [], encode_token(0, scope)
    offset = decode_token(token, scope, error_code)
    page = items[offset: offset + max_results]
    nxt = offset + max_results
    return page, (encode_token(nxt, scope) if nxt < len(items) else None)
