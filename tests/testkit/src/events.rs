//! Events as AWS delivers them, and the samples of `events/`.

use super::*;

static NEXT_EVENT: AtomicU32 = AtomicU32::new(1);

/// A sample event of `events/` (`events/<path>`), as JSON.
pub fn sample_event(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("events").join(path))
        .unwrap_or_else(|e| panic!("events/{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{path}: {e}"))
}

/// A "Config Rules Compliance Change" event as EventBridge delivers it, for one share under `rule`;
/// `old` is absent on a first evaluation.
pub fn compliance_change(
    rule: &str,
    account: &str,
    share_arn: &str,
    new: &str,
    old: Option<&str>,
) -> Value {
    let mut detail = json!({
        "resourceId": share_arn,
        "awsRegion": REGION,
        "awsAccountId": account,
        "configRuleName": rule,
        "recordVersion": "1.0",
        "configRuleARN": format!("arn:aws:config:{REGION}:{account}:config-rule/config-rule-abc123"),
        "messageType": "ComplianceChangeNotification",
        "resourceType": "AWS::RAM::ResourceShare",
        "newEvaluationResult": {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": {
                    "configRuleName": rule,
                    "resourceType": "AWS::RAM::ResourceShare",
                    "resourceId": share_arn
                },
                "orderingTimestamp": "2026-11-23T10:00:00.000Z"
            },
            "complianceType": new,
            "resultRecordedTime": "2026-11-23T10:00:01.000Z",
            "configRuleInvokedTime": "2026-11-23T10:00:00.500Z"
        }
    });
    if let Some(old) = old {
        detail["oldEvaluationResult"] = json!({"complianceType": old});
    }
    json!({
        "version": "0",
        "id": format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), NEXT_EVENT.fetch_add(1, Ordering::Relaxed)),
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account,
        "time": "2026-11-23T10:00:01Z",
        "region": REGION,
        "resources": [],
        "detail": detail
    })
}

/// A "Security Hub Findings - Custom Action" event carrying `findings` (ASFF JSON).
pub fn custom_action(account: &str, findings: Vec<Value>) -> Value {
    json!({
        "version": "0",
        "id": format!("{:08x}-0000-4000-9000-{:012x}", std::process::id(), NEXT_EVENT.fetch_add(1, Ordering::Relaxed)),
        "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub",
        "account": account,
        "time": "2026-11-23T10:05:00Z",
        "region": REGION,
        "resources": [format!("arn:aws:securityhub:{REGION}:{account}:action/custom/ramguard-remediate")],
        "detail": {
            "actionName": "ramguard-remediate",
            "actionDescription": "Remove the principals outside the organization",
            "findings": findings
        }
    })
}
