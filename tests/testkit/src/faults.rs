//! Faults the stand-in injects into the calls of one account.

/// A fault to inject; see [`crate::StandIn::inject_fault`].
#[derive(Debug, Clone, Copy)]
pub struct Fault<'a> {
    pub service: &'a str,
    pub operation: Option<&'a str>,
    pub kind: &'a str,
    pub count: Option<u32>,
    pub fraction: Option<f64>,
    pub account: &'a str,
    /// Fail single items of a batch (BatchImportFindings' FailedFindings), not the whole call.
    pub per_item: bool,
    /// Fail only the calls that name this entity (a principal of DisassociateResourceShare).
    pub entity: Option<&'a str>,
}

impl<'a> Fault<'a> {
    /// The service's own throttling error, `count` times, for `account`.
    pub fn throttle(service: &'a str, operation: &'a str, account: &'a str, count: u32) -> Self {
        Fault {
            service,
            operation: Some(operation),
            kind: "throttle",
            count: Some(count),
            fraction: None,
            account,
            per_item: false,
            entity: None,
        }
    }

    /// Every call of `operation` fails with the error `code`, for `account`.
    pub fn always(service: &'a str, operation: &'a str, code: &'a str, account: &'a str) -> Self {
        Fault {
            service,
            operation: Some(operation),
            kind: code,
            count: None,
            fraction: None,
            account,
            per_item: false,
            entity: None,
        }
    }

    /// Every DisassociateResourceShare call that names `principal` fails with `code` (a principal
    /// RAM will not remove), for `account`.
    pub fn refused_principal(principal: &'a str, code: &'a str, account: &'a str) -> Self {
        Fault {
            entity: Some(principal),
            ..Fault::always("ram", "DisassociateResourceShare", code, account)
        }
    }

    /// `count` findings of BatchImportFindings calls fail with `code` in FailedFindings.
    pub fn failing_findings(code: &'a str, account: &'a str, count: u32) -> Self {
        Fault {
            service: "securityhub",
            operation: Some("BatchImportFindings"),
            kind: code,
            count: Some(count),
            fraction: None,
            account,
            per_item: true,
            entity: None,
        }
    }
}
