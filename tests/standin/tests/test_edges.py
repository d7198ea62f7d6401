"""The rare answers AWS documents, each on request: empty pages with a token on every paginated
operation ramguard calls, StartConfigRulesEvaluation's once-a-minute refusal, the 64-character
rule names of GetComplianceDetailsByConfigRule, where BatchImportFindings reports a failure and
its limits, DISASSOCIATING that takes time, one principal RAM refuses to remove, a refused
UpdateResourceShare without organization sharing, a lagging compliance read-back, and refused
concurrent PutEvaluations calls with one ResultToken."""
import datetime as dt
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT, OUTSIDER
from test_config import RULE, ev, event, put_rule
from test_securityhub import PRODUCT, finding

SETTINGS = "/_standin/settings"


def code(exc):
    return exc.value.response["Error"]["Code"]


def share(ram, name="s", principals=(), allow=True):
    return ram.create_resource_share(
        name=name, principals=list(principals), allowExternalPrincipals=allow,
        resourceArns=[f"arn:aws:ec2:us-east-1:{MANAGEMENT}:subnet/subnet-{name}"])["resourceShare"]


# -- empty pages with a token ------------------------------------------------------------------
# "This operation can occasionally return an empty set of results even when there are more
# results available. The NextToken response parameter value is null only when there are no more
# results to display." (RAM API reference, every List/Get operation; the same note on Config,
# Security Hub and Organizations listings.)

def _pages(call, token_in, token_out, **kw):
    first = call(**kw)
    assert token_out in first, first
    items = [v for k, v in first.items() if isinstance(v, list)]
    assert items == [[]], first
    return call(**{**kw, token_in: first[token_out]})


def test_every_listing_ramguard_reads_can_answer_an_empty_first_page(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[org["members"][0]])
    arn = s["resourceShareArn"]
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    cfg.put_evaluations(ResultToken=event(standin)["resultToken"], Evaluations=[ev(arn, "COMPLIANT")])
    hub = standin.client("securityhub", MANAGEMENT)
    hub.enable_security_hub()
    hub.batch_import_findings(Findings=[finding("a", resource=arn)])
    orgs = standin.client("organizations", MANAGEMENT)
    operations = ["GetResourceShares", "GetResourceShareAssociations", "ListSourceAssociations",
                  "ListResources", "ListPrincipals", "ListResourceSharePermissions",
                  "GetComplianceDetailsByConfigRule", "DescribeConfigRules", "GetFindings", "ListAccounts"]
    standin.control("POST", SETTINGS, {"account": MANAGEMENT, "emptyFirstPage": operations})
    assert _pages(ram.get_resource_shares, "nextToken", "nextToken", resourceOwner="SELF",
                  resourceShareArns=[arn])["resourceShares"][0]["resourceShareArn"] == arn
    assert _pages(ram.get_resource_share_associations, "nextToken", "nextToken", associationType="PRINCIPAL",
                  resourceShareArns=[arn])["resourceShareAssociations"]
    assert "sourceAssociations" in _pages(ram.list_source_associations, "nextToken", "nextToken",
                                          resourceShareArns=[arn])
    assert _pages(ram.list_resources, "nextToken", "nextToken", resourceOwner="SELF")["resources"]
    assert _pages(ram.list_principals, "nextToken", "nextToken", resourceOwner="SELF")["principals"]
    assert _pages(ram.list_resource_share_permissions, "nextToken", "nextToken",
                  resourceShareArn=arn)["permissions"]
    assert _pages(cfg.get_compliance_details_by_config_rule, "NextToken", "NextToken",
                  ConfigRuleName=RULE)["EvaluationResults"]
    assert _pages(cfg.describe_config_rules, "NextToken", "NextToken")["ConfigRules"][0]["ConfigRuleName"] == RULE
    assert _pages(hub.get_findings, "NextToken", "NextToken")["Findings"]
    assert _pages(orgs.list_accounts, "NextToken", "NextToken")["Accounts"]


# -- StartConfigRulesEvaluation ----------------------------------------------------------------

