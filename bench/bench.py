"""ramguard's benchmark: cold start of each function's release binary under a local Lambda Runtime
API; the Config rule's sweep of 1,000 / 10,000 / 100,000 shares against the stand-in at 0 and 50 ms
per call (first sweep, steady state, the sequential baseline), compared in the same run with Cloud
Custodian (aws.resource-share-self + external-share) on the same data; and an organization of
5,000 accounts, one invocation per member, under an Organizations rate limit.

Run through scripts/bench, which builds the binaries and the virtualenvs first. Writes
bench/results.json and bench/results.md and prints the tables."""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
FUNCTIONS = ["config-rule", "findings-importer", "remediator"]
RULE = "ramguard-ram-shares"
OUTSIDE_FRACTION = 0.10
PRINCIPALS_PER_SHARE = 4
MEMBERS = 30
TEMPLATE_MEMORY_MB = 256  # the rule function's MemorySize in template.yaml
DEFAULT_CONCURRENCY = 8  # SWEEP_CONCURRENCY's default


# ----------------------------------------------------------------------------- Lambda Runtime API
FUNCTION_ARN = "arn:aws:lambda:us-east-1:210987654321:function:bench"


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A Runtime API server on a free local port, serving from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class RuntimeServer:
    """A Runtime API served on a free local port (`server`, set by the subclass)."""

    server: ThreadingHTTPServer

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


