"""Process-wide stand-in state: clock, asynchronous settling, quirks, fault injection, call counts."""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

LOCK = threading.RLock()


@dataclass
class Fault:
    service: str
    operation: str | None  # None: every operation of the service
    code: str
    status: int
    message: str
    remaining: int | None  # None: unlimited (with fraction)
    fraction: float
    account: str | None = None
    # Per-item faults fail single items of a batch operation (BatchImportFindings' FailedFindings)
    # instead of the whole request.
    per_item: bool = False
    # Entity faults refuse a whole call only when the request names this entity (a principal of
    # DisassociateResourceShare): what RAM does with one principal it will not remove.
    entity: str | None = None


@dataclass
class Settings:
    # Seconds an asynchronous RAM transition (ASSOCIATING, DISASSOCIATING, DELETING) takes to settle.
    settle_seconds: float = 0.0
    # Operations whose first page is answered empty with a NextToken, as AWS may do ("can
    # occasionally return an empty set of results even when there are more results available").
    empty_first_page: set[str] = field(default_factory=set)
    # Seconds a StartConfigRulesEvaluation run stays in progress.
    config_evaluation_seconds: float = 1.0
    # StartConfigRulesEvaluation refuses a second start of a rule within this many seconds
    # ("more than once per minute", Config API reference).
    config_start_window_seconds: float = 60.0
    # GetComplianceDetailsByConfigRule answers with the results as they were this many seconds ago
    # (AWS documents no read-after-write consistency for it).
    read_back_lag_seconds: float = 0.0
    # PutEvaluations refuses a call while another with the same ResultToken is in flight, with
    # this error code (empty: accepted, as the stand-in does by default).
    refuse_concurrent_put_evaluations: str = ""
    # Opt-in Regions enabled for the account (Account ListRegions answers ENABLED for them).
    enabled_regions: set[str] = field(default_factory=set)


# The settings' names on the control endpoint (/_standin/settings), with their conversions.
SETTING_NAMES = {
    "settleSeconds": ("settle_seconds", float),
    "emptyFirstPage": ("empty_first_page", set),
    "configEvaluationSeconds": ("config_evaluation_seconds", float),
    "configStartWindowSeconds": ("config_start_window_seconds", float),
    "readBackLagSeconds": ("read_back_lag_seconds", float),
    "refuseConcurrentPutEvaluations": ("refuse_concurrent_put_evaluations", str),
    "enabledRegions": ("enabled_regions", set),
}


def settings_view(settings: "Settings") -> dict:
    out = {}
    for name, (attr, _) in SETTING_NAMES.items():
        value = getattr(settings, attr)
        out[name] = sorted(value) if isinstance(value, set) else value
    return out


def update_settings(account: str | None, body: dict) -> dict:
    """Changes the stand-in's settings, for one account when `account` is given (a copy of the
    global settings at first), else globally."""
    import copy

    with LOCK:
        if account:
            target = ACCOUNT_SETTINGS.get(account)
            if target is None:
                target = ACCOUNT_SETTINGS[account] = copy.deepcopy(SETTINGS)
        else:
            target = SETTINGS
        for name, value in body.items():
            if name == "account":
                continue
            if name not in SETTING_NAMES:
                raise ValueError(f"unknown setting {name}")
            attr, convert = SETTING_NAMES[name]
            setattr(target, attr, convert(value))
        return settings_view(target)


def empty_first(call) -> bool:  # noqa: ANN001 - a protocol.Call
    """Whether this call's first page is answered empty with a token (setting emptyFirstPage)."""
    return (call.operation or "") in settings_for(call.account).empty_first_page


SETTINGS = Settings()
ACCOUNT_SETTINGS: dict[str, Settings] = {}  # per-account overrides, so parallel tests stay apart


@dataclass
class Latency:
    """Added to every answer of a service: fixed milliseconds plus up to `jitter_ms` more."""
    fixed_ms: float = 0.0
    jitter_ms: float = 0.0


@dataclass
class Bucket:
    """A token bucket per (account, service, operation): `rate` calls a second, `burst` at once;
    a call that finds it empty is answered with the service's own throttling error."""
    rate: float
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


LATENCY: dict[str, Latency] = {}  # service -> latency (off unless set)
RATE_LIMITS: dict[tuple[str, str], tuple[float, float]] = {}  # (service, operation or "*") -> (rate, burst)
BUCKETS: dict[tuple[str, str, str], Bucket] = {}  # (account, service, operation)


def latency_seconds(service: str) -> float:
    with LOCK:
        lat = LATENCY.get(service)
        if lat is None:
            return 0.0
        return (lat.fixed_ms + _RNG.random() * lat.jitter_ms) / 1000.0


def rate_limited(service: str, operation: str | None, account: str) -> bool:
    """Whether this call finds its token bucket empty (no limit set: never)."""
    op = operation or "?"
    with LOCK:
        limit = RATE_LIMITS.get((service, op)) or RATE_LIMITS.get((service, "*"))
        if limit is None:
            return False
        key = (account, service, op)
        bucket = BUCKETS.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != limit:
            bucket = BUCKETS[key] = Bucket(*limit)
        return not bucket.take(time.monotonic())


def settings_for(account: str | None) -> Settings:
    return ACCOUNT_SETTINGS.get(account or "", SETTINGS)
FAULTS: list[Fault] = []
CALLS: Counter = Counter()  # (account, service, operation) -> count
THROTTLED: Counter = Counter()  # (account, service, operation) -> calls a rate limit refused
_RNG = random.Random(7)


def now() -> float:
    return time.time()


THROTTLE = {
    "ram": ("ThrottlingException", 429, "Rate exceeded"),
    "organizations": ("TooManyRequestsException", 400,
                      "AWS Organizations can't complete your request because another request is already in progress."),
    "securityhub": ("TooManyRequestsException", 429, "Rate exceeded"),
    "config": ("ThrottlingException", 400, "Rate exceeded"),
    "sts": ("Throttling", 400, "Rate exceeded"),
}


def add_fault(spec: dict) -> Fault:
    service = spec["service"].lower()
    kind = spec.get("kind", "throttle")
    if kind == "throttle":
        code, status, message = THROTTLE.get(service, ("ThrottlingException", 400, "Rate exceeded"))
    elif kind == "5xx":
        code, status, message = "InternalFailure", int(spec.get("status", 500)), "We encountered an internal error."
    else:
        code, status, message = kind, int(spec.get("status", 400)), spec.get("message", "injected fault")
    count = spec.get("count")
    fault = Fault(service, spec.get("operation"), code, status, message,
                  None if count is None else int(count), float(spec.get("fraction", 1.0)), spec.get("account"),
                  bool(spec.get("per_item", False)), spec.get("entity"))
    with LOCK:
        FAULTS.append(fault)
    return fault


def take_fault(service: str, operation: str | None, account: str, per_item: bool = False,
               entity: str | None = None) -> Fault | None:
    with LOCK:
        for fault in FAULTS:
            if fault.service != service or (fault.operation and fault.operation != operation):
                continue
            if fault.per_item != per_item or fault.entity != entity:
                continue
            if fault.account and fault.account != account:
                continue
            if fault.remaining is not None and fault.remaining <= 0:
                continue
            if fault.fraction < 1.0 and _RNG.random() >= fault.fraction:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault
    return None


def reset() -> None:
    with LOCK:
        SETTINGS.__init__()
        ACCOUNT_SETTINGS.clear()
        FAULTS.clear()
        CALLS.clear()
        THROTTLED.clear()
        LATENCY.clear()
        RATE_LIMITS.clear()
        BUCKETS.clear()
