//! AWS Config: evaluations out, earlier evaluations back, on-demand rule runs.

use aws_sdk_config::types::{ComplianceType, Evaluation};
use aws_smithy_types::DateTime;

use ramguard_core::earlier::EarlierResults;
use ramguard_core::events::is_rule_named;
pub use ramguard_core::judge::{ShareEvaluation, MAX_EVALUATIONS_PER_CALL};
use ramguard_core::Compliance;

use crate::AwsError;

/// The resource type ramguard evaluates.
pub const RESOURCE_TYPE: &str = "AWS::RAM::ResourceShare";

fn compliance_type(c: Compliance) -> ComplianceType {
    match c {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    }
}

/// Reports evaluations in batches of at most 100; returns the number of calls made. No
/// evaluations is one call with an empty list: the invocation still reports to Config
/// (`Evaluations` is optional, 0 to 100 items:
/// https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html).
pub async fn put_evaluations(
    client: &aws_sdk_config::Client,
    result_token: &str,
    evaluations: &[ShareEvaluation],
    ordering: DateTime,
) -> Result<usize, AwsError> {
    let mut calls = 0;
    let batches: Vec<&[ShareEvaluation]> = if evaluations.is_empty() {
        vec![&[]]
    } else {
        evaluations.chunks(MAX_EVALUATIONS_PER_CALL).collect()
    };
    for batch in batches {
        let mut req = client.put_evaluations().result_token(result_token);
        for e in batch {
            let mut b = Evaluation::builder()
                .compliance_resource_type(RESOURCE_TYPE)
                .compliance_resource_id(&e.resource_id)
                .compliance_type(compliance_type(e.compliance))
                .ordering_timestamp(ordering);
            if !e.annotation.is_empty() {
                b = b.annotation(&e.annotation);
            }
            req = req.evaluations(b.build().map_err(|err| AwsError {
                operation: "PutEvaluations",
                code: None,
                message: err.to_string(),
            })?);
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutEvaluations", e))?;
        calls += 1;
        let failed = out.failed_evaluations.unwrap_or_default();
        if !failed.is_empty() {
            let ids: Vec<_> = failed
                .iter()
                .map(|f| f.compliance_resource_id.clone())
                .collect();
            return Err(AwsError {
                operation: "PutEvaluations",
                code: Some("FailedEvaluations".into()),
                message: format!(
                    "Config did not accept {} evaluations: {}",
                    ids.len(),
                    ids.join(", ")
                ),
            });
        }
    }
    Ok(calls)
}

/// The resource type of an account's own evaluation (guardrail coverage).
pub const ACCOUNT_RESOURCE_TYPE: &str = "AWS::::Account";

/// Reports the account's own evaluation (resource type `AWS::::Account`, id the account id) in
/// one call: Config takes this type for per-account evaluations.
pub async fn put_account_evaluation(
    client: &aws_sdk_config::Client,
    result_token: &str,
    account: &str,
    compliance: Compliance,
    annotation: &str,
    ordering: DateTime,
) -> Result<usize, AwsError> {
    let evaluation = Evaluation::builder()
        .compliance_resource_type(ACCOUNT_RESOURCE_TYPE)
        .compliance_resource_id(account)
        .compliance_type(compliance_type(compliance))
        .ordering_timestamp(ordering)
        .annotation(annotation)
        .build()
        .map_err(|err| AwsError {
            operation: "PutEvaluations",
            code: None,
            message: err.to_string(),
        })?;
    let out = client
        .put_evaluations()
        .result_token(result_token)
        .evaluations(evaluation)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutEvaluations", e))?;
    if !out.failed_evaluations.unwrap_or_default().is_empty() {
        return Err(AwsError {
            operation: "PutEvaluations",
            code: Some("FailedEvaluations".into()),
            message: format!("Config did not accept the evaluation of account {account}"),
        });
    }
    Ok(1)
}

/// The results Config holds for the rule on resources of ramguard's type, COMPLIANT and
/// NON_COMPLIANT (a NOT_APPLICABLE result needs no replacing), held compactly: ⌈results/100⌉
/// GetComplianceDetailsByConfigRule calls (100 is the call's largest page). Each result carries
/// its compliance and annotation (EvaluationResult: `Annotation` 1–256 characters, absent when
/// none was sent, which is how [`put_evaluations`] sends an empty one:
/// https://docs.aws.amazon.com/config/latest/APIReference/API_EvaluationResult.html), so an
/// unchanged verdict is recognised by both.
pub async fn earlier_results(
    client: &aws_sdk_config::Client,
    rule_name: &str,
) -> Result<EarlierResults, AwsError> {
    let mut held = EarlierResults::new();
    let mut pages = client
        .get_compliance_details_by_config_rule()
        .config_rule_name(rule_name)
        .compliance_types(ComplianceType::Compliant)
        .compliance_types(ComplianceType::NonCompliant)
        .limit(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("GetComplianceDetailsByConfigRule", e))?;
        for r in page.evaluation_results.unwrap_or_default() {
            let compliance = match r.compliance_type {
                Some(ComplianceType::Compliant) => Compliance::Compliant,
                Some(ComplianceType::NonCompliant) => Compliance::NonCompliant,
                _ => continue,
            };
            let Some(q) = r
                .evaluation_result_identifier
                .and_then(|i| i.evaluation_result_qualifier)
            else {
                continue;
            };
            if q.resource_type.as_deref() != Some(RESOURCE_TYPE) {
                continue;
            }
            if let Some(id) = q.resource_id {
                held.insert(&id, compliance, r.annotation.as_deref().unwrap_or_default());
            }
        }
    }
    held.seal();
    Ok(held)
}

/// Outcome of asking Config to run a rule now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    Started,
    /// Refused: StartConfigRulesEvaluation answers LimitExceededException "if an evaluation is in
    /// progress or if you call the StartConfigRulesEvaluation API more than once per minute"
    /// (https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigRulesEvaluation.html).
    /// Either way the run that would judge this change has not started: it must be started again
    /// after the window, never taken as covered.
    Refused,
}

pub async fn start_rule_evaluation(
    client: &aws_sdk_config::Client,
    rule_name: &str,
) -> Result<StartOutcome, AwsError> {
    // LimitExceededException is answered at once. The SDK classes it as throttling and would
    // retry it for seconds, so this call is not retried here: the caller defers the start past
    // the window (a real throttle fails the invocation, and its trigger retries it).
    match client
        .start_config_rules_evaluation()
        .config_rule_names(rule_name)
        .customize()
        .config_override(
            aws_sdk_config::config::Builder::default()
                .retry_config(aws_config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
    {
        Ok(_) => Ok(StartOutcome::Started),
        Err(e) => {
            let err = AwsError::from_sdk("StartConfigRulesEvaluation", e);
            if err.is("LimitExceededException") {
                Ok(StartOutcome::Refused)
            } else {
                Err(err)
            }
        }
    }
}

/// The name the rule `base` has in the client's account: an organization rule is
/// `OrgConfigRule-<base>-<suffix>` in every account it runs in, the management account included
/// (https://docs.aws.amazon.com/config/latest/developerguide/config-rule-multi-account-deployment.html).
/// None when the account has no such rule.
pub async fn find_rule_name(
    client: &aws_sdk_config::Client,
    base: &str,
) -> Result<Option<String>, AwsError> {
    // every page until the token is null: an empty page with a token is not the end
    let mut pages = client.describe_config_rules().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("DescribeConfigRules", e))?;
        if let Some(name) = page
            .config_rules
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.config_rule_name)
            .find(|n| is_rule_named(n, base))
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}