class RuntimeHandler(BaseHTTPRequestHandler):
    """What both Runtime APIs answer alike: an event with its invocation headers, and an
    invocation's response or error accepted."""

    def log_message(self, *args) -> None:
        pass

    def deliver(self, event: dict, request_id: str) -> None:
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the function was stopped

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def accepted(self) -> None:
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RuntimeApi(RuntimeServer):
    """The Runtime API a Lambda function polls: hands out at most one event, records when the
    function first polled (end of init), when it took the event and when it answered."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.event: dict | None = None
        self.first_poll: float | None = None
        self.delivered: float | None = None
        self.answered: float | None = None
        self.answer: dict | None = None
        self.error: str | None = None
        api = self

        class Handler(RuntimeHandler):
            def do_GET(self) -> None:
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                with api.lock:
                    if api.first_poll is None:
                        api.first_poll = time.perf_counter()
                        api.lock.notify_all()
                    while api.event is None:
                        if not api.lock.wait(timeout=600):
                            self.send_error(504)
                            return
                    event, api.event = api.event, None
                    if api.delivered is None:
                        api.delivered = time.perf_counter()
                self.deliver(event, str(uuid.uuid4()))

            def do_POST(self) -> None:
                body = self.read_body()
                with api.lock:
                    api.answered = time.perf_counter()
                    if self.path.endswith("/response"):
                        api.answer = json.loads(body or b"null")
                    else:
                        api.error = body.decode(errors="replace")
                    api.lock.notify_all()
                self.accepted()

        self.server = serve(Handler)

    def wait(self, attr: str, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        with self.lock:
            while getattr(self, attr) is None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(attr)
                self.lock.wait(timeout=left)
            return getattr(self, attr)

    def close(self) -> None:
        with self.lock:
            self.event = {}
            self.lock.notify_all()
        self.server.shutdown()


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def lambda_env(api: RuntimeApi, extra: dict[str, str]) -> dict[str, str]:
    return lambda_env_at(api.address, extra)


def lambda_env_at(address: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUST_LOG"))}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": address,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_LOG_LEVEL": "warn",
    })
    env.update(extra)
    return env


def binary(name: str) -> Path:
    return ROOT / "target" / "release" / name


def cold_start(name: str, runs: int) -> dict:
    inits, rss = [], []
    for _ in range(runs):
        api = RuntimeApi()
        env = lambda_env(api, {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                               "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
        start = time.perf_counter()
        proc = subprocess.Popen([str(binary(name))], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            polled = api.wait("first_poll", 30)
            inits.append((polled - start) * 1000)
            rss.append(peak_rss_kib(proc.pid))
        finally:
            proc.kill()
            proc.wait()
            api.close()
    return {"init_ms_median": statistics.median(inits), "init_ms_min": min(inits),
            "init_ms_max": max(inits), "runs": runs, "peak_rss_mib": max(rss) / 1024}


def artifact_sizes(name: str) -> dict:
    out = {}
    for label, path in [("x86_64", binary(name)), ("arm64", ROOT / "target/lambda" / name / "bootstrap")]:
        if path.is_file():
            data = path.read_bytes()
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("bootstrap", data)
            out[label] = {"mib": len(data) / 2**20, "zipped_mib": len(buf.getvalue()) / 2**20}
    return out


# ----------------------------------------------------------------------------- stand-in and data
class StandIn:
    def __init__(self) -> None:
        port_file = Path(tempfile.mkdtemp()) / "port"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ramguard_standin", "--port", "0", "--port-file", str(port_file)],
            cwd=ROOT / "tests/standin", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.time() > deadline:
                raise RuntimeError("the stand-in did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read() or b"{}")

    def calls(self, account: str) -> dict[str, int]:
        rows = self.control("POST", "/_standin/calls", {"account": account})["calls"]
        return {f"{r['service']}:{r['operation']}": r["count"] for r in rows}

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def credentials(standin: StandIn, account: str) -> dict[str, str]:
    sts = boto3.client("sts", endpoint_url=standin.url, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bench", RoleSessionName="bench")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"]}


def client(standin: StandIn, service: str, creds: dict[str, str]):
    return boto3.client(service, endpoint_url=standin.url, region_name=REGION,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"],
                        config=Config(retries={"total_max_attempts": 3}))


class Dataset:
    """An organization of 1 + MEMBERS accounts; shares of PRINCIPALS_PER_SHARE principals, each
    outside the organization with probability OUTSIDE_FRACTION, seeded in bulk."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.management = "210987654321"
        self.creds = credentials(standin, self.management)
        orgs = client(standin, "organizations", self.creds)
        org = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.org_arn = org["Arn"]
        self.members = [orgs.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")
                        ["CreateAccountStatus"]["AccountId"] for i in range(MEMBERS)]
        self.ram = client(standin, "ram", self.creds)
        self.ram.enable_sharing_with_aws_organization()
        self.config = client(standin, "config", self.creds)
        self.rng = random.Random(20261123)
        self.shares = 0
        self.associations = 0
        self.outside_shares = 0
        self.rules = 0

    def new_rule(self) -> str:
        """A rule that holds no results yet (Config keeps results per rule)."""
        self.rules += 1
        name = f"{RULE}-{self.rules}"
        put_rule(self.config, self.management, name)
        return name

    def grow_to(self, shares: int) -> None:
        resource = f"arn:aws:ec2:{REGION}:{self.management}:subnet/subnet-0123456789abcdef0"
        while self.shares < shares:
            batch = []
            for _ in range(min(5000, shares - self.shares)):
                principals, outside = set(), False
                while len(principals) < PRINCIPALS_PER_SHARE:
                    if self.rng.random() < OUTSIDE_FRACTION:
                        principals.add(f"arn:aws:iam::9{self.rng.randrange(10**10, 10**11):011d}:role/partner")
                        outside = True
                    else:
                        principals.add(self.rng.choice(self.members))
                batch.append({"name": f"share-{self.shares}", "resources": [resource],
                              "principals": sorted(principals), "allowExternalPrincipals": True})
                self.shares += 1
                self.associations += len(principals)
                self.outside_shares += outside
            self.standin.control("POST", "/_standin/ram/bulk-shares",
                                 {"account": self.management, "region": REGION, "shares": batch})

    def lower_bound(self) -> int:
        """The fewest calls a sweep can make: the organization (ListAccounts, pages of 20), the
        shares and their principal associations (pages of 500), the source constraints (one page
        at least: the call is needed to know there are none), and either every evaluation
        (PutEvaluations, 100 a call) or, in the steady state, the read of every earlier result
        (GetComplianceDetailsByConfigRule, 100 a page) instead."""
        accounts = MEMBERS + 1
        return (math.ceil(accounts / 20) + math.ceil(self.shares / 500)
                + math.ceil(self.associations / 500) + 1 + math.ceil(self.shares / 100))


