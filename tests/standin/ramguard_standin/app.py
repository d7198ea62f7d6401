"""The stand-in's WSGI application: moto's server, with RAM, Config evaluations, Security Hub
findings and Organizations access rules served by this package, fault injection, call counting,
and AWS-style JSON errors where moto would answer HTML."""
from __future__ import annotations

import io
import json
import re
import time
from typing import Any, Callable, Iterable

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from . import account, configsvc, organizations, ram, securityhub, state, sts
from .protocol import AwsError, Call, error_body, error_status, rest_operation, rest_params

CREDENTIAL_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
HANDLERS: dict[str, Callable[[Call], dict | None]] = {
    "ram": ram.handle,
    "config": configsvc.handle,
    "securityhub": securityhub.handle,
    "organizations": organizations.handle,
    "account": account.handle,
}
REST_SERVICES = {"ram", "securityhub", "account"}
JSON_CONTENT = {"ram": "application/json", "securityhub": "application/json", "account": "application/json",
                "config": "application/x-amz-json-1.1", "organizations": "application/x-amz-json-1.1"}


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


_KEY_ACCOUNTS: dict[str, str] = {}  # access key -> account: a key never moves between accounts


def _access_key(headers: dict[str, str]) -> str:
    match = CREDENTIAL_RE.search(headers.get("authorization", ""))
    return match.group(1) if match else ""


def _principal_for(access_key: str, account: str) -> str:
    """The IAM principal behind an access key of `account`: the role of assumed-role credentials
    (what `aws:PrincipalArn` holds for a role session; moto keeps an assumed role in its account's
    STS backend), else the account's root."""
    from moto.sts.models import sts_backends

    role = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    return role.role_arn if role is not None else f"arn:aws:iam::{account}:root"


def _account_for(access_key: str, headers: dict[str, str]) -> str:
    if "x-moto-account-id" in headers:
        return headers["x-moto-account-id"]
    known = _KEY_ACCOUNTS.get(access_key)
    if known is not None:
        return known
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    # moto searches every account's keys: linear in accounts, so remembered once found
    account = get_account_id_from(access_key)
    if account != DEFAULT_ACCOUNT_ID:
        _KEY_ACCOUNTS[access_key] = account
    return account


