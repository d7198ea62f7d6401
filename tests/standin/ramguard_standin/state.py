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


@dataclass
class Settings:
    # Seconds an asynchronous RAM transition (ASSOCIATING, DISASSOCIATING, DELETING) takes to settle.
    settle_seconds: float = 0.0
    # Operations whose first page is answered empty with a NextToken, as AWS may do.
    empty_first_page: set[str] = field(default_factory=set)
    # Seconds a StartConfigRulesEvaluation run stays in progress.
    config_evaluation_seconds: float = 1.0


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
                  bool(spec.get("per_item", False)))
    with LOCK:
        FAULTS.append(fault)
    return fault


def take_fault(service: str, operation: str | None, account: str, per_item: bool = False) -> Fault | None:
    with LOCK:
        for fault in FAULTS:
            if fault.service != service or (fault.operation and fault.operation != operation):
                continue
            if fault.per_item != per_item:
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