def put_rule(config, function_account: str, name: str) -> None:
    config.put_config_rule(ConfigRule={
        "ConfigRuleName": name,
        "Source": {"Owner": "CUSTOM_LAMBDA",
                   "SourceIdentifier": f"arn:aws:lambda:{REGION}:{function_account}:function:bench",
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification"}]},
    })


def set_latency(standin: StandIn, ms: float) -> None:
    standin.control("POST", "/_standin/performance", {"clear": True})
    if ms:
        standin.control("POST", "/_standin/performance", {"latency": {
            s: {"fixedMs": ms} for s in ("ram", "config", "organizations", "sts")}})


def ramguard_sweep(standin: StandIn, data: Dataset, rule: str, concurrency: int) -> dict:
    standin.control("DELETE", "/_standin/calls")
    event = standin.control("POST", "/_standin/config/rule-event",
                            {"account": data.management, "ruleName": rule})
    api = RuntimeApi()
    env = lambda_env(api, {**data.creds, "AWS_ENDPOINT_URL": standin.url,
                           "RAMGUARD_ACCOUNT_ID": data.management,
                           "SWEEP_CONCURRENCY": str(concurrency)})
    start = time.perf_counter()
    proc = subprocess.Popen([str(binary("config-rule"))], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        api.wait("first_poll", 30)
        with api.lock:
            api.event = event
            api.lock.notify_all()
        answered = api.wait("answered", 1800)
        delivered = api.delivered
        rss = peak_rss_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        api.close()
    if api.error or not api.answer:
        raise RuntimeError(f"config-rule failed: {api.error}")
    calls = standin.calls(data.management)
    wall_with_init = answered - start
    return {"wall_s": answered - delivered, "wall_with_init_s": wall_with_init,
            # Lambda bills init and invocation by the millisecond at the configured memory
            "billed_gb_s": math.ceil(wall_with_init * 1000) / 1000 * TEMPLATE_MEMORY_MB / 1024,
            "peak_rss_mib": rss / 1024, "calls": calls, "total_calls": sum(calls.values()),
            "non_compliant": api.answer["nonCompliant"],
            "unchanged": api.answer.get("evaluationsUnchanged", 0),
            "result_bytes": len(json.dumps(api.answer).encode())}


def custodian_sweep(standin: StandIn, data: Dataset, custodian: Path) -> dict:
    standin.control("DELETE", "/_standin/calls")
    allow = [data.management, *data.members, data.org_arn]
    policy = {"policies": [{"name": "ram-external-share", "resource": "aws.resource-share-self",
                            "filters": [{"type": "external-share", "allowlist_entities": allow}]}]}
    work = Path(tempfile.mkdtemp())
    (work / "policy.yml").write_text(json.dumps(policy))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({**data.creds, "AWS_ENDPOINT_URL": standin.url, "AWS_DEFAULT_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true"})
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", str(custodian), "run", "-s", str(work / "out"),
                          "--cache-period", "0", "-r", REGION, str(work / "policy.yml")],
                         env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"custodian failed: {out.stderr[-2000:]}")
    # Custodian can exit 0 when a policy run fails: its log says so
    if "Traceback" in out.stderr or " - ERROR - " in out.stderr:
        raise RuntimeError(f"custodian failed: {out.stderr[-2000:]}")
    rss_kib = int(out.stderr.strip().splitlines()[-1])
    found = json.loads((work / "out/ram-external-share/resources.json").read_text())
    calls = standin.calls(data.management)
    return {"wall_s": wall, "peak_rss_mib": rss_kib / 1024, "calls": calls,
            "total_calls": sum(calls.values()), "non_compliant": len(found)}