def test_start_is_refused_within_a_minute_of_the_last_start_even_when_the_run_ended(standin):
    """LimitExceededException "if an evaluation is in progress or if you call the
    StartConfigRulesEvaluation API more than once per minute" (Config API reference)."""
    put_rule(standin)
    put_rule(standin, name="other")
    cfg = standin.client("config", MANAGEMENT)
    standin.control("POST", SETTINGS, {"configEvaluationSeconds": 0, "configStartWindowSeconds": 1.5})
    cfg.start_config_rules_evaluation(ConfigRuleNames=[RULE])
    with pytest.raises(ClientError) as exc:  # the run is over, the minute is not
        cfg.start_config_rules_evaluation(ConfigRuleNames=[RULE])
    assert code(exc) == "LimitExceededException"
    cfg.start_config_rules_evaluation(ConfigRuleNames=["other"])  # per rule
    standin.client("config", MANAGEMENT, region="eu-west-1")  # per Region: no rule there to start
    time.sleep(1.6)
    cfg.start_config_rules_evaluation(ConfigRuleNames=[RULE])
    started = [s["ruleName"] for s in standin.control("GET", "/_standin/config/started")["started"]]
    assert started == [RULE, "other", RULE]


def test_the_default_window_is_a_minute(standin):
    assert standin.control("POST", SETTINGS, {})["configStartWindowSeconds"] == 60.0


# -- length limits -----------------------------------------------------------------------------

def test_compliance_read_back_takes_rule_names_of_at_most_64_characters(standin):
    """GetComplianceDetailsByConfigRule's ConfigRuleName is a StringWithCharLimit64, though
    PutConfigRule takes 128 characters (service model)."""
    long_name = "OrgConfigRule-" + "s" * 42 + "-abcdefgh"  # 65 characters
    put_rule(standin, name=long_name)
    cfg = standin.client("config", MANAGEMENT)
    with pytest.raises(ClientError) as exc:
        cfg.get_compliance_details_by_config_rule(ConfigRuleName=long_name)
    assert code(exc) == "ValidationException"
    fits = long_name[:64]
    put_rule(standin, name=fits)
    assert cfg.get_compliance_details_by_config_rule(ConfigRuleName=fits)["EvaluationResults"] == []


# -- BatchImportFindings -----------------------------------------------------------------------

def test_a_finding_for_another_account_fails_the_whole_call(standin):
    hub = standin.client("securityhub", MANAGEMENT)
    hub.enable_security_hub()
    with pytest.raises(ClientError) as exc:
        hub.batch_import_findings(Findings=[finding("a"), finding("b", AwsAccountId="222222222222")])
    assert code(exc) == "AccessDeniedException"
    assert hub.get_findings()["Findings"] == []  # nothing of the call was taken


def test_security_hub_not_enabled_fails_each_finding_not_the_call(standin):
    hub = standin.client("securityhub", MANAGEMENT)
    out = hub.batch_import_findings(Findings=[finding("a"), finding("b")])
    assert out["SuccessCount"] == 0 and out["FailedCount"] == 2
    assert {f["ErrorCode"] for f in out["FailedFindings"]} == {"InvalidAccess"}


def test_import_limits_id_product_fields_and_call_size(standin):
    hub = standin.client("securityhub", MANAGEMENT)
    hub.enable_security_hub()
    out = hub.batch_import_findings(Findings=[
        finding("i" * 513),
        finding("many", ProductFields={f"k{i}": "v" for i in range(51)}),
        finding("key", ProductFields={"k" * 129: "v"}),
        finding("value", ProductFields={"k": "v" * 2049}),
        finding("fits", ProductFields={"k" * 128: "v" * 2048}),
    ])
    assert out["SuccessCount"] == 1
    assert {f["Id"] for f in out["FailedFindings"]} == {"i" * 513, "many", "key", "value"}
    big = [finding(f"big{i}", Description="d" * 1000,
                   Resources=[{"Type": "Other", "Id": "r", "Details": {"Other": {
                       f"k{j}": "x" * 1000 for j in range(50)}}}] * 2) for i in range(70)]
    with pytest.raises(ClientError) as exc:
        hub.batch_import_findings(Findings=big)
    assert code(exc) == "InvalidInputException"


# -- RAM -----------------------------------------------------------------------------------------

