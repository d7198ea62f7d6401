//! `ramguard scan`: the functions' judgement of every RAM share, from the caller's credentials,
//! across the organization and its Regions, read-only. Reads go out `--concurrency` at a time
//! (account × Region); an account is read through `--role` (the caller's own account with the
//! caller's credentials); an account or Region that cannot be read is a line of the report and
//! makes the exit status 1, never a silent gap.

mod format;
mod read;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aws_config::SdkConfig;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ramguard_core::{OrgSnapshot, Parameters};

pub(crate) use format::Format;
use read::{read, Target};
use report::{Builder, Judging};

/// Severities, lowest first, as `--fail-on` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub(crate) enum FailOn {
    Informational,
    Low,
    Medium,
    High,
}

impl FailOn {
    fn rank(severity: &str) -> FailOn {
        match severity {
            "HIGH" | "CRITICAL" => FailOn::High,
            "MEDIUM" => FailOn::Medium,
            "LOW" => FailOn::Low,
            _ => FailOn::Informational,
        }
    }
}

/// `ramguard scan`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// Regions to scan: a comma-separated list, or `all` (every Region enabled for the
    /// account). Default: the credentials' Region.
    #[arg(long, value_delimiter = ',')]
    pub(crate) regions: Vec<String>,
    /// Scan every active account of the organization (the credentials: its management account
    /// or a delegated administrator), each through --role.
    #[arg(long)]
    pub(crate) organization: bool,
    /// The role assumed in each other account (a name, e.g. ramguard's member role or a
    /// read-only audit role).
    #[arg(long, requires = "organization")]
    pub(crate) role: Option<String>,
    /// The report's form.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Add every share × principal × resource type with its verdict.
    #[arg(long)]
    pub(crate) inventory: bool,
    /// Add what the remediator would remove from each NON_COMPLIANT share, with its reasons
    /// (nothing is removed).
    #[arg(long)]
    pub(crate) plan: bool,
    /// Exit 3 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub(crate) fail_on: FailOn,
    /// Account × Region reads at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: u16,
    /// Judge against this sharing baseline too (YAML, see the README).
    #[arg(long)]
    pub(crate) baseline: Option<PathBuf>,
    /// The AWS profile to use (default: the standard provider chain).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// `TrustedAccountIds`: comma-separated accounts outside the organization that may be
    /// shared with.
    #[arg(
        long = "trusted-account-ids",
        alias = "TrustedAccountIds",
        default_value = ""
    )]
    pub(crate) trusted_account_ids: String,
    /// `ExemptTagKey`: the tag that exempts a share.
    #[arg(
        long = "exempt-tag-key",
        alias = "ExemptTagKey",
        default_value = "ramguard:exempt"
    )]
    pub(crate) exempt_tag_key: String,
    /// `FlagAllowExternalPrincipals`: strict mode.
    #[arg(
        long = "flag-allow-external-principals",
        alias = "FlagAllowExternalPrincipals",
        default_value = "false"
    )]
    pub(crate) flag_allow_external_principals: String,
    /// `ServicePrincipals`: `allow` or `flag` service principals.
    #[arg(
        long = "service-principals",
        alias = "ServicePrincipals",
        default_value = "allow"
    )]
    pub(crate) service_principals: String,
}

fn parameters(a: &ScanArgs) -> Result<Parameters, String> {
    let pairs = [
        ("TrustedAccountIds", &a.trusted_account_ids),
        ("ExemptTagKey", &a.exempt_tag_key),
        (
            "FlagAllowExternalPrincipals",
            &a.flag_allow_external_principals,
        ),
        ("ServicePrincipals", &a.service_principals),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    Parameters::from_pairs(&pairs).map_err(|e| e.to_string())
}

async fn sdk_config(profile: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(ramguard_aws::retry_config());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// The Regions to scan.
async fn regions(config: &SdkConfig, asked: &[String]) -> Result<Vec<String>, String> {
    let own = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    match asked {
        [] => Ok(vec![own]),
        [all] if all == "all" => {
            let client = aws_sdk_account::Client::new(config);
            let mut pages = client
                .list_regions()
                .region_opt_status_contains(aws_sdk_account::types::RegionOptStatus::Enabled)
                .region_opt_status_contains(
                    aws_sdk_account::types::RegionOptStatus::EnabledByDefault,
                )
                .max_results(50)
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(|e| ramguard_aws::AwsError::from_sdk("ListRegions", e).to_string())?;
                out.extend(
                    page.regions
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|r| r.region_name),
                );
            }
            out.sort();
            Ok(out)
        }
        list => Ok(list
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect()),
    }
}

/// The accounts to scan: the organization's active ones, or the caller's own.
fn accounts(org: &OrgSnapshot, own: &str, organization: bool) -> Vec<String> {
    if !organization {
        return vec![own.to_string()];
    }
    let mut out: Vec<String> = org
        .accounts
        .values()
        .filter(|a| a.state.is_empty() || a.state == "ACTIVE")
        .map(|a| a.id.clone())
        .collect();
    if !out.contains(&org.management_account) {
        out.push(org.management_account.clone());
    }
    out.sort();
    out
}

/// The caller's account (STS GetCallerIdentity): read with the caller's own credentials.
async fn caller_account(config: &SdkConfig) -> Result<String, String> {
    let sts = aws_sdk_sts::Client::new(config);
    sts.get_caller_identity()
        .send()
        .await
        .map_err(|e| ramguard_aws::AwsError::from_sdk("GetCallerIdentity", e).to_string())?
        .account
        .ok_or_else(|| "GetCallerIdentity named no account".to_string())
}

fn fail(text: &str) -> ExitCode {
    eprintln!("ramguard: {text}");
    ExitCode::from(1)
}