def sweep_row(standin: StandIn, data: Dataset, latency_ms: float, custodian: Path) -> dict:
    """One size at one latency: ramguard's first sweep (a rule with no results), its steady
    state (the same rule again, nothing changed), the sequential baseline and Custodian."""
    set_latency(standin, latency_ms)
    rule = data.new_rule()
    first = ramguard_sweep(standin, data, rule, DEFAULT_CONCURRENCY)
    steady = ramguard_sweep(standin, data, rule, DEFAULT_CONCURRENCY)
    sequential = ramguard_sweep(standin, data, data.new_rule(), 1)
    c7n = custodian_sweep(standin, data, custodian)
    set_latency(standin, 0)
    row = {"shares": data.shares, "associations": data.associations, "latency_ms": latency_ms,
           "outside_shares": data.outside_shares, "lower_bound": data.lower_bound(),
           "ramguard": first, "steady": steady, "sequential": sequential, "custodian": c7n}
    print(f"sweep {data.shares} @ {latency_ms:g} ms: ramguard {first['wall_s']:.2f}s {first['total_calls']} calls, "
          f"steady {steady['wall_s']:.2f}s {steady['total_calls']} calls, sequential {sequential['wall_s']:.2f}s, "
          f"custodian {c7n['wall_s']:.2f}s", file=sys.stderr)
    return row