def test_one_refused_principal_fails_the_whole_disassociation(standin, org):
    """What RAM does with SUSPENDED associations is not documented: a fault refuses the calls that
    name one principal, and such a call removes nobody."""
    ram = standin.client("ram", MANAGEMENT)
    s = share(ram, principals=[OUTSIDER, "888888888888"])
    arn = s["resourceShareArn"]
    standin.control("POST", "/_standin/faults", {"service": "ram", "operation": "DisassociateResourceShare",
                                                 "kind": "InvalidStateTransitionException", "entity": OUTSIDER})
    with pytest.raises(ClientError) as exc:
        ram.disassociate_resource_share(resourceShareArn=arn, principals=[OUTSIDER, "888888888888"])
    assert code(exc) == "InvalidStateTransitionException"
    statuses = {a["associatedEntity"]: a["status"] for a in ram.get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[arn])["resourceShareAssociations"]}
    assert statuses == {OUTSIDER: "ASSOCIATING", "888888888888": "ASSOCIATING"}
    out = ram.disassociate_resource_share(resourceShareArn=arn, principals=["888888888888"])
    assert out["resourceShareAssociations"][0]["status"] in ("DISASSOCIATING", "DISASSOCIATED")


def test_disassociating_lasts_the_settle_time(standin, org):
    ram = standin.client("ram", MANAGEMENT)
    standin.control("POST", SETTINGS, {"account": MANAGEMENT, "settleSeconds": 0.8})
    arn = share(ram, principals=[org["members"][0]])["resourceShareArn"]
    time.sleep(0.9)
    ram.disassociate_resource_share(resourceShareArn=arn, principals=[org["members"][0]])

    def status():
        return ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[arn])[
            "resourceShareAssociations"][0]["status"]
    assert status() == "DISASSOCIATING"
    time.sleep(0.9)
    assert status() == "DISASSOCIATED"


def test_restricting_a_share_needs_sharing_with_the_organization(standin):
    orgs = standin.client("organizations", MANAGEMENT)
    orgs.create_organization(FeatureSet="ALL")
    ram = standin.client("ram", MANAGEMENT)
    arn = share(ram, principals=[OUTSIDER])["resourceShareArn"]
    with pytest.raises(ClientError) as exc:
        ram.update_resource_share(resourceShareArn=arn, allowExternalPrincipals=False)
    assert code(exc) == "OperationNotPermittedException"
    ram.update_resource_share(resourceShareArn=arn, name="renamed")  # other updates pass
    ram.enable_sharing_with_aws_organization()
    out = ram.update_resource_share(resourceShareArn=arn, allowExternalPrincipals=False)
    assert out["resourceShare"]["allowExternalPrincipals"] is False


# -- Config read-back and PutEvaluations ---------------------------------------------------------

def test_a_lagging_read_back_answers_the_results_of_earlier(standin):
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    cfg.put_evaluations(ResultToken=event(standin)["resultToken"], Evaluations=[ev("a", "NON_COMPLIANT", when=t0)])
    standin.control("POST", SETTINGS, {"account": MANAGEMENT, "readBackLagSeconds": 0.6})
    time.sleep(0.7)
    cfg.put_evaluations(ResultToken=event(standin)["resultToken"],
                        Evaluations=[ev("a", "COMPLIANT", when=t0 + dt.timedelta(hours=1)),
                                     ev("b", "COMPLIANT", when=t0)])

    def read():
        return {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"]
                for r in cfg.get_compliance_details_by_config_rule(ConfigRuleName=RULE)["EvaluationResults"]}
    assert read() == {"a": "NON_COMPLIANT"}  # "b" not yet, "a" as it was
    time.sleep(0.7)
    assert read() == {"a": "COMPLIANT", "b": "COMPLIANT"}


def test_concurrent_put_evaluations_with_one_token_can_be_refused(standin):
    put_rule(standin)
    token = event(standin)["resultToken"]
    standin.control("POST", "/_standin/performance", {"latency": {"config": {"fixedMs": 300}}})
    standin.control("POST", SETTINGS, {"account": MANAGEMENT,
                                       "refuseConcurrentPutEvaluations": "LimitExceededException"})
    outcomes = []

    def put(rid):
        try:
            standin.client("config", MANAGEMENT).put_evaluations(ResultToken=token, Evaluations=[ev(rid)])
            outcomes.append("ok")
        except ClientError as err:
            outcomes.append(err.response["Error"]["Code"])
    threads = [threading.Thread(target=put, args=(r,)) for r in ("a", "b")]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["LimitExceededException", "ok"]
    put("c")  # one after the other: accepted
    assert outcomes[-1] == "ok"
    standin.control("POST", "/_standin/performance", {"clear": True})
