//! `ramguard`: ramguard's judgement from the command line, with the caller's own credentials
//! (the standard AWS provider chain: `--profile`, environment, SSO; `AWS_ENDPOINT_URL` for a
//! local stand-in). Read-only by construction.
//!
//! `ramguard scan`: every RAM share judged as the functions judge it (see [`scan`]).
//!
//! `ramguard baseline check FILE [--organization]`: the sharing baseline against its schema and,
//! with `--organization`, against the live organization; each problem with its line. Exit status
//! 0: valid; 1: problems found; 2: could not check (unreadable file, AWS refused).

mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ramguard_core::baseline::{check_against, parse, Problem};

#[derive(Parser)]
#[command(
    name = "ramguard",
    version,
    about = "ramguard from a laptop or a pipeline (read-only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judges every RAM share as ramguard's functions do, with the caller's credentials:
    /// findings, unreadable accounts and Regions, and on request the inventory and the
    /// remediator's plan. Exit status 0: nothing at or above --fail-on; 3: findings at or above
    /// it; 1: could not scan (all of it).
    Scan(scan::ScanArgs),
    /// The organization's sharing baseline.
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
}

#[derive(Subcommand)]
enum BaselineAction {
    /// Checks a baseline against its schema and, with --organization, the live organization
    /// (unknown OUs and accounts, accounts in more than one boundary), each problem with its line.
    Check {
        /// The baseline (YAML).
        file: PathBuf,
        /// Also check it against the organization the credentials can read (management account
        /// or a delegated administrator).
        #[arg(long)]
        organization: bool,
        /// The AWS profile to use (default: the standard provider chain).
        #[arg(long)]
        profile: Option<String>,
    },
}

fn print(file: &std::path::Path, problems: &[Problem]) {
    for p in problems {
        let at = if p.path.is_empty() {
            String::new()
        } else {
            format!(" {}:", p.path)
        };
        println!("{}:{}:{at} {}", file.display(), p.line, p.message);
    }
}

async fn check(file: PathBuf, organization: bool, profile: Option<String>) -> ExitCode {
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ramguard: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let source = match parse(&text) {
        Ok(s) => s,
        Err(problems) => {
            print(&file, &problems);
            eprintln!("{}: {} problem(s)", file.display(), problems.len());
            return ExitCode::from(1);
        }
    };
    if organization {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(ramguard_aws::retry_config());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let config = loader.load().await;
        let orgs = aws_sdk_organizations::Client::new(&config);
        let loaded = async {
            let org = ramguard_aws::organizations::load_snapshot(&orgs).await?;
            let structure =
                ramguard_aws::baseline::load_structure(&orgs, source.baseline.uses_tags()).await?;
            Ok::<_, ramguard_aws::AwsError>((org, structure))
        }
        .await;
        let (org, structure) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                eprintln!("ramguard: cannot read the organization: {e}");
                return ExitCode::from(2);
            }
        };
        let problems = check_against(&source, &org, &structure);
        if !problems.is_empty() {
            print(&file, &problems);
            eprintln!(
                "{}: {} problem(s) against organization {}",
                file.display(),
                problems.len(),
                org.org_id
            );
            return ExitCode::from(1);
        }
        println!(
            "{}: baseline {} is valid for organization {} ({} boundaries)",
            file.display(),
            source.baseline.version,
            org.org_id,
            source.baseline.boundaries.len()
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{}: baseline {} is valid ({} boundaries)",
        file.display(),
        source.baseline.version,
        source.baseline.boundaries.len()
    );
    ExitCode::SUCCESS
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => scan::run(args).await,
        Command::Baseline {
            action:
                BaselineAction::Check {
                    file,
                    organization,
                    profile,
                },
        } => check(file, organization, profile).await,
    }
}
