"""AWS Config evaluations for custom Lambda rules: result tokens, PutEvaluations, compliance
read-back and StartConfigRulesEvaluation, as the Config API reference describes them."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.config.models import config_backends

from . import state
from .protocol import AwsError, Call, paginate

COMPLIANCE_TYPES = {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"}
PUT_TYPES = {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}


@dataclass
class Token:
    account: str
    region: str
    rule: str
    invoked: float


@dataclass
class Evaluation:
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str | None
    ordering: float
    recorded: float
    invoked: float
    token: str
    # the result this one replaced: a lagging read-back (readBackLagSeconds) answers with it
    replaced: "Evaluation | None" = None

    def as_of(self, moment: float) -> "Evaluation | None":
        """The result that was stored at `moment`."""
        ev: Evaluation | None = self
        while ev is not None and ev.recorded > moment:
            ev = ev.replaced
        return ev


@dataclass
class ConfigState:
    tokens: dict[str, Token] = field(default_factory=dict)
    results: dict[tuple[str, str, str], dict[tuple[str, str], Evaluation]] = field(default_factory=dict)
    running_until: dict[tuple[str, str, str], float] = field(default_factory=dict)
    last_start: dict[tuple[str, str, str], float] = field(default_factory=dict)
    started: list[dict] = field(default_factory=list)
    # ResultTokens with a PutEvaluations call in flight (refuseConcurrentPutEvaluations)
    in_flight: set[str] = field(default_factory=set)
    generation: int = 0  # bumped by every change to results


STATE = ConfigState()


def reset() -> None:
    global STATE
    STATE = ConfigState()
    _LISTINGS.clear()


def _rule(account: str, region: str, name: str) -> Any:
    backend = config_backends[account][region]
    rule = backend.config_rules.get(name)
    if rule is None:
        raise AwsError("NoSuchConfigRuleException",
                       f"The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name.")
    return rule


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rule_event(spec: dict) -> dict:
    """A Lambda invocation event for a custom rule, shaped as AWS Config sends it, with a fresh
    ResultToken that this stand-in's PutEvaluations accepts."""
    account, region, name = spec["account"], spec.get("region", "us-east-1"), spec["ruleName"]
    with state.LOCK:
        rule = _rule(account, region, name)
        now = state.now()
        token = uuid.uuid4().hex + uuid.uuid4().hex
        STATE.tokens[token] = Token(account, region, name, now)
    message_type = spec.get("messageType", "ScheduledNotification")
    notification_time = spec.get("notificationCreationTime", _iso(now))
    if message_type == "ScheduledNotification":
        invoking = {"awsAccountId": account, "notificationCreationTime": notification_time,
                    "messageType": message_type, "recordVersion": "1.0"}
    elif message_type == "ConfigurationItemChangeNotification":
        item = spec.get("configurationItem") or {}
        item = {"configurationItemCaptureTime": notification_time, "awsAccountId": account,
                "configurationItemStatus": "OK", "awsRegion": region, "relationships": [],
                "configuration": {}, "supplementaryConfiguration": {}, "tags": {},
                "configurationItemVersion": "1.3", "configurationStateId": int(now * 1000), **item}
        invoking = {"configurationItemDiff": None, "configurationItem": item, "notificationCreationTime": notification_time,
                    "messageType": message_type, "recordVersion": "1.3"}
    elif message_type == "OversizedConfigurationItemChangeNotification":
        summary = spec.get("configurationItemSummary") or {}
        summary = {"changeType": "UPDATE", "configurationItemVersion": "1.3",
                   "configurationItemCaptureTime": notification_time, "configurationStateId": int(now * 1000),
                   "awsAccountId": account, "configurationItemStatus": "OK", "awsRegion": region, **summary}
        invoking = {"configurationItemSummary": summary, "messageType": message_type,
                    "notificationCreationTime": notification_time, "recordVersion": "1.0"}
    else:
        invoking = {"messageType": message_type, "notificationCreationTime": notification_time}
    params = spec.get("ruleParameters")
    if params is None:
        params = rule.input_parameters if isinstance(getattr(rule, "input_parameters", None), str) else "{}"
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": params if isinstance(params, str) else json.dumps(params),
        "resultToken": token,
        "eventLeftScope": bool(spec.get("eventLeftScope", False)),
        "executionRoleArn": f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "configRuleArn": rule.config_rule_arn,
        "configRuleName": name,
        "configRuleId": rule.config_rule_id,
        "accountId": account,
        "evaluationMode": "DETECTIVE",
    }


