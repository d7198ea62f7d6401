//! Security Hub: ramguard's earlier findings for a share, BatchImportFindings in bounded batches
//! with per-finding failure handling, and notes on findings.

use std::time::Duration;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, Compliance,
    ComplianceStatus, FindingProviderFields, FindingProviderSeverity, NoteUpdate, Partition,
    Recommendation, RecordState, Remediation, Resource, ResourceDetails, SeverityLabel,
    StringFilter, StringFilterComparison,
};

use crate::AwsError;
use ramguard_core::finding::{self, ExistingFinding, Finding, GENERATOR_ID};

/// BatchImportFindings limits.
pub const MAX_FINDINGS_PER_CALL: usize = 100;
pub const MAX_BYTES_PER_CALL: usize = 6 * 1024 * 1024;
pub const MAX_BYTES_PER_FINDING: usize = 240 * 1024;
/// Rounds of re-sending findings that failed with a retryable error code.
const RETRY_ROUNDS: u32 = 3;

/// Every ramguard finding Security Hub holds for a share (GeneratorId and resource), all pages.
pub async fn share_findings(
    client: &aws_sdk_securityhub::Client,
    share_arn: &str,
) -> Result<Vec<AwsSecurityFinding>, AwsError> {
    findings_of(client, GENERATOR_ID, share_arn).await
}

/// The guardrail finding Security Hub holds for an account, all pages.
pub async fn account_findings(
    client: &aws_sdk_securityhub::Client,
    account: &str,
) -> Result<Vec<AwsSecurityFinding>, AwsError> {
    findings_of(
        client,
        ramguard_core::guardrail::GENERATOR_ID,
        &ramguard_core::guardrail::account_resource_id(account),
    )
    .await
}

async fn findings_of(
    client: &aws_sdk_securityhub::Client,
    generator: &str,
    resource_id: &str,
) -> Result<Vec<AwsSecurityFinding>, AwsError> {
    let equals = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .generator_id(equals(generator))
        .resource_id(equals(resource_id))
        .build();
    crate::collect_pages!(
        "GetFindings",
        client
            .get_findings()
            .filters(filters)
            .max_results(100)
            .into_paginator(),
        findings
    )
}

/// The plain view of an earlier finding that reconciliation needs.
pub fn existing(f: &AwsSecurityFinding) -> ExistingFinding {
    let archived = f.record_state == Some(RecordState::Archived);
    let passed = f
        .compliance
        .as_ref()
        .and_then(|c| c.status.as_ref())
        .is_some_and(|s| *s == ComplianceStatus::Passed);
    ExistingFinding {
        id: f.id.clone().unwrap_or_default(),
        created_at: f.created_at.clone().unwrap_or_default(),
        updated_at: f.updated_at.clone().unwrap_or_default(),
        first_observed_at: f.first_observed_at.clone(),
        open: !archived && !passed,
        principal: f
            .product_fields
            .as_ref()
            .and_then(|m| m.get(finding::FIELD_PRINCIPAL))
            .cloned(),
    }
}

/// A finding of ours, as the SDK sends it.
pub fn to_sdk(f: &Finding) -> AwsSecurityFinding {
    let severity = FindingProviderSeverity::builder()
        .label(SeverityLabel::from(
            f.finding_provider_fields.severity.label.as_str(),
        ))
        .original(&f.finding_provider_fields.severity.original)
        .build();
    let mut provider = FindingProviderFields::builder().severity(severity);
    for t in &f.finding_provider_fields.types {
        provider = provider.types(t);
    }
    let mut b = AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .finding_provider_fields(provider.build())
        .title(&f.title)
        .description(&f.description)
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .url(&f.remediation.recommendation.url)
                        .build(),
                )
                .build(),
        )
        .compliance(compliance(
            f.compliance.status,
            &f.compliance.related_requirements,
        ))
        .record_state(match f.record_state {
            finding::RecordState::Active => RecordState::Active,
            finding::RecordState::Archived => RecordState::Archived,
        });
    for t in &f.types {
        b = b.types(t);
    }
    for (k, v) in &f.product_fields {
        b = b.product_fields(k, v);
    }
    for r in &f.resources {
        b = b.resources(resource(r));
    }
    b.build()
}

/// A resource of ours. `ResourceDetails` is some 30 KB, so it is built in place on the heap
/// rather than moved through a builder chain.
fn resource(r: &finding::Resource) -> Resource {
    let mut out = Box::new(Resource::builder().build());
    out.r#type = Some(r.resource_type.clone());
    out.id = Some(r.id.clone());
    out.partition = Some(Partition::from(r.partition.as_str()));
    out.region = Some(r.region.clone());
    let mut details = Box::new(ResourceDetails::builder().build());
    details.other = Some(r.details.other.clone().into_iter().collect());
    out.details = Some(*details);
    *out
}

