"""Security Hub findings as a custom-integration provider sees them: BatchImportFindings with ASFF
validation and update rules, GetFindings filters with pagination, and BatchUpdateFindings."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from dataclasses import dataclass, field
from typing import Any

from moto.securityhub.models import securityhub_backends

from . import state
from .protocol import AwsError, Call, paginate

REQUIRED = ["SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt",
            "Title", "Description", "Resources"]
# Attributes a provider cannot change on an existing finding through BatchImportFindings.
CUSTOMER_OWNED = ["Note", "UserDefinedFields", "VerificationState", "Workflow"]
# Attributes Security Hub fills in itself and a provider cannot send (ASFF: ProcessedAt, Region and
# AwsAccountName are populated by Security Hub; the aws/ ProductFields namespace is reserved for
# AWS). CompanyName and ProductName are left out: a custom integration may set them.
SECURITY_HUB_OWNED = ["ProcessedAt", "Region", "AwsAccountName"]
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
MAX_FINDING_BYTES = 240 * 1024
MAX_CALL_BYTES = 6 * 1024 * 1024
MAX_ID_CHARS = 512
MAX_PRODUCT_FIELDS = 50
MAX_PRODUCT_FIELD_KEY = 128
MAX_PRODUCT_FIELD_VALUE = 2048


@dataclass
class HubState:
    findings: dict[tuple[str, str, str, str], dict] = field(default_factory=dict)  # (account, region, product, id)


STATE = HubState()


def reset() -> None:
    global STATE
    STATE = HubState()


def _enabled(call: Call) -> None:
    if not securityhub_backends[call.account][call.region].enabled:
        raise AwsError("InvalidAccessException",
                       f"Account {call.account} is not subscribed to AWS Security Hub in {call.region}.")


def _failure(finding: dict, code: str, message: str) -> dict:
    return {"Id": finding.get("Id", ""), "ErrorCode": code, "ErrorMessage": message}


def _check(call: Call, finding: dict) -> dict | None:
    missing = [k for k in REQUIRED if k not in finding or finding[k] in (None, "", [])]
    if missing:
        return _failure(finding, "InvalidInput", f"Finding is missing required attributes: {', '.join(missing)}")
    owned = [k for k in SECURITY_HUB_OWNED if k in finding]
    if owned:
        return _failure(finding, "InvalidInput",
                        f"Security Hub populates {', '.join(owned)}; a finding provider cannot send them")
    if len(str(finding["Id"])) > MAX_ID_CHARS:
        return _failure(finding, "InvalidInput", f"Id is longer than {MAX_ID_CHARS} characters")
    fields = finding.get("ProductFields") or {}
    if len(fields) > MAX_PRODUCT_FIELDS or any(
            len(str(k)) > MAX_PRODUCT_FIELD_KEY or len(str(v)) > MAX_PRODUCT_FIELD_VALUE for k, v in fields.items()):
        return _failure(finding, "InvalidInput",
                        f"ProductFields holds at most {MAX_PRODUCT_FIELDS} pairs, keys of at most "
                        f"{MAX_PRODUCT_FIELD_KEY} and values of at most {MAX_PRODUCT_FIELD_VALUE} characters")
    reserved = [k for k in fields if str(k).startswith("aws/")]
    if reserved:
        return _failure(finding, "InvalidInput",
                        f"ProductFields keys in the aws/ namespace are reserved for AWS: {', '.join(reserved)}")
    if finding["SchemaVersion"] != "2018-10-08":
        return _failure(finding, "InvalidInput", "SchemaVersion must be 2018-10-08")
    expected = f"arn:aws:securityhub:{call.region}:{call.account}:product/{call.account}/default"
    if finding["ProductArn"] != expected:
        return _failure(finding, "InvalidInput", f"ProductArn must be {expected} for a custom integration")
    for key in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"):
        if key in finding and not TIME_RE.match(str(finding[key])):
            return _failure(finding, "InvalidInput", f"{key} is not an ISO 8601 timestamp")
    resources = finding["Resources"]
    if not isinstance(resources, list) or not 1 <= len(resources) <= 32:
        return _failure(finding, "InvalidInput", "Resources must hold 1 to 32 resources")
    for r in resources:
        if not r.get("Type") or not r.get("Id"):
            return _failure(finding, "InvalidInput", "Each resource needs a Type and an Id")
        other = (r.get("Details") or {}).get("Other") or {}
        if len(other) > 50 or any(len(k) >= 128 or len(str(v)) >= 1024 for k, v in other.items()):
            return _failure(finding, "InvalidInput", "Details.Other holds at most 50 pairs within the size limits")
    if len(finding["Title"]) > 256:
        return _failure(finding, "InvalidInput", "Title is longer than 256 characters")
    if len(finding["Description"]) > 1024:
        return _failure(finding, "InvalidInput", "Description is longer than 1024 characters")
    if len(json.dumps(finding).encode()) > MAX_FINDING_BYTES:
        return _failure(finding, "InvalidInput", "Finding is larger than 240 KB")
    return None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _key(call: Call, product: str, fid: str) -> tuple[str, str, str, str]:
    return (call.account, call.region, product, fid)


def _severity_label(f: dict) -> str | None:
    provider = (f.get("FindingProviderFields") or {}).get("Severity") or {}
    return (f.get("Severity") or {}).get("Label") or provider.get("Label")


def _populate(call: Call, finding: dict, fid: str) -> None:
    """What Security Hub adds to every stored finding, as GetFindings returns it."""
    finding["Region"] = call.region
    finding["ProcessedAt"] = datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    finding["CompanyName"] = finding.get("CompanyName", "Personal")
    finding["ProductName"] = finding.get("ProductName", "Default")
    fields = finding.setdefault("ProductFields", {})
    fields["aws/securityhub/FindingId"] = f"arn:aws:securityhub:{call.region}:{call.account}:finding/{fid}"
    fields["aws/securityhub/ProductName"] = finding["ProductName"]
    fields["aws/securityhub/CompanyName"] = finding["CompanyName"]


def batch_import_findings(call: Call, p: dict, now: float) -> dict:
    """Where a failure is reported: a finding for another account than the caller's fails the
    whole call (AccessDeniedException); a finding in an account and Region where Security Hub is
    not enabled fails on its own (FailedFindings, ErrorCode InvalidAccess), as does a finding
    that breaks ASFF's limits; a request over 6 MB fails whole."""
    findings = p.get("Findings")
    if not isinstance(findings, list) or not 1 <= len(findings) <= 100:
        raise AwsError("InvalidInputException", "Findings must hold between 1 and 100 findings.")
    if len(json.dumps(findings).encode()) > MAX_CALL_BYTES:
        raise AwsError("InvalidInputException", "The request is larger than 6 MB.")
    foreign = sorted({str(f.get("AwsAccountId")) for f in findings
                      if isinstance(f, dict) and f.get("AwsAccountId") not in (None, call.account)})
    if foreign:
        raise AwsError("AccessDeniedException",
                       f"The caller {call.account} is not authorized to import findings for account(s) "
                       f"{', '.join(foreign)}", 403)
    enabled = securityhub_backends[call.account][call.region].enabled
    failed, ok = [], 0
    for finding in findings:
        problem = _check(call, finding)
        if problem is None and not enabled:
            problem = _failure(finding, "InvalidAccess",
                               f"Account {call.account} is not subscribed to AWS Security Hub in {call.region}.")
        if problem is None:
            fault = state.take_fault("securityhub", "BatchImportFindings", call.account, per_item=True)
            if fault is not None:
                problem = _failure(finding, fault.code, fault.message)
        if problem:
            failed.append(problem)
            continue
        key = _key(call, finding["ProductArn"], finding["Id"])
        stored = STATE.findings.get(key)
        if stored is None:
            new = copy.deepcopy(finding)
            _populate(call, new, finding["Id"])
            new.setdefault("RecordState", "ACTIVE")
            new.setdefault("Workflow", {"Status": "NEW"})
            new.setdefault("WorkflowState", "NEW")
            provider = new.get("FindingProviderFields") or {}
            for attr in ("Severity", "Types", "Confidence", "Criticality"):
                if attr in provider and attr not in new:
                    new[attr] = copy.deepcopy(provider[attr])
            STATE.findings[key] = new
        elif _instant(finding["UpdatedAt"]) > _instant(stored["UpdatedAt"]):
            new = copy.deepcopy(finding)
            for attr in CUSTOMER_OWNED:
                if attr in stored:
                    new[attr] = stored[attr]
                else:
                    new.pop(attr, None)
            new.setdefault("RecordState", stored.get("RecordState", "ACTIVE"))
            new["WorkflowState"] = stored.get("WorkflowState", "NEW")
            new["CreatedAt"] = stored["CreatedAt"]
            _populate(call, new, finding["Id"])
            provider = new.get("FindingProviderFields") or {}
            for attr in ("Severity", "Types", "Confidence", "Criticality"):
                if attr in stored and attr in provider:
                    new[attr] = stored[attr] if stored.get("_customer_" + attr) else copy.deepcopy(provider[attr])
                elif attr in stored:
                    new[attr] = stored[attr]
            STATE.findings[key] = new
        # an update whose UpdatedAt is not newer than the stored one is accepted and ignored
        ok += 1
    return {"FailedCount": len(failed), "SuccessCount": ok, "FailedFindings": failed}