def _ts(value: Any, what: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    raise AwsError("ValidationException", f"{what} must be a timestamp.")


# Resource types Config knows (a few of its list; ramguard reports the first two). PutEvaluations
# refuses any other ("The resource type … is invalid. Only the following values are permitted").
RESOURCE_TYPES = {"AWS::RAM::ResourceShare", "AWS::::Account", "AWS::EC2::Subnet", "AWS::EC2::TransitGateway",
                  "AWS::S3::Bucket", "AWS::IAM::Role", "AWS::EC2::VPC", "AWS::Lambda::Function"}


def put_evaluations(call: Call, p: dict, now: float) -> dict:
    token = p.get("ResultToken")
    if not token:
        raise AwsError("ValidationException", "1 validation error detected: Value null at 'resultToken' "
                                              "failed to satisfy constraint: Member must not be null")
    evaluations = p.get("Evaluations") or []
    if len(evaluations) > 100:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value at 'evaluations' failed to satisfy constraint: "
                       f"Member must have length less than or equal to 100 (got {len(evaluations)})")
    issued = STATE.tokens.get(token)
    if issued is None or issued.account != call.account or issued.region != call.region:
        raise AwsError("InvalidResultTokenException", "The result token is invalid.")
    _rule(issued.account, issued.region, issued.rule)
    parsed = []
    for i, ev in enumerate(evaluations):
        ctype = ev.get("ComplianceType")
        if ctype not in PUT_TYPES:
            if ctype == "INSUFFICIENT_DATA":
                raise AwsError("InvalidParameterValueException",
                               "The compliance type INSUFFICIENT_DATA is not supported for custom rules.")
            raise AwsError("ValidationException", f"Value '{ctype}' at 'evaluations.{i + 1}.member.complianceType' "
                                                  "failed to satisfy constraint: Member must satisfy enum value set")
        annotation = ev.get("Annotation")
        if annotation is not None and not 1 <= len(annotation) <= 256:
            raise AwsError("ValidationException", f"Value at 'evaluations.{i + 1}.member.annotation' failed to "
                                                  "satisfy constraint: Member must have length between 1 and 256")
        rtype, rid = ev.get("ComplianceResourceType"), ev.get("ComplianceResourceId")
        if not rtype or not 1 <= len(rtype) <= 256:
            raise AwsError("ValidationException", f"evaluations.{i + 1}.member.complianceResourceType is invalid")
        if rtype not in RESOURCE_TYPES:
            raise AwsError("ValidationException", f"The resource type {rtype} is invalid. Only the following "
                                                  "values are permitted: " + ", ".join(sorted(RESOURCE_TYPES)))
        if not rid or not 1 <= len(rid) <= 768:
            raise AwsError("ValidationException", f"evaluations.{i + 1}.member.complianceResourceId is invalid")
        if "OrderingTimestamp" not in ev:
            raise AwsError("ValidationException", f"evaluations.{i + 1}.member.orderingTimestamp must not be null")
        parsed.append(Evaluation(rtype, rid, ctype, annotation, _ts(ev["OrderingTimestamp"], "OrderingTimestamp"),
                                 now, issued.invoked, token))
    if p.get("TestMode"):
        return {"FailedEvaluations": []}
    store = STATE.results.setdefault((issued.account, issued.region, issued.rule), {})
    STATE.generation += 1
    for ev in parsed:
        key = (ev.resource_type, ev.resource_id)
        old = store.get(key)
        if old is None or ev.ordering >= old.ordering:
            ev.replaced = old
            store[key] = ev
    return {"FailedEvaluations": []}


