"""Organizations access rules, multi-account, fault injection, call counts and JSON errors."""
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_list_accounts_only_from_management_and_pages_of_20(standin, org):
    orgs = standin.client("organizations", MANAGEMENT)
    for i in range(20):
        orgs.create_account(AccountName=f"a{i}", Email=f"a{i}@example.com")
    first = orgs.list_accounts()
    assert len(first["Accounts"]) == 20 and first["NextToken"]
    rest = orgs.list_accounts(NextToken=first["NextToken"])
    assert len(rest["Accounts"]) == 3 and "NextToken" not in rest
    with pytest.raises(ClientError) as exc:
        orgs.list_accounts(MaxResults=21)
    assert code(exc) == "InvalidInputException"
    member = standin.client("organizations", org["members"][0])
    assert member.describe_organization()["Organization"]["Id"] == org["org"]["Id"]
    with pytest.raises(ClientError) as exc:
        member.list_accounts()
    assert code(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        standin.client("organizations", "999999999999").list_accounts()
    assert code(exc) == "AWSOrganizationsNotInUseException"


def test_empty_page_with_token_on_list_accounts(standin, org):
    standin.control("POST", "/_standin/settings", {"emptyFirstPage": ["ListAccounts"]})
    orgs = standin.client("organizations", MANAGEMENT)
    first = orgs.list_accounts()
    assert first["Accounts"] == [] and first["NextToken"]
    assert len(orgs.list_accounts(NextToken=first["NextToken"])["Accounts"]) == 3


@pytest.mark.parametrize("service,op,call,expected", [
    ("ram", "GetResourceShares", lambda c: c.get_resource_shares(resourceOwner="SELF"), ("ThrottlingException", 429)),
    ("organizations", "DescribeOrganization", lambda c: c.describe_organization(), ("TooManyRequestsException", 400)),
    ("securityhub", "GetFindings", lambda c: c.get_findings(), ("TooManyRequestsException", 429)),
    ("config", "DescribeConfigRules", lambda c: c.describe_config_rules(), ("ThrottlingException", 400)),
])
def test_throttling_faults_use_each_services_error(standin, org, service, op, call, expected):
    client = standin.client(service, MANAGEMENT)
    if service == "securityhub":
        client.enable_security_hub()
    standin.control("POST", "/_standin/faults", {"service": service, "operation": op, "kind": "throttle", "count": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            call(client)
        assert (code(exc), exc.value.response["ResponseMetadata"]["HTTPStatusCode"]) == expected
    call(client)  # the third call goes through


def test_5xx_and_fraction_faults(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    standin.control("POST", "/_standin/faults", {"service": "ram", "kind": "5xx", "status": 503, "count": 1})
    with pytest.raises(ClientError) as exc:
        ram.get_resource_shares(resourceOwner="SELF")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    standin.control("POST", "/_standin/faults", {"service": "ram", "kind": "throttle", "fraction": 0.5})
    failures = 0
    for _ in range(40):
        try:
            ram.get_resource_shares(resourceOwner="SELF")
        except ClientError:
            failures += 1
    assert 5 < failures < 35
    standin.control("DELETE", "/_standin/faults")
    ram.get_resource_shares(resourceOwner="SELF")


def test_calls_are_counted_per_account_and_operation(standin, org):
    standin.control("DELETE", "/_standin/calls")
    ram = standin.client("ram", MANAGEMENT)
    ram.get_resource_shares(resourceOwner="SELF")
    ram.get_resource_shares(resourceOwner="SELF")
    calls = standin.control("POST", "/_standin/calls", {"account": MANAGEMENT})["calls"]
    assert {"account": MANAGEMENT, "service": "ram", "operation": "GetResourceShares", "count": 2} in calls


def test_unimplemented_operations_answer_json_not_html(standin):
    ram = standin.client("ram", MANAGEMENT)
    with pytest.raises(ClientError) as exc:
        ram.list_permissions()
    assert code(exc) == "UnknownOperationException"
    hub = standin.client("securityhub", MANAGEMENT)
    with pytest.raises(ClientError) as exc:
        hub.list_automation_rules()
    assert code(exc) == "UnknownOperationException"
    req = urllib.request.Request(standin.url + "/not-a-path", method="POST", data=b"{}", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261123/us-east-1/securityhub/aws4_request, "
                         "SignedHeaders=host, Signature=x", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.headers["Content-Type"].startswith("application/json")
    assert err.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_settings_can_be_scoped_to_one_account(standin, org):
    standin.control("POST", "/_standin/settings", {"account": MANAGEMENT, "emptyFirstPage": ["GetResourceShares"]})
    mine = standin.client("ram", MANAGEMENT).get_resource_shares(resourceOwner="SELF")
    theirs = standin.client("ram", org["members"][0]).get_resource_shares(resourceOwner="SELF")
    assert "nextToken" in mine and "nextToken" not in theirs


def test_faults_can_be_scoped_to_one_account(standin, org):
    standin.control("POST", "/_standin/faults", {"service": "ram", "kind": "throttle", "account": org["members"][0]})
    standin.client("ram", MANAGEMENT).get_resource_shares(resourceOwner="SELF")
    with pytest.raises(ClientError) as exc:
        standin.client("ram", org["members"][0]).get_resource_shares(resourceOwner="SELF")
    assert code(exc) == "ThrottlingException"


def test_latency_and_rate_limits_are_off_by_default_and_set_per_service(standin, org):
    import time

    from botocore.exceptions import ClientError
    orgs = standin.client("organizations", MANAGEMENT)
    ram = standin.client("ram", MANAGEMENT)
    start = time.monotonic()
    for _ in range(5):
        ram.get_resource_shares(resourceOwner="SELF")
    assert time.monotonic() - start < 1.0
    out = standin.control("POST", "/_standin/performance", {
        "latency": {"ram": {"fixedMs": 100, "jitterMs": 20}},
        "rateLimits": [{"service": "organizations", "operation": "ListAccounts", "rate": 0.5, "burst": 2}]})
    assert out["latency"]["ram"] == {"fixed_ms": 100.0, "jitter_ms": 20.0}
    start = time.monotonic()
    ram.get_resource_shares(resourceOwner="SELF")
    assert 0.1 <= time.monotonic() - start < 0.5
    # a burst of two, then the service's own throttling error, per account and operation
    orgs.list_accounts()
    orgs.list_accounts()
    with pytest.raises(ClientError) as err:
        orgs.list_accounts()
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    throttled = standin.control("POST", "/_standin/calls", {})["throttled"]
    assert [(t["operation"], t["count"]) for t in throttled] == [("ListAccounts", 1)]
    orgs.describe_organization()  # other operations are not limited
    bad = standin.control("POST", "/_standin/performance", {"rateLimits": [{"service": "ram", "rate": 0}]})
    assert bad["error"] == "BadControlRequest"
    standin.control("POST", "/_standin/performance", {"clear": True})
    orgs.list_accounts()