fn compliance(status: finding::ComplianceStatus, requirements: &[String]) -> Compliance {
    let mut c = Compliance::builder().status(match status {
        finding::ComplianceStatus::Passed => ComplianceStatus::Passed,
        finding::ComplianceStatus::Failed => ComplianceStatus::Failed,
        finding::ComplianceStatus::Warning => ComplianceStatus::Warning,
    });
    for r in requirements {
        c = c.related_requirements(r);
    }
    c.build()
}

/// The size an SDK finding takes on the wire, estimated from its text attributes.
pub fn estimated_size(f: &AwsSecurityFinding) -> usize {
    let text = |s: &Option<String>| s.as_deref().map_or(0, str::len);
    let other: usize = f
        .resources()
        .iter()
        .filter_map(|r| r.details.as_ref()?.other.as_ref())
        .flat_map(|m| m.iter())
        .map(|(k, v)| k.len() + v.len() + 8)
        .sum();
    let fields: usize = f
        .product_fields
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| k.len() + v.len() + 8).sum())
        .unwrap_or(0);
    2048 + text(&f.id) + text(&f.title) + text(&f.description) + other + fields
}

/// A finding Security Hub did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    pub id: String,
    pub code: String,
    pub message: String,
}

impl FailedFinding {
    /// Error codes worth sending the finding again for.
    pub fn is_retryable(&self) -> bool {
        let c = self.code.to_ascii_lowercase();
        [
            "throttl",
            "toomanyrequests",
            "limitexceeded",
            "internal",
            "unavailable",
            "timeout",
        ]
        .iter()
        .any(|k| c.contains(k))
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub calls: usize,
    pub imported: usize,
    /// Findings that failed for good (non-retryable, or still failing after the retry rounds).
    pub failed: Vec<FailedFinding>,
    pub retried: usize,
}

/// Imports findings in batches of at most 100 findings and 6 MB. Findings that fail with a
/// retryable code are sent again (up to three more rounds, with backoff); the rest are returned
/// in `failed`. A finding over 240 KB is never sent and is reported as failed.
pub async fn import(
    client: &aws_sdk_securityhub::Client,
    findings: Vec<AwsSecurityFinding>,
) -> Result<ImportReport, AwsError> {
    let mut report = ImportReport::default();
    let mut pending = Vec::new();
    for f in findings {
        if estimated_size(&f) > MAX_BYTES_PER_FINDING {
            report.failed.push(FailedFinding {
                id: f.id.clone().unwrap_or_default(),
                code: "FindingTooLarge".into(),
                message: "the finding is larger than 240 KB and was not sent".into(),
            });
        } else {
            pending.push(f);
        }
    }
    let mut round = 0;
    while !pending.is_empty() {
        let mut retry = Vec::new();
        let batches = finding::batches(
            pending,
            MAX_FINDINGS_PER_CALL,
            MAX_BYTES_PER_CALL,
            estimated_size,
        );
        for batch in batches {
            let out = client
                .batch_import_findings()
                .set_findings(Some(batch.clone()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("BatchImportFindings", e))?;
            report.calls += 1;
            report.imported += out.success_count.unwrap_or_default() as usize;
            for failure in out.failed_findings.unwrap_or_default() {
                let failed = FailedFinding {
                    id: failure.id.unwrap_or_default(),
                    code: failure.error_code.unwrap_or_default(),
                    message: failure.error_message.unwrap_or_default(),
                };
                let again = batch
                    .iter()
                    .find(|f| f.id.as_deref() == Some(failed.id.as_str()));
                match again {
                    Some(f) if failed.is_retryable() && round < RETRY_ROUNDS => {
                        tracing::warn!(finding_id = %failed.id, error_code = %failed.code, round = round + 1, "finding not imported; sending it again");
                        retry.push(f.clone());
                    }
                    _ => report.failed.push(failed),
                }
            }
        }
        if !retry.is_empty() {
            report.retried += retry.len();
            tokio::time::sleep(Duration::from_millis(100 << round)).await;
        }
        round += 1;
        pending = retry;
    }
    Ok(report)
}

/// Adds a note to existing findings (BatchUpdateFindings, at most 100 per call). Returns how many
/// findings took the note; findings that do not exist are skipped.
pub async fn add_note(
    client: &aws_sdk_securityhub::Client,
    findings: &[(String, String)],
    text: &str,
    updated_by: &str,
) -> Result<usize, AwsError> {
    let mut processed = 0;
    for chunk in findings.chunks(100) {
        let mut req = client.batch_update_findings().note(
            NoteUpdate::builder()
                .text(text.chars().take(512).collect::<String>())
                .updated_by(updated_by)
                .build(),
        );
        for (id, product_arn) in chunk {
            req = req.finding_identifiers(
                AwsSecurityFindingIdentifier::builder()
                    .id(id)
                    .product_arn(product_arn)
                    .build(),
            );
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("BatchUpdateFindings", e))?;
        processed += out.processed_findings.map_or(0, |p| p.len());
    }
    Ok(processed)
}