def _describe_result(rule: str, ev: Evaluation) -> dict:
    out = {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {"ConfigRuleName": rule, "ResourceType": ev.resource_type,
                                          "ResourceId": ev.resource_id, "EvaluationMode": "DETECTIVE"},
            "OrderingTimestamp": ev.ordering,
        },
        "ComplianceType": ev.compliance, "ResultRecordedTime": ev.recorded,
        "ConfigRuleInvokedTime": ev.invoked,
    }
    if ev.annotation:
        out["Annotation"] = ev.annotation
    return out


def _compliance_types(p: dict) -> set[str]:
    types = set(p.get("ComplianceTypes") or [])
    bad = types - COMPLIANCE_TYPES
    if bad:
        raise AwsError("InvalidParameterValueException", f"Invalid compliance types: {sorted(bad)}")
    return types


_LISTINGS: dict[tuple, tuple[int, list]] = {}


def _listing(account: str, region: str, name: str, types: set[str], now: float) -> list:
    """A rule's results of the given types in resource order, kept until the next
    PutEvaluations (paging through 100,000 results sorts them once, not once per page). With
    readBackLagSeconds, the results as they were that long ago: AWS documents no read-after-write
    consistency for GetComplianceDetailsByConfigRule."""
    lag = state.settings_for(account).read_back_lag_seconds
    key = (account, region, name, tuple(sorted(types)), lag > 0)
    cached = _LISTINGS.get(key)
    if lag <= 0 and cached is not None and cached[0] == STATE.generation:
        return cached[1]
    store = STATE.results.get((account, region, name), {})
    seen = ((k, ev if lag <= 0 else ev.as_of(now - lag)) for k, ev in sorted(store.items()))
    rows = [ev for _, ev in seen if ev is not None and (not types or ev.compliance in types)]
    if lag <= 0:
        _LISTINGS[key] = (STATE.generation, rows)
    return rows


def _rule_name_param(value: object, member: str) -> str:
    """ConfigRuleName of GetComplianceDetailsByConfigRule is a StringWithCharLimit64 (1 to 64
    characters, service model), not the 128 characters PutConfigRule takes."""
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                       "constraint: Member must have length less than or equal to 64")
    return value