/// Runs a scan; the exit status: 0 nothing at or above --fail-on, 3 findings at or above it, 1
/// could not scan (the organization, the baseline, or an account or Region unreadable).
pub(crate) async fn run(args: ScanArgs) -> ExitCode {
    let params = match parameters(&args) {
        Ok(p) => p,
        Err(e) => return fail(&format!("bad parameter: {e}")),
    };
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return fail(&format!("cannot read {}: {e}", path.display())),
            };
            match ramguard_core::baseline::parse(&text) {
                Ok(source) => Some(source.baseline),
                Err(problems) => {
                    for p in problems {
                        eprintln!("{}:{p}", path.display());
                    }
                    return fail("the baseline is invalid (ramguard baseline check)");
                }
            }
        }
    };
    let config = sdk_config(args.profile.as_deref()).await;
    let orgs = aws_sdk_organizations::Client::new(&config);
    let org = match ramguard_aws::organizations::load_snapshot(&orgs).await {
        Ok(org) => org,
        Err(e) => return fail(&format!("cannot read the organization: {e}")),
    };
    let structure = match &baseline {
        Some(b) => match ramguard_aws::baseline::load_structure(&orgs, b.uses_tags()).await {
            Ok(s) => Some(s),
            Err(e) => return fail(&format!("cannot read the organization's structure: {e}")),
        },
        None => None,
    };
    let own = match caller_account(&config).await {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let regions = match regions(&config, &args.regions).await {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => return fail("no Region to scan"),
        Err(e) => return fail(&format!("cannot list the account's Regions: {e}")),
    };
    let accounts = accounts(&org, &own, args.organization);
    let with_types = args.inventory || baseline.as_ref().is_some_and(|b| b.uses_resource_types());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let judging = Judging {
        org: &org,
        params: &params,
        baseline: baseline.as_ref().zip(structure.as_ref()),
        now: now_ms / 1000,
        inventory: args.inventory,
        plan: args.plan,
        asff: args.format == Format::Asff,
    };
    let mut builder = Builder::new(&judging, ramguard_core::finding::format_millis(now_ms));
    read_all(
        &config,
        &org,
        &own,
        &accounts,
        &regions,
        &args,
        with_types,
        &mut builder,
    )
    .await;
    let report = builder.finish();
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| format::write(&report, args.format, &mut std::io::BufWriter::new(f))),
        None => format::write(&report, args.format, &mut std::io::stdout().lock()),
    };
    if let Err(e) = written {
        return fail(&format!("cannot write the report: {e}"));
    }
    if report.summary.unreadable > 0 {
        eprintln!(
            "ramguard: {} account-Region(s) could not be read; the scan is incomplete",
            report.summary.unreadable
        );
        return ExitCode::from(1);
    }
    if report
        .findings
        .iter()
        .any(|f| FailOn::rank(&f.severity) >= args.fail_on)
    {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

/// The SDK configuration that reads `account`: the caller's own, or `role`'s there.
async fn account_config(
    config: &SdkConfig,
    org: &OrgSnapshot,
    own: &str,
    account: &str,
    role: Option<&str>,
) -> Result<SdkConfig, String> {
    if account == own {
        return Ok(config.clone());
    }
    let Some(role) = role else {
        return Err(format!(
            "account {account} is not the caller's and no --role is given"
        ));
    };
    let arn = ramguard_aws::credentials::member_role_arn(org.partition(), account, role);
    let assumed = ramguard_aws::credentials::assume_role(config, &arn, "ramguard-scan").await;
    let Some(provider) = assumed.credentials_provider() else {
        return Err(format!("role {arn} cannot be assumed"));
    };
    // assumed once: every client of the account then uses these credentials (a new client's own
    // cache would assume the role again for each Region)
    match aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider).await {
        Ok(credentials) => Ok(assumed
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build()),
        Err(e) => Err(format!(
            "role {arn} cannot be assumed: {}",
            ramguard_core::bounded(
                &aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                200
            )
        )),
    }
}

/// Reads every (account, Region), `--concurrency` at a time, with a progress bar on standard
/// error when it is a terminal; each target is judged as soon as it is read.
#[allow(clippy::too_many_arguments)]
async fn read_all(
    config: &SdkConfig,
    org: &OrgSnapshot,
    own: &str,
    accounts: &[String],
    regions: &[String],
    args: &ScanArgs,
    with_types: bool,
    builder: &mut Builder<'_>,
) {
    let bar = ProgressBar::with_draw_target(
        Some((accounts.len() * regions.len()) as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} account-Regions {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let bar = Arc::new(bar);
    // one configuration per account, the roles assumed --concurrency at a time: the caller's
    // own, or the role's (assumed here, so that a missing role is said as such)
    let configs: std::collections::HashMap<String, Result<SdkConfig, String>> =
        futures_util::stream::iter(accounts.iter().cloned())
            .map(|account| async move {
                let got = account_config(config, org, own, &account, args.role.as_deref()).await;
                (account, got)
            })
            .buffer_unordered(usize::from(args.concurrency))
            .collect()
            .await;
    let targets: Vec<Target> = accounts
        .iter()
        .flat_map(|a| {
            regions.iter().map(move |r| Target {
                account: a.clone(),
                region: r.clone(),
            })
        })
        .collect();
    let configs = &configs;
    let mut reads = futures_util::stream::iter(targets)
        .map(|target| {
            let bar = bar.clone();
            async move {
                let out = match &configs[&target.account] {
                    Ok(config) => read(config, target, with_types).await,
                    Err(why) => read::Read {
                        target,
                        result: Err(why.clone()),
                    },
                };
                bar.inc(1);
                out
            }
        })
        .buffer_unordered(usize::from(args.concurrency));
    while let Some(read) = reads.next().await {
        builder.add(read);
    }
    bar.finish_and_clear();
}
