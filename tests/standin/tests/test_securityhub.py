"""Security Hub findings as a custom-integration provider sees them."""
import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT

PRODUCT = f"arn:aws:securityhub:us-east-1:{MANAGEMENT}:product/{MANAGEMENT}/default"


def finding(fid, updated="2026-11-01T00:00:00.000Z", status="FAILED", resource="arn:share/1", **extra):
    f = {"SchemaVersion": "2018-10-08", "Id": fid, "ProductArn": PRODUCT, "GeneratorId": "ramguard/external",
         "AwsAccountId": MANAGEMENT, "CreatedAt": "2026-11-01T00:00:00.000Z", "UpdatedAt": updated,
         "Title": "t", "Description": "d", "Types": ["Software and Configuration Checks"],
         "Severity": {"Label": "HIGH"}, "Compliance": {"Status": status},
         "Resources": [{"Type": "Other", "Id": resource}], "ProductFields": {"ramguard/principal": fid}}
    f.update(extra)
    return f


@pytest.fixture
def hub(standin):
    c = standin.client("securityhub", MANAGEMENT)
    c.enable_security_hub()
    return c


def code(exc):
    return exc.value.response["Error"]["Code"]


def ids(out):
    return sorted(f["Id"] for f in out["Findings"])


def test_import_validates_required_attributes_and_limits(hub):
    bad = finding("b")
    del bad["GeneratorId"]
    out = hub.batch_import_findings(Findings=[finding("a"), bad])
    assert out["SuccessCount"] == 1 and out["FailedCount"] == 1
    assert {f["Id"] for f in out["FailedFindings"]} == {"b"}
    with pytest.raises(ClientError) as exc:
        hub.batch_import_findings(Findings=[finding(f"f{i}") for i in range(101)])
    assert code(exc) == "InvalidInputException"


def test_reading_needs_security_hub_enabled(standin):
    c = standin.client("securityhub", MANAGEMENT)
    with pytest.raises(ClientError) as exc:
        c.get_findings()
    assert code(exc) == "InvalidAccessException"


def test_update_rules(hub):
    hub.batch_import_findings(Findings=[finding("a", updated="2026-11-02T00:00:00.000Z", status="FAILED")])
    hub.batch_update_findings(FindingIdentifiers=[{"Id": "a", "ProductArn": PRODUCT}],
                              Note={"Text": "looked at", "UpdatedBy": "analyst"}, Workflow={"Status": "NOTIFIED"})
    # older UpdatedAt: ignored
    hub.batch_import_findings(Findings=[finding("a", updated="2026-11-01T00:00:00.000Z", status="PASSED")])
    [got] = hub.get_findings()["Findings"]
    assert got["Compliance"]["Status"] == "FAILED"
    # newer: applied, but Note and Workflow stay the customer's, CreatedAt stays
    hub.batch_import_findings(Findings=[finding("a", updated="2026-11-03T00:00:00.000Z", status="PASSED",
                                                RecordState="ARCHIVED", CreatedAt="2026-11-03T00:00:00.000Z",
                                                Note={"Text": "provider", "UpdatedBy": "p", "UpdatedAt": "2026-11-03T00:00:00.000Z"},
                                                Workflow={"Status": "RESOLVED"})])
    [got] = hub.get_findings()["Findings"]
    assert got["Compliance"]["Status"] == "PASSED" and got["RecordState"] == "ARCHIVED"
    assert got["Note"]["Text"] == "looked at" and got["Workflow"]["Status"] == "NOTIFIED"
    assert got["CreatedAt"] == "2026-11-01T00:00:00.000Z"