def get_compliance_details_by_config_rule(call: Call, p: dict, now: float) -> dict:
    name = _rule_name_param(p.get("ConfigRuleName"), "configRuleName")
    _rule(call.account, call.region, name)
    types = _compliance_types(p)
    limit = p.get("Limit") or 100
    if not 0 <= limit <= 100:
        raise AwsError("InvalidParameterValueException", "Limit must be between 0 and 100.")
    rows = _listing(call.account, call.region, name, types, now)
    page, token = paginate(rows, limit, p.get("NextToken"), f"gcd:{call.account}:{name}:{sorted(types)}",
                           "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"EvaluationResults": [_describe_result(name, ev) for ev in page]}
    if token:
        out["NextToken"] = token
    return out


def describe_compliance_by_config_rule(call: Call, p: dict, now: float) -> dict:
    backend = config_backends[call.account][call.region]
    names = p.get("ConfigRuleNames") or sorted(backend.config_rules)
    for name in names:
        _rule(call.account, call.region, name)
    types = _compliance_types(p)
    rows = []
    for name in names:
        results = STATE.results.get((call.account, call.region, name), {}).values()
        non_compliant = sum(1 for ev in results if ev.compliance == "NON_COMPLIANT")
        if non_compliant:
            compliance = {"ComplianceType": "NON_COMPLIANT",
                          "ComplianceContributorCount": {"CappedCount": min(non_compliant, 100),
                                                         "CapExceeded": non_compliant > 100}}
        elif any(ev.compliance == "COMPLIANT" for ev in results):
            compliance = {"ComplianceType": "COMPLIANT"}
        else:
            compliance = {"ComplianceType": "INSUFFICIENT_DATA"}
        if not types or compliance["ComplianceType"] in types:
            rows.append({"ConfigRuleName": name, "Compliance": compliance})
    page, token = paginate(rows, 100, p.get("NextToken"), f"dcr:{call.account}:{names}:{sorted(types)}",
                           "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"ComplianceByConfigRules": page}
    if token:
        out["NextToken"] = token
    return out


def start_config_rules_evaluation(call: Call, p: dict, now: float) -> dict:
    """Refused with LimitExceededException "if an evaluation is in progress or if you call the
    StartConfigRulesEvaluation API more than once per minute" (Config API reference), per rule in
    the caller's account and Region; the minute is configStartWindowSeconds here."""
    names = p.get("ConfigRuleNames") or []
    if not 1 <= len(names) <= 25:
        raise AwsError("InvalidParameterValueException", "ConfigRuleNames must name between 1 and 25 rules.")
    for name in names:
        _rule(call.account, call.region, name)
    settings = state.settings_for(call.account)
    for name in names:
        key = (call.account, call.region, name)
        if STATE.running_until.get(key, 0) > now:
            raise AwsError("LimitExceededException",
                           f"An evaluation of rule {name} is already in progress; wait for it to finish.")
        if key in STATE.last_start and now - STATE.last_start[key] < settings.config_start_window_seconds:
            raise AwsError("LimitExceededException",
                           f"StartConfigRulesEvaluation was called for rule {name} less than a minute ago.")
    for name in names:
        key = (call.account, call.region, name)
        STATE.running_until[key] = now + settings.config_evaluation_seconds
        STATE.last_start[key] = now
        STATE.started.append({"account": call.account, "region": call.region, "ruleName": name, "time": now})
    return {}


def describe_config_rules(call: Call, p: dict, now: float) -> dict:
    """The caller's rules from moto's backend, paginated here so that emptyFirstPage applies
    (pages of 25 rules, as moto's own)."""
    backend = config_backends[call.account][call.region]
    names = p.get("ConfigRuleNames") or []
    for name in names:
        _rule(call.account, call.region, name)
    rows = [backend.config_rules[n].to_dict() for n in sorted(names or backend.config_rules)]
    page, token = paginate(rows, 25, p.get("NextToken"), f"dcrl:{call.account}:{sorted(names)}",
                           "InvalidNextTokenException", state.empty_first(call))
    out: dict = {"ConfigRules": page}
    if token:
        out["NextToken"] = token
    return out


def enter_put(account: str, body: bytes) -> str | None:
    """Marks a PutEvaluations call's ResultToken in flight; with refuseConcurrentPutEvaluations set,
    the error code to answer when another call with the same token is already in flight. AWS's
    documentation neither allows nor forbids concurrent calls with one ResultToken."""
    try:
        token = json.loads(body or b"{}").get("ResultToken")
    except ValueError:
        return None
    if not token:
        return None
    with state.LOCK:
        code = state.settings_for(account).refuse_concurrent_put_evaluations
        if token in STATE.in_flight and code:
            return code
        STATE.in_flight.add(token)
        return None


def exit_put(body: bytes) -> None:
    try:
        token = json.loads(body or b"{}").get("ResultToken")
    except ValueError:
        return
    with state.LOCK:
        STATE.in_flight.discard(token)


OPERATIONS = {
    "PutEvaluations": put_evaluations,
    "GetComplianceDetailsByConfigRule": get_compliance_details_by_config_rule,
    "DescribeComplianceByConfigRule": describe_compliance_by_config_rule,
    "StartConfigRulesEvaluation": start_config_rules_evaluation,
    "DescribeConfigRules": describe_config_rules,
}


def handle(call: Call) -> dict | None:
    op = OPERATIONS.get(call.operation or "")
    if op is None:
        return None  # moto serves it
    with state.LOCK:
        return op(call, call.params, state.now())


def allow_custom_lambda_rules() -> None:
    """The stand-in has no Lambda service: a CUSTOM_LAMBDA rule's function ARN is checked for its
    form only, where moto would look the function up in its own Lambda backend."""
    import re

    import moto.awslambda.utils as lambda_utils

    pattern = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[\w$-]+)?$")

    class _Functions:
        def get_function(self, name: str) -> None:
            if not pattern.match(name):
                raise ValueError(f"not a Lambda function ARN: {name}")

    lambda_utils.get_backend = lambda account_id, region: _Functions()  # type: ignore[assignment]