STRING_FIELDS = {
    "Id": lambda f: [f.get("Id")],
    "ProductArn": lambda f: [f.get("ProductArn")],
    "GeneratorId": lambda f: [f.get("GeneratorId")],
    "AwsAccountId": lambda f: [f.get("AwsAccountId")],
    "Title": lambda f: [f.get("Title")],
    "RecordState": lambda f: [f.get("RecordState")],
    "ComplianceStatus": lambda f: [(f.get("Compliance") or {}).get("Status")],
    "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status")],
    "SeverityLabel": lambda f: [_severity_label(f)],
    "ResourceId": lambda f: [r.get("Id") for r in f.get("Resources") or []],
    "ResourceType": lambda f: [r.get("Type") for r in f.get("Resources") or []],
    "Type": lambda f: list(f.get("Types") or []),
}
MAP_FIELDS = {
    "ProductFields": lambda f: f.get("ProductFields") or {},
    "UserDefinedFields": lambda f: f.get("UserDefinedFields") or {},
    "ResourceTags": lambda f: {k: v for r in f.get("Resources") or [] for k, v in (r.get("Tags") or {}).items()},
}


def _string_match(values: list, flt: dict) -> bool:
    want, comparison = flt.get("Value"), flt.get("Comparison", "EQUALS")
    values = [v for v in values if v is not None]
    if comparison == "EQUALS":
        return want in values
    if comparison == "NOT_EQUALS":
        return want not in values
    if comparison == "PREFIX":
        return any(v.startswith(want) for v in values)
    if comparison == "PREFIX_NOT_EQUALS":
        return not any(v.startswith(want) for v in values)
    if comparison == "CONTAINS":
        return any(want in v for v in values)
    if comparison == "NOT_CONTAINS":
        return not any(want in v for v in values)
    raise AwsError("InvalidInputException", f"Unsupported comparison {comparison}")