# ----------------------------------------------------------------------------- organization scale
class QueueRuntimeApi(RuntimeServer):
    """A Runtime API several function instances poll: each takes the next event from one queue,
    as Lambda hands a function's queued asynchronous invocations to its instances."""

    def __init__(self, events: list[dict]) -> None:
        self.lock = threading.Condition()
        self.queue = list(reversed(events))
        self.done = 0
        self.errors: list[str] = []
        self.total = len(events)
        api = self

        class Handler(RuntimeHandler):
            def do_GET(self) -> None:
                with api.lock:
                    while not api.queue:
                        if not api.lock.wait(timeout=3600):
                            self.send_error(504)
                            return
                    event = api.queue.pop()
                self.deliver(event, str(uuid.uuid4()))

            def do_POST(self) -> None:
                body = self.read_body()
                with api.lock:
                    api.done += 1
                    if not self.path.endswith("/response"):
                        api.errors.append(body.decode(errors="replace")[:500])
                    api.lock.notify_all()
                self.accepted()

        self.server = serve(Handler)

    def wait_all(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        with self.lock:
            while self.done < self.total:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(f"{self.done}/{self.total} invocations answered")
                self.lock.wait(timeout=min(left, 5))

    def close(self) -> None:
        self.server.shutdown()


def organization_scale(accounts: int, concurrency: int, rate: float, burst: float) -> dict:
    """An organization of `accounts` accounts, each member with one share and the organization
    rule's copy; one scheduled invocation per member, as an organization rule produces them,
    handled by `concurrency` instances (the template's RuleConcurrency), with Organizations
    rate-limited per account and operation."""
    standin = StandIn()
    try:
        management = "210987654321"
        creds = credentials(standin, management)
        orgs = client(standin, "organizations", creds)
        orgs.create_organization(FeatureSet="ALL")
        with ThreadPoolExecutor(4) as pool:
            members = list(pool.map(lambda i: orgs.create_account(
                AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"],
                range(accounts - 1)))
        client(standin, "ram", creds).enable_sharing_with_aws_organization()
        rule = f"OrgConfigRule-{RULE}-bench1"
        rng = random.Random(5000)
        principals_of = {m: sorted({rng.choice(members) for _ in range(PRINCIPALS_PER_SHARE)} - {m})
                         for m in members}
        # the template's Organization-scope rule parameters (the member role is the harness's)
        parameters = json.dumps({"ExecutionRoleName": "bench", "OrgCacheTtlSeconds": "900"})

        # one Config client acting as each member in turn (the stand-in takes the account from
        # x-moto-account-id): building a client per member costs more than the benchmark itself
        config = client(standin, "config", creds)
        acting = threading.local()
        config.meta.events.register(
            "before-sign.config.PutConfigRule",
            lambda request, **_: request.headers.__setitem__("x-moto-account-id", acting.account))

        def member_world(member: str) -> dict:
            acting.account = member
            put_rule(config, management, rule)
            standin.control("POST", "/_standin/ram/bulk-shares", {
                "account": member, "region": REGION,
                "shares": [{"name": "s", "principals": principals_of[member],
                            "resources": [f"arn:aws:ec2:{REGION}:{member}:subnet/subnet-0123456789abcdef0"]}]})
            return standin.control("POST", "/_standin/config/rule-event", {
                "account": member, "ruleName": rule, "ruleParameters": parameters})

        with ThreadPoolExecutor(4) as pool:
            events = list(pool.map(member_world, members))
        standin.control("DELETE", "/_standin/calls")
        standin.control("POST", "/_standin/performance", {"rateLimits": [
            {"service": "organizations", "operation": "ListAccounts", "rate": rate, "burst": burst}]})
        api = QueueRuntimeApi(events)
        env = lambda_env_at(api.address, {**creds, "AWS_ENDPOINT_URL": standin.url,
                                          "RAMGUARD_ACCOUNT_ID": management})
        start = time.perf_counter()
        procs = [subprocess.Popen([str(binary("config-rule"))], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(concurrency)]
        try:
            api.wait_all(3600)
            wall = time.perf_counter() - start
            rss = [peak_rss_kib(p.pid) / 1024 for p in procs]
        finally:
            for p in procs:
                p.kill()
                p.wait()
            api.close()
        counts = standin.control("POST", "/_standin/calls", {})

        def by_operation(rows: list[dict]) -> dict[str, int]:
            out: dict[str, int] = {}
            for r in rows:
                key = f"{r['service']}:{r['operation']}"
                out[key] = out.get(key, 0) + r["count"]
            return out

        received, throttled = by_operation(counts["calls"]), by_operation(counts["throttled"])
        org_received = sum(n for k, n in received.items() if k.startswith("organizations:"))
        org_throttled = sum(n for k, n in throttled.items() if k.startswith("organizations:"))
        return {"accounts": accounts, "invocations": len(events), "concurrency": concurrency,
                "rate_limit": {"rate": rate, "burst": burst}, "wall_s": wall,
                "peak_rss_mib": max(rss),
                "failed": len(api.errors), "errors": api.errors[:5],
                "organizations_calls": org_received - org_throttled,
                "organizations_throttled": org_throttled,
                "organizations_bound": 2 * math.ceil(accounts / 20),
                "calls": received, "throttled": throttled}
    finally:
        standin.stop()


# ----------------------------------------------------------------------------- ramguard scan
SCAN_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


def scan_scale(accounts: int, regions: int, shares: int, latency_ms: float, concurrencies: list[int]) -> dict:
    """`ramguard scan --organization` over `accounts` accounts × `regions` Regions with `shares`
    shares each (10% reaching outside), every call `latency_ms` slower, each account read through
    a role; once per concurrency (1: the sequential baseline)."""
    standin = StandIn()
    try:
        management = "210987654321"
        creds = credentials(standin, management)
        orgs = client(standin, "organizations", creds)
        orgs.create_organization(FeatureSet="ALL")
        with ThreadPoolExecutor(4) as pool:
            members = list(pool.map(lambda i: orgs.create_account(
                AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"],
                range(accounts - 1)))
        client(standin, "ram", creds).enable_sharing_with_aws_organization()
        rng = random.Random(300)
        every = [management, *members]
        outside = 0

        def seed(target: tuple[str, str]) -> int:
            account, region = target
            batch, bad = [], 0
            for n in range(shares):
                principals = sorted({rng.choice(every) for _ in range(PRINCIPALS_PER_SHARE)} - {account})
                if rng.random() < OUTSIDE_FRACTION:
                    principals.append("999999999999")
                    bad += 1
                batch.append({"name": f"s{n}", "principals": principals, "allowExternalPrincipals": True,
                              "resources": [f"arn:aws:ec2:{region}:{account}:subnet/subnet-{n:017x}"]})
            standin.control("POST", "/_standin/ram/bulk-shares", {"account": account, "region": region, "shares": batch})
            return bad

        targets = [(a, r) for a in every for r in SCAN_REGIONS[:regions]]
        with ThreadPoolExecutor(4) as pool:
            outside = sum(pool.map(seed, targets))
        set_latency(standin, latency_ms)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({**creds, "AWS_ENDPOINT_URL": standin.url, "AWS_REGION": REGION,
                    "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"})
        rows = []
        for concurrency in concurrencies:
            standin.control("DELETE", "/_standin/calls")
            out_file = Path(tempfile.mkdtemp()) / "scan.json"
            start = time.perf_counter()
            run = subprocess.run(["/usr/bin/time", "-f", "%M", str(ROOT / "target/release/ramguard"), "scan",
                                  "--organization", "--role", "bench", "--regions", ",".join(SCAN_REGIONS[:regions]),
                                  "--format", "json", "--output", str(out_file), "--concurrency", str(concurrency)],
                                 env=env, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if run.returncode not in (0, 3):
                raise RuntimeError(f"ramguard scan failed ({run.returncode}): {run.stderr[-2000:]}")
            report_json = json.loads(out_file.read_text())
            counts = standin.control("POST", "/_standin/calls", {})["calls"]
            by_op: dict[str, int] = {}
            for r in counts:
                by_op[f"{r['service']}:{r['operation']}"] = by_op.get(f"{r['service']}:{r['operation']}", 0) + r["count"]
            rows.append({"concurrency": concurrency, "wall_s": wall, "by_operation": by_op,
                         "peak_rss_mib": int(run.stderr.strip().splitlines()[-1]) / 1024,
                         "calls": sum(r["count"] for r in counts),
                         "shares": report_json["summary"]["shares"],
                         "findings": report_json["summary"]["findings"],
                         "unreadable": report_json["summary"]["unreadable"]})
            print(f"scan: {rows[-1]}", file=sys.stderr)
        c7n_org = ROOT / ".venv-bench/bin/c7n-org"
        custodian = c7n_org_scan(standin, env, every, management, SCAN_REGIONS[:regions], c7n_org) \
            if c7n_org.exists() else None
        return {"accounts": accounts, "regions": regions, "shares_per_target": shares,
                "latency_ms": latency_ms, "seeded_outside": outside, "runs": rows, "c7n_org": custodian}
    finally:
        standin.stop()


def c7n_org_scan(standin: StandIn, env: dict, accounts: list[str], management: str, regions: list[str],
                 c7n_org: Path) -> dict:
    """Cloud Custodian's multi-account runner over the same accounts and Regions: the
    `aws.resource-share-self` resource with the `external-share` filter (the organization's
    accounts allowlisted), each account through the same role."""
    standin.control("DELETE", "/_standin/calls")
    work = Path(tempfile.mkdtemp())
    config = {"accounts": [{"account_id": a, "name": f"a{a}", "regions": regions,
                            "role": f"arn:aws:iam::{a}:role/bench"} for a in accounts]}
    (work / "accounts.yml").write_text(json.dumps(config))
    policy = {"policies": [{"name": "ram-external-share", "resource": "aws.resource-share-self",
                            "filters": [{"type": "external-share", "allowlist_entities": accounts}]}]}
    (work / "policy.yml").write_text(json.dumps(policy))
    start = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-f", "%M", str(c7n_org), "run", "-c", str(work / "accounts.yml"),
                          "-s", str(work / "out"), "-u", str(work / "policy.yml"), "--cache-period", "0"],
                         env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    found = sum(len(json.loads(p.read_text())) for p in (work / "out").rglob("resources.json"))
    counts = standin.control("POST", "/_standin/calls", {})["calls"]
    return {"wall_s": wall, "exit": run.returncode, "peak_rss_mib_parent": int(run.stderr.strip().splitlines()[-1]) / 1024,
            "calls": sum(r["count"] for r in counts), "non_compliant": found,
            "errors": run.stderr.count(" - ERROR - ")}


def scan_report(scan: dict) -> str:
    lines = [f"## `ramguard scan --organization`: {scan['accounts']} accounts × {scan['regions']} Regions × "
             f"{scan['shares_per_target']} shares, {scan['latency_ms']:.0f} ms per call", "",
             "| run | wall (s) | peak RSS (MiB) | calls | shares | findings | unreadable |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in scan["runs"]:
        lines.append(f"| ramguard, concurrency {r['concurrency']} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.1f} | {r['calls']} | "
                     f"{r['shares']} | {r['findings']} | {r['unreadable']} |")
    c = scan.get("c7n_org")
    if c:
        lines.append(f"| c7n-org (exit {c['exit']}, {c['errors']} errors) | {c['wall_s']:.1f} | "
                     f"{c['peak_rss_mib_parent']:.1f} (parent) | {c['calls']} | - | {c['non_compliant']} shares | - |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- report
def report(results: dict) -> str:
    lines = ["### Cold start (release binaries, x86_64, local Lambda Runtime API)", "",
             f"Init = process start → first poll for an event; median of {results['runs']} runs.", "",
             "| function | init median | init min–max | peak RSS | binary x86_64 (zipped) | binary arm64 (zipped) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results["cold_start"].items():
        sizes = results["sizes"][name]
        fmt = lambda k: (f"{sizes[k]['mib']:.1f} MiB ({sizes[k]['zipped_mib']:.1f} MiB)" if k in sizes else "-")
        lines.append(f"| {name} | {r['init_ms_median']:.1f} ms | {r['init_ms_min']:.1f}–{r['init_ms_max']:.1f} ms "
                     f"| {r['peak_rss_mib']:.1f} MiB | {fmt('x86_64')} | {fmt('arm64')} |")
    lines += ["", "### Sweep: the Config rule vs its sequential baseline and Cloud Custodian, same stand-in, same data", "",
              f"{PRINCIPALS_PER_SHARE} principals per share, each outside the organization with probability "
              f"{OUTSIDE_FRACTION:.0%}; {MEMBERS + 1} accounts in the organization. Latency is added by the "
              f"stand-in to every call of every service. ramguard runs with SWEEP_CONCURRENCY "
              f"{DEFAULT_CONCURRENCY} (the default), the sequential baseline with 1. \"first\" is a sweep with "
              f"no earlier results, \"steady\" the next sweep with nothing changed. Billed GB-s: init + "
              f"invocation at the template's {TEMPLATE_MEMORY_MB} MB. Custodian reads one page of associations "
              f"(its external-share filter), ramguard reads all of them.", "",
              "| shares | latency | ramguard first: wall | calls (lower bound) | peak RSS | GB-s | result "
              "| steady: wall | calls (×bound) | sequential wall | speed-up | Custodian wall | Custodian calls "
              "| Custodian RSS | Custodian / ramguard |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in results["sweeps"]:
        rg, st, sq, c7n = s["ramguard"], s["steady"], s["sequential"], s["custodian"]
        lb = s["lower_bound"]
        lines.append(
            f"| {s['shares']:,} | {s['latency_ms']:g} ms | {rg['wall_s']:.2f} s "
            f"| {rg['total_calls']:,} ({lb:,}, ×{rg['total_calls'] / lb:.3f}) | {rg['peak_rss_mib']:.1f} MiB "
            f"| {rg['billed_gb_s']:.3f} | {rg['result_bytes'] / 1024:.1f} KB "
            f"| {st['wall_s']:.2f} s | {st['total_calls']:,} (×{st['total_calls'] / lb:.3f}) "
            f"| {sq['wall_s']:.2f} s | {sq['wall_s'] / rg['wall_s']:.1f}× | {c7n['wall_s']:.2f} s "
            f"| {c7n['total_calls']:,} | {c7n['peak_rss_mib']:.1f} MiB | {c7n['wall_s'] / rg['wall_s']:.1f}× |")
    lines += ["", "API calls by operation (first sweep; steady state):", ""]
    for s in results["sweeps"]:
        if s["latency_ms"]:
            continue
        rg = ", ".join(f"{k} {v:,}" for k, v in sorted(s["ramguard"]["calls"].items()))
        st = ", ".join(f"{k} {v:,}" for k, v in sorted(s["steady"]["calls"].items()))
        c7n = ", ".join(f"{k} {v:,}" for k, v in sorted(s["custodian"]["calls"].items()))
        lines.append(f"- {s['shares']:,} shares — ramguard: {rg}; steady: {st}; Custodian: {c7n}")
    org = results.get("organization")
    if org:
        lines += ["", "### Organization scale", "",
                  f"{org['accounts']:,} accounts; one scheduled invocation per member ({org['invocations']:,}), "
                  f"as an organization rule produces them, handled by {org['concurrency']} instances (the "
                  f"template's RuleConcurrency); Organizations ListAccounts limited to {org['rate_limit']['rate']:g} "
                  f"calls a second (burst {org['rate_limit']['burst']:g}).", "",
                  "| invocations | failed | Organizations calls (bound 2 × ⌈accounts/20⌉) | throttled | wall "
                  "| peak RSS per instance |",
                  "| --- | --- | --- | --- | --- | --- |",
                  f"| {org['invocations']:,} | {org['failed']} | {org['organizations_calls']:,} "
                  f"({org['organizations_bound']:,}) | {org['organizations_throttled']:,} | {org['wall_s']:.0f} s "
                  f"| {org['peak_rss_mib']:.1f} MiB |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--latencies", default="0,50")
    parser.add_argument("--org-accounts", type=int, default=5000)
    parser.add_argument("--org-concurrency", type=int, default=2)
    parser.add_argument("--custodian", default=str(ROOT / ".venv-bench/bin/custodian"))
    parser.add_argument("--scan-only", action="store_true",
                        help="only the ramguard scan benchmark (writes bench/scan-results.md)")
    parser.add_argument("--scan-accounts", type=int, default=300)
    parser.add_argument("--scan-regions", type=int, default=4)
    parser.add_argument("--scan-shares", type=int, default=25)
    parser.add_argument("--scan-concurrency", default="16,1")
    args = parser.parse_args()
    if args.scan_only:
        scan = scan_scale(args.scan_accounts, args.scan_regions, args.scan_shares, 50,
                          [int(c) for c in args.scan_concurrency.split(",")])
        (ROOT / "bench/scan-results.json").write_text(json.dumps(scan, indent=2) + "\n")
        (ROOT / "bench/scan-results.md").write_text(scan_report(scan))
        print(scan_report(scan))
        return
    started = time.perf_counter()
    results = {"runs": args.runs, "cold_start": {}, "sizes": {}, "sweeps": []}
    for name in FUNCTIONS:
        results["cold_start"][name] = cold_start(name, args.runs)
        results["sizes"][name] = artifact_sizes(name)
        print(f"cold start {name}: {results['cold_start'][name]}", file=sys.stderr)
    standin = StandIn()
    try:
        data = Dataset(standin)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            data.grow_to(size)
            for latency in [float(x) for x in args.latencies.split(",") if x]:
                results["sweeps"].append(sweep_row(standin, data, latency, Path(args.custodian)))
    finally:
        standin.stop()
    if args.org_accounts:
        results["organization"] = organization_scale(args.org_accounts, args.org_concurrency, rate=5, burst=5)
        print(f"organization: {results['organization']}", file=sys.stderr)
    results["bench_minutes"] = (time.perf_counter() - started) / 60
    (ROOT / "bench/results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = report(results) + f"\nWhole benchmark: {results['bench_minutes']:.1f} min on this machine.\n"
    (ROOT / "bench/results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