class StandIn:
    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    # -- WSGI -----------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_standin/"):
            return self._control(environ, start_response, path)
        if path == "/moto-api/reset":
            self._reset_extensions()
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        match = CREDENTIAL_RE.search(headers.get("authorization", ""))
        if not match:
            return self._moto(environ, start_response, None)
        access_key, region, service = match.group(1), match.group(2), match.group(3).lower()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        method = environ.get("REQUEST_METHOD", "GET")
        operation, uri = self._operation(service, method, path, headers, body)
        account = _account_for(access_key, headers)
        with state.LOCK:
            state.CALLS[(account, service, operation or "?")] += 1
        if service == "config" and operation == "PutEvaluations":
            refused = configsvc.enter_put(account, body)
            if refused:
                return self._error(start_response, service, AwsError(
                    refused, "Another PutEvaluations call with this ResultToken is in progress."))
            try:
                return self._serve(environ, start_response, service, operation, uri, account, region, headers, body)
            finally:
                configsvc.exit_put(body)
        return self._serve(environ, start_response, service, operation, uri, account, region, headers, body)

    def _serve(self, environ: dict, start_response: Callable, service: str, operation: str | None, uri: dict,
               account: str, region: str, headers: dict, body: bytes) -> Iterable[bytes]:
        delay = state.latency_seconds(service)
        if delay > 0:
            time.sleep(delay)
        if state.rate_limited(service, operation, account):
            with state.LOCK:
                state.THROTTLED[(account, service, operation or "?")] += 1
            code, status, message = state.THROTTLE.get(service, ("ThrottlingException", 400, "Rate exceeded"))
            return self._error(start_response, service, AwsError(code, message, status))
        fault = state.take_fault(service, operation, account)
        if fault is not None:
            return self._error(start_response, service, AwsError(fault.code, fault.message, fault.status))
        if service == "sts" and operation == "AssumeRole":
            try:
                sts.check_assume_role(body, account)
            except AwsError as err:
                return self._error(start_response, service, err)
        handler = HANDLERS.get(service)
        if handler is None or operation is None:
            return self._moto(environ, start_response, service)
        try:
            if service in REST_SERVICES:
                params = rest_params(service, operation, body, environ.get("QUERY_STRING", ""), uri, headers)
            else:
                params = json.loads(body) if body.strip() else {}
            result = handler(Call(service, operation, region, account, params,
                                  principal=lambda: _principal_for(_access_key(headers), account)))
        except AwsError as err:
            return self._error(start_response, service, err)
        except (ValueError, KeyError, TypeError) as err:
            return self._error(start_response, service,
                               AwsError("SerializationException" if service not in REST_SERVICES
                                        else "InvalidParameterException", f"Could not read the request: {err}"))
        if result is None:
            return self._moto(environ, start_response, service)
        payload = json.dumps(_strip_none(result)).encode()
        start_response("200 OK", [("Content-Type", JSON_CONTENT.get(service, "application/json")),
                                  ("Content-Length", str(len(payload))),
                                  ("x-amzn-RequestId", "standin-" + str(id(payload)))])
        return [payload]

    @staticmethod
    def _operation(service: str, method: str, path: str, headers: dict, body: bytes) -> tuple[str | None, dict]:
        target = headers.get("x-amz-target")
        if target and "." in target:
            return target.split(".", 1)[1], {}
        if service in REST_SERVICES:
            return rest_operation(service, method, path)
        match = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
        return (match.group(1).decode() if match else None), {}

    def _moto(self, environ: dict, start_response: Callable, service: str | None) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        chunks = b"".join(self.moto(environ, capture))
        status = captured.get("status", "500 INTERNAL SERVER ERROR")
        content_type = next((v for k, v in captured.get("headers", []) if k.lower() == "content-type"), "")
        code = int(status.split()[0])
        if code >= 400 and "html" in content_type.lower():
            err = AwsError("UnknownOperationException" if code in (404, 405) else "InternalFailure",
                           f"The stand-in answered {status} for this {service or 'unknown'} request: "
                           "the operation is not implemented.", 400 if code in (404, 405) else 500)
            return self._error(start_response, service or "unknown", err)
        start_response(status, captured.get("headers", []))
        return [chunks]

    @staticmethod
    def _error(start_response: Callable, service: str, err: AwsError) -> Iterable[bytes]:
        status = err.status or error_status(service, err.code)
        payload = sts.error_xml(err.code, err.message) if service == "sts" else error_body(err.code, err.message, err.extra)
        reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        start_response(f"{status} {reason}", [
            ("Content-Type", "text/xml" if service == "sts" else JSON_CONTENT.get(service, "application/json")),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", err.code),
            ("x-amzn-RequestId", "standin-error"),
        ])
        return [payload]

    # -- control endpoints ------------------------------------------------------------------
    @staticmethod
    def _reset_extensions() -> None:
        with state.LOCK:
            state.reset()
            ram.reset()
            configsvc.reset()
            securityhub.reset()
            organizations.DELEGATION.clear()
            _KEY_ACCOUNTS.clear()

    def _control(self, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
            result = self._control_action(method, path, body)
            status = "200 OK"
        except AwsError as err:
            result, status = {"error": err.code, "message": err.message}, "400 Bad Request"
        except (KeyError, ValueError, TypeError) as err:
            result, status = {"error": "BadControlRequest", "message": str(err)}, "400 Bad Request"
        payload = json.dumps(result).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def _control_action(self, method: str, path: str, body: dict) -> Any:
        if path == "/_standin/health":
            return {"ok": True}
        if path == "/_standin/reset" and method == "POST":
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
            self._reset_extensions()
            return {"reset": True}
        if path == "/_standin/faults":
            if method == "POST":
                fault = state.add_fault(body)
                return {"added": fault.__dict__}
            if method == "DELETE":
                with state.LOCK:
                    state.FAULTS.clear()
                return {"cleared": True}
            with state.LOCK:
                return {"faults": [f.__dict__ for f in state.FAULTS]}
        if path == "/_standin/calls":
            with state.LOCK:
                if method == "DELETE":
                    state.CALLS.clear()
                    state.THROTTLED.clear()
                    return {"cleared": True}
                account = body.get("account")
                # every call received (throttled ones included), and those a rate limit refused
                return {"calls": [{"account": a, "service": s, "operation": o, "count": n}
                                  for (a, s, o), n in sorted(state.CALLS.items()) if not account or a == account],
                        "throttled": [{"account": a, "service": s, "operation": o, "count": n}
                                      for (a, s, o), n in sorted(state.THROTTLED.items())
                                      if not account or a == account]}
        if path == "/_standin/settings" and method == "POST":
            return state.update_settings(body.get("account"), body)
        if path == "/_standin/performance" and method == "POST":
            # {"latency": {"ram": {"fixedMs": 50, "jitterMs": 10}},
            #  "rateLimits": [{"service": "organizations", "operation": "ListAccounts", "rate": 1, "burst": 2}]}
            with state.LOCK:
                for service, spec in (body.get("latency") or {}).items():
                    lat = state.Latency(float(spec.get("fixedMs", 0)), float(spec.get("jitterMs", 0)))
                    if lat.fixed_ms < 0 or lat.jitter_ms < 0:
                        raise ValueError("latency must not be negative")
                    state.LATENCY[service.lower()] = lat
                for spec in body.get("rateLimits") or []:
                    rate, burst = float(spec["rate"]), float(spec.get("burst", spec["rate"]))
                    if rate <= 0 or burst < 1:
                        raise ValueError("a rate limit needs rate > 0 and burst >= 1")
                    state.RATE_LIMITS[(spec["service"].lower(), spec.get("operation") or "*")] = (rate, burst)
                if body.get("clear"):
                    state.LATENCY.clear()
                    state.RATE_LIMITS.clear()
                    state.BUCKETS.clear()
                return {"latency": {s: l.__dict__ for s, l in state.LATENCY.items()},
                        "rateLimits": [{"service": s, "operation": o, "rate": r, "burst": b}
                                       for (s, o), (r, b) in state.RATE_LIMITS.items()]}
        if path == "/_standin/config/rule-event" and method == "POST":
            return configsvc.rule_event(body)
        if path == "/_standin/ram/share-state" and method == "POST":
            return ram.set_share_state(body)
        if path == "/_standin/ram/bulk-shares" and method == "POST":
            return ram.bulk_shares(body)
        if path == "/_standin/iam/role" and method == "POST":
            return sts.create_role(body)
        if path == "/_standin/iam/role" and method == "DELETE":
            return sts.delete_role(body)
        if path == "/_standin/config/started":
            with state.LOCK:
                return {"started": list(configsvc.STATE.started)}
        raise AwsError("UnknownControlPath", f"No control endpoint {method} {path}")