def _map_match(values: dict, flt: dict) -> bool:
    key, want, comparison = flt.get("Key"), flt.get("Value"), flt.get("Comparison", "EQUALS")
    have = values.get(key)
    if comparison == "EQUALS":
        return have == want
    if comparison == "NOT_EQUALS":
        return have != want
    if comparison == "CONTAINS":
        return have is not None and want in have
    if comparison == "NOT_CONTAINS":
        return have is None or want not in have
    raise AwsError("InvalidInputException", f"Unsupported comparison {comparison}")


def _matches(finding: dict, filters: dict) -> bool:
    for name, conditions in filters.items():
        if not conditions:
            continue
        if name in STRING_FIELDS:
            values, match = STRING_FIELDS[name](finding), _string_match
        elif name in MAP_FIELDS:
            values, match = MAP_FIELDS[name](finding), _map_match
        else:
            raise AwsError("InvalidInputException", f"The stand-in does not filter on {name}")
        positive = [c for c in conditions if not c.get("Comparison", "EQUALS").startswith(("NOT_", "PREFIX_NOT"))]
        negative = [c for c in conditions if c not in positive]
        if positive and not any(match(values, c) for c in positive):
            return False
        if negative and not all(match(values, c) for c in negative):
            return False
    return True


def get_findings(call: Call, p: dict, now: float) -> dict:
    _enabled(call)
    limit = p.get("MaxResults", 100)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise AwsError("InvalidInputException", "MaxResults must be between 1 and 100.")
    filters = p.get("Filters") or {}
    rows = [f for (acct, region, _, _), f in sorted(STATE.findings.items())
            if acct == call.account and region == call.region and _matches(f, filters)]
    page, token = paginate(rows, limit, p.get("NextToken"), f"gf:{call.account}:{json.dumps(filters, sort_keys=True)}",
                           "InvalidInputException", state.empty_first(call))
    out: dict = {"Findings": [{k: v for k, v in f.items() if not k.startswith("_")} for f in page]}
    if token:
        out["NextToken"] = token
    return out


def batch_update_findings(call: Call, p: dict, now: float) -> dict:
    _enabled(call)
    identifiers = p.get("FindingIdentifiers") or []
    if not 1 <= len(identifiers) <= 100:
        raise AwsError("InvalidInputException", "FindingIdentifiers must hold between 1 and 100 identifiers.")
    note = p.get("Note")
    if note is not None and (not note.get("Text") or not note.get("UpdatedBy") or len(note["Text"]) > 512):
        raise AwsError("InvalidInputException", "Note needs Text (at most 512 characters) and UpdatedBy.")
    processed, unprocessed = [], []
    stamp = __import__("datetime").datetime.fromtimestamp(now, __import__("datetime").timezone.utc)
    for ident in identifiers:
        finding = STATE.findings.get(_key(call, ident.get("ProductArn", ""), ident.get("Id", "")))
        if finding is None:
            unprocessed.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound",
                                "ErrorMessage": "Finding Not Found"})
            continue
        if note is not None:
            finding["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"],
                               "UpdatedAt": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        if p.get("Workflow"):
            finding["Workflow"] = {"Status": p["Workflow"]["Status"]}
        for attr in ("Severity", "Types", "Confidence", "Criticality", "VerificationState", "UserDefinedFields"):
            if attr in p:
                finding[attr] = copy.deepcopy(p[attr])
                finding["_customer_" + attr] = True
        processed.append(ident)
    return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}


OPERATIONS = {
    "BatchImportFindings": batch_import_findings,
    "GetFindings": get_findings,
    "BatchUpdateFindings": batch_update_findings,
}


def handle(call: Call) -> dict | None:
    op = OPERATIONS.get(call.operation or "")
    if op is None:
        return None
    with state.LOCK:
        return op(call, call.params, state.now())
