//! The report's forms: a table readable in 100 columns, the stable JSON, CSV (one row per
//! finding, or per inventory row with `--inventory`), SARIF 2.1.0, ASFF (ramguard's own findings,
//! as the importer would raise them) and OCSF (Compliance Finding, class 2003).

use serde_json::{json, Value};

use crate::scan::report::{ScanFinding, ScanReport};

/// The output forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
    Sarif,
    Asff,
    Ocsf,
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        format!("{text:<width$}")
    } else {
        let head: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

fn short_share(f: &ScanFinding) -> String {
    if f.share_name.is_empty() {
        f.share_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        f.share_name.clone()
    }
}

/// A table of at most 100 columns: one line per finding, then the unreadable targets and a
/// summary.
pub(crate) fn table(report: &ScanReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} {} {} {} {}\n",
        cut("SEVERITY", 8),
        cut("ACCOUNT", 12),
        cut("REGION", 14),
        cut("SHARE", 18),
        cut("PRINCIPAL", 22),
        "RULE"
    ));
    for f in &report.findings {
        let principal = f.principal.clone().unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "{} {} {} {} {} {}\n",
            cut(&f.severity, 8),
            cut(&f.account, 12),
            cut(&f.region, 14),
            cut(&short_share(f), 18),
            cut(&principal, 22),
            cut(&f.rule, 20).trim_end()
        ));
    }
    for t in report.targets.iter().filter(|t| t.status == "unreadable") {
        out.push_str(&format!(
            "{} {} {} {}\n",
            cut("UNREAD", 8),
            cut(&t.account, 12),
            cut(&t.region, 14),
            cut(t.reason.as_deref().unwrap_or_default(), 62).trim_end()
        ));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "{} shares in {} accounts ({} account-Regions, {} unreadable): {} NON_COMPLIANT, {} findings\n",
        s.shares, s.accounts, s.targets, s.unreadable, s.non_compliant, s.findings
    ));
    out
}

/// Writes the report in `format`: the JSON forms stream to `out`, the others are built first
/// (they hold the findings only).
pub(crate) fn write(
    report: &ScanReport,
    format: Format,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?
        }
        Format::Asff => {
            serde_json::to_writer_pretty(&mut *out, &report.asff).map_err(std::io::Error::other)?
        }
        Format::Table => out.write_all(table(report).as_bytes())?,
        Format::Csv => out.write_all(csv(report).as_bytes())?,
        Format::Sarif => out.write_all(sarif(report).as_bytes())?,
        Format::Ocsf => out.write_all(ocsf(report).as_bytes())?,
    }
    if matches!(format, Format::Json | Format::Asff) {
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// CSV: the findings, or the inventory when it was asked for.
pub(crate) fn csv(report: &ScanReport) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    if let Some(rows) = &report.inventory {
        let _ = w.write_record([
            "account",
            "region",
            "share_arn",
            "share_name",
            "principal",
            "principal_status",
            "placement",
            "resource_type",
            "compliance",
        ]);
        for r in rows {
            let _ = w.write_record([
                &r.account,
                &r.region,
                &r.share_arn,
                &r.share_name,
                &r.principal,
                &r.principal_status,
                &r.placement,
                &r.resource_type,
                &r.compliance,
            ]);
        }
    } else {
        let _ = w.write_record([
            "severity",
            "account",
            "region",
            "share_arn",
            "share_name",
            "principal",
            "rule",
            "message",
        ]);
        for f in &report.findings {
            let _ = w.write_record([
                &f.severity,
                &f.account,
                &f.region,
                &f.share_arn,
                &f.share_name,
                f.principal.as_deref().unwrap_or_default(),
                &f.rule,
                &f.message,
            ]);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn level(severity: &str) -> &'static str {
    match severity {
        "CRITICAL" | "HIGH" => "error",
        "MEDIUM" => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0: one result per finding, located at the share (a logical location).
pub(crate) fn sarif(report: &ScanReport) -> String {
    let mut rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort();
    rules.dedup();
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r,
                "name": r,
                "shortDescription": {"text": rule_text(r)},
                "helpUri": "https://docs.aws.amazon.com/ram/latest/userguide/security-best-practices.html"
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "level": level(&f.severity),
                "message": {"text": format!("{}: {}", short_share(f), f.message)},
                "locations": [{"logicalLocations": [{"fullyQualifiedName": f.share_arn, "kind": "resource"}]}],
                "partialFingerprints": {"ramguard/v1": format!("{}|{}|{}", f.share_arn, f.rule, f.principal.as_deref().unwrap_or("-"))},
                "properties": {"severity": f.severity, "account": f.account, "region": f.region, "principal": f.principal}
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ramguard", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
            "properties": {"organization": report.organization, "summary": report.summary}
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn rule_text(rule: &str) -> &'static str {
    match rule {
        "outside-principal" => "A RAM resource share reaches a principal outside the organization",
        "allows-external-principals" => {
            "A RAM resource share allows principals outside the organization"
        }
        "retains-access-on-leave" => {
            "Accounts keep access to a RAM resource share after leaving the organization"
        }
        _ => "A RAM resource share breaks the organization's sharing baseline",
    }
}

/// OCSF 1.1 Compliance Finding (class 2003), one per finding.
pub(crate) fn ocsf(report: &ScanReport) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let events: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (severity_id, severity) = match f.severity.as_str() {
                "HIGH" => (4, "High"),
                "MEDIUM" => (3, "Medium"),
                "LOW" => (2, "Low"),
                _ => (1, "Informational"),
            };
            json!({
                "class_uid": 2003,
                "class_name": "Compliance Finding",
                "category_uid": 2,
                "category_name": "Findings",
                "activity_id": 1,
                "activity_name": "Create",
                "type_uid": 200301,
                "type_name": "Compliance Finding: Create",
                "time": now,
                "severity_id": severity_id,
                "severity": severity,
                "status_id": 1,
                "status": "New",
                "message": f.message,
                "metadata": {"version": "1.1.0", "product": {"name": "ramguard", "vendor_name": "ramguard", "version": env!("CARGO_PKG_VERSION")}},
                "finding_info": {
                    "uid": format!("{}|{}|{}", f.share_arn, f.rule, f.principal.as_deref().unwrap_or("-")),
                    "title": rule_text(&f.rule),
                    "desc": f.message,
                    "types": [f.rule]
                },
                "compliance": {"status": "Fail", "status_id": 3, "requirements": ["AWS Well-Architected SEC03-BP08"], "control": f.rule},
                "cloud": {"provider": "AWS", "region": f.region, "account": {"uid": f.account, "type": "AWS Account", "type_id": 10}},
                "resources": [{"uid": f.share_arn, "name": f.share_name, "type": "AWS::RAM::ResourceShare", "region": f.region}]
            })
        })
        .collect();
    serde_json::to_string_pretty(&events).unwrap_or_default() + "\n"
}
