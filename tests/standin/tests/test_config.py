"""AWS Config evaluations for custom Lambda rules."""
import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from conftest import MANAGEMENT

RULE = "ramguard-ram-share-external-principals"
LAMBDA = f"arn:aws:lambda:us-east-1:{MANAGEMENT}:function:ramguard-config-rule"


def put_rule(standin, account=MANAGEMENT, name=RULE):
    standin.client("config", account).put_config_rule(ConfigRule={
        "ConfigRuleName": name,
        "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": LAMBDA,
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                      "MaximumExecutionFrequency": "TwentyFour_Hours"}]},
        "InputParameters": json.dumps({"TrustedAccountIds": "123456789012"}),
    })


def event(standin, **kw):
    return standin.control("POST", "/_standin/config/rule-event", {"account": MANAGEMENT, "ruleName": RULE, **kw})


def ev(rid, ctype="COMPLIANT", annotation=None, when=None):
    out = {"ComplianceResourceType": "AWS::RAM::ResourceShare", "ComplianceResourceId": rid,
           "ComplianceType": ctype, "OrderingTimestamp": when or dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)}
    if annotation:
        out["Annotation"] = annotation
    return out


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_rule_event_is_shaped_like_configs(standin):
    put_rule(standin)
    e = event(standin)
    assert set(e) >= {"version", "invokingEvent", "ruleParameters", "resultToken", "eventLeftScope",
                      "executionRoleArn", "configRuleArn", "configRuleName", "configRuleId", "accountId"}
    inv = json.loads(e["invokingEvent"])
    assert inv["messageType"] == "ScheduledNotification" and inv["awsAccountId"] == MANAGEMENT
    assert json.loads(e["ruleParameters"]) == {"TrustedAccountIds": "123456789012"}
    change = event(standin, messageType="ConfigurationItemChangeNotification",
                   configurationItem={"resourceType": "AWS::RAM::ResourceShare", "resourceId": "x",
                                      "ARN": "arn:aws:ram:us-east-1:111111111111:resource-share/x"})
    item = json.loads(change["invokingEvent"])["configurationItem"]
    assert item["resourceType"] == "AWS::RAM::ResourceShare" and item["configurationItemStatus"] == "OK"
    oversized = json.loads(event(standin, messageType="OversizedConfigurationItemChangeNotification",
                                 configurationItemSummary={"resourceType": "AWS::RAM::ResourceShare",
                                                           "resourceId": "x"})["invokingEvent"])
    assert oversized["configurationItemSummary"]["resourceId"] == "x"
    assert standin.control("POST", "/_standin/config/rule-event",
                           {"account": MANAGEMENT, "ruleName": "nope"})["error"] == "NoSuchConfigRuleException"


def test_put_evaluations_stores_and_reads_back_with_filter_and_pages(standin):
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    token = event(standin)["resultToken"]
    evals = [ev(f"arn:share/{i:03}", "NON_COMPLIANT" if i % 3 == 0 else "COMPLIANT", "outside: 999999999999")
             for i in range(150)]
    for start in (0, 100):
        assert cfg.put_evaluations(ResultToken=token, Evaluations=evals[start:start + 100])["FailedEvaluations"] == []
    got, token_ = [], None
    while True:
        kw = {"ConfigRuleName": RULE, "Limit": 40, **({"NextToken": token_} if token_ else {})}
        out = cfg.get_compliance_details_by_config_rule(**kw)
        got += out["EvaluationResults"]
        token_ = out.get("NextToken")
        if not token_:
            break
    assert len(got) == 150
    non = cfg.get_compliance_details_by_config_rule(ConfigRuleName=RULE, ComplianceTypes=["NON_COMPLIANT"])
    assert len(non["EvaluationResults"]) == 50
    assert non["EvaluationResults"][0]["Annotation"] == "outside: 999999999999"
    summary = cfg.describe_compliance_by_config_rule(ConfigRuleNames=[RULE])["ComplianceByConfigRules"][0]
    assert summary["Compliance"]["ComplianceType"] == "NON_COMPLIANT"
    assert summary["Compliance"]["ComplianceContributorCount"] == {"CappedCount": 50, "CapExceeded": False}


def test_newer_ordering_timestamp_wins_and_test_mode_stores_nothing(standin):
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    token = event(standin)["resultToken"]
    new, old = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    cfg.put_evaluations(ResultToken=token, Evaluations=[ev("a", "NON_COMPLIANT", "x", new)])
    cfg.put_evaluations(ResultToken=token, Evaluations=[ev("a", "COMPLIANT", None, old)])
    cfg.put_evaluations(ResultToken=token, Evaluations=[ev("b")], TestMode=True)
    results = cfg.get_compliance_details_by_config_rule(ConfigRuleName=RULE)["EvaluationResults"]
    assert [(r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"], r["ComplianceType"])
            for r in results] == [("a", "NON_COMPLIANT")]


def test_put_evaluations_rejections(standin):
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    token = event(standin)["resultToken"]
    with pytest.raises(ClientError) as exc:
        cfg.put_evaluations(ResultToken="forged", Evaluations=[ev("a")])
    assert code(exc) == "InvalidResultTokenException"
    with pytest.raises(ClientError) as exc:
        cfg.put_evaluations(ResultToken=token, Evaluations=[ev("a", "INSUFFICIENT_DATA")])
    assert code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        cfg.put_evaluations(ResultToken=token, Evaluations=[ev("a", "MAYBE")])
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        cfg.put_evaluations(ResultToken=token, Evaluations=[ev("a", "COMPLIANT", "x" * 257)])
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        cfg.put_evaluations(ResultToken=token, Evaluations=[ev(f"r{i}") for i in range(101)])
    assert code(exc) == "ValidationException"
    other = standin.client("config", "222222222222")
    with pytest.raises(ClientError) as exc:
        other.put_evaluations(ResultToken=token, Evaluations=[ev("a")])
    assert code(exc) == "InvalidResultTokenException"
    with pytest.raises(ClientError) as exc:
        cfg.get_compliance_details_by_config_rule(ConfigRuleName="missing")
    assert code(exc) == "NoSuchConfigRuleException"


def test_start_config_rules_evaluation_limits(standin):
    put_rule(standin)
    cfg = standin.client("config", MANAGEMENT)
    standin.control("POST", "/_standin/settings", {"configEvaluationSeconds": 60})
    cfg.start_config_rules_evaluation(ConfigRuleNames=[RULE])
    with pytest.raises(ClientError) as exc:
        cfg.start_config_rules_evaluation(ConfigRuleNames=[RULE])
    assert code(exc) == "LimitExceededException"
    with pytest.raises(ClientError) as exc:
        cfg.start_config_rules_evaluation(ConfigRuleNames=[f"r{i}" for i in range(26)])
    assert code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        cfg.start_config_rules_evaluation(ConfigRuleNames=["missing"])
    assert code(exc) == "NoSuchConfigRuleException"
    started = standin.control("GET", "/_standin/config/started")["started"]
    assert [s["ruleName"] for s in started] == [RULE]