def test_get_findings_filters_and_pages(hub):
    hub.batch_import_findings(Findings=[finding(f"f{i}", resource=f"arn:share/{i % 3}",
                                                status="PASSED" if i % 2 else "FAILED") for i in range(10)])
    hub.batch_import_findings(Findings=[finding("x", GeneratorId="other", RecordState="ARCHIVED")])
    eq = lambda v: [{"Value": v, "Comparison": "EQUALS"}]  # noqa: E731
    assert ids(hub.get_findings(Filters={"Id": eq("f1")})) == ["f1"]
    assert len(hub.get_findings(Filters={"GeneratorId": eq("ramguard/external")})["Findings"]) == 10
    assert ids(hub.get_findings(Filters={"RecordState": eq("ARCHIVED")})) == ["x"]
    assert len(hub.get_findings(Filters={"ComplianceStatus": eq("PASSED")})["Findings"]) == 5
    assert len(hub.get_findings(Filters={"ResourceId": eq("arn:share/0")})["Findings"]) == 4  # f0 f3 f6 f9
    assert len(hub.get_findings(Filters={"ProductArn": eq(PRODUCT), "AwsAccountId": eq(MANAGEMENT)})["Findings"]) == 11
    assert ids(hub.get_findings(Filters={"WorkflowStatus": eq("NEW"), "Id": eq("f2")})) == ["f2"]
    assert ids(hub.get_findings(Filters={"ProductFields": [{"Key": "ramguard/principal", "Value": "f4",
                                                             "Comparison": "EQUALS"}]})) == ["f4"]
    assert len(hub.get_findings(Filters={"Id": [{"Value": "f", "Comparison": "PREFIX"}],
                                         "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}]})["Findings"]) == 5
    seen, token = [], None
    while True:
        out = hub.get_findings(MaxResults=4, **({"NextToken": token} if token else {}))
        seen += out["Findings"]
        token = out.get("NextToken")
        if not token:
            break
    assert len(seen) == 11


def test_batch_update_reports_unknown_findings(hub):
    hub.batch_import_findings(Findings=[finding("a")])
    out = hub.batch_update_findings(FindingIdentifiers=[{"Id": "a", "ProductArn": PRODUCT},
                                                        {"Id": "zz", "ProductArn": PRODUCT}],
                                    Note={"Text": "n", "UpdatedBy": "ramguard"})
    assert [p["Id"] for p in out["ProcessedFindings"]] == ["a"]
    assert out["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"


def test_updated_at_is_compared_as_time_not_text(hub):
    hub.batch_import_findings(Findings=[finding("t", updated="2026-11-02T00:00:00.500Z")])
    # "...00Z" sorts after "...00.500Z" as text, but is earlier in time: ignored.
    hub.batch_import_findings(Findings=[finding("t", updated="2026-11-02T00:00:00Z", status="PASSED")])
    [got] = hub.get_findings()["Findings"]
    assert got["Compliance"]["Status"] == "FAILED"
    hub.batch_import_findings(Findings=[finding("t", updated="2026-11-02T00:00:01Z", status="PASSED")])
    [got] = hub.get_findings()["Findings"]
    assert got["Compliance"]["Status"] == "PASSED"


def test_per_item_faults_fail_single_findings_not_the_call(standin, hub):
    standin.control("POST", "/_standin/faults", {"service": "securityhub", "operation": "BatchImportFindings",
                                                 "kind": "InternalException", "count": 2, "per_item": True})
    out = hub.batch_import_findings(Findings=[finding(f"p{i}") for i in range(5)])
    assert out["FailedCount"] == 2 and out["SuccessCount"] == 3
    assert {f["ErrorCode"] for f in out["FailedFindings"]} == {"InternalException"}
    assert len(hub.get_findings()["Findings"]) == 3
    out = hub.batch_import_findings(Findings=[finding(f"p{i}") for i in range(5)])
    assert out["FailedCount"] == 0


def test_fields_security_hub_owns_are_refused_and_filled_in_by_it(hub):
    out = hub.batch_import_findings(Findings=[
        finding("r", Region="us-east-1"), finding("p", ProcessedAt="2026-11-01T00:00:00.000Z"),
        finding("n", AwsAccountName="prod"),
        finding("k", ProductFields={"aws/securityhub/FindingId": "x", "ramguard/principal": "k"}),
        finding("ok")])
    assert out["SuccessCount"] == 1
    assert {f["Id"]: f["ErrorCode"] for f in out["FailedFindings"]} == {
        "r": "InvalidInput", "p": "InvalidInput", "n": "InvalidInput", "k": "InvalidInput"}
    stored = hub.get_findings(Filters={"Id": [{"Value": "ok", "Comparison": "EQUALS"}]})["Findings"][0]
    assert stored["Region"] == "us-east-1" and stored["ProcessedAt"]
    assert stored["ProductFields"]["aws/securityhub/FindingId"].endswith("/ok")
    # a copy of what GetFindings returned cannot be imported again
    copy = {k: v for k, v in stored.items() if k not in ("Workflow", "WorkflowState", "RecordState")}
    copy["UpdatedAt"] = "2026-11-02T00:00:00.000Z"
    again = hub.batch_import_findings(Findings=[copy])
    assert again["FailedCount"] == 1
