//! The baseline document: YAML read with the line of every value, so that each problem is
//! reported where it is written, then checked against its schema (unknown keys refused).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A named group of accounts: those listed, those under the OUs listed (at any depth), and those
/// whose Organizations tags hold every pair listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boundary {
    /// OU ids (`ou-…`).
    #[serde(default)]
    pub ous: Vec<String>,
    /// Account ids.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Account tags that all must match.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A crossing the baseline allows: shares owned in `from` may reach `to`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crossing {
    /// Its name, as verdicts and findings cite it.
    pub name: String,
    /// The boundary the sharing account is in.
    pub from: String,
    /// The boundaries it may reach; `*`: any account of the organization.
    pub to: Vec<String>,
    /// The resource types it is for (RAM's names, `ec2:Subnet`); empty: any.
    #[serde(default)]
    pub resource_types: Vec<String>,
}

/// Which resource types may be shared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceTypeRules {
    /// Everywhere (absent: any).
    pub allowed: Option<Vec<String>>,
    /// From a boundary's accounts.
    #[serde(default)]
    pub by_boundary: BTreeMap<String, Vec<String>>,
}

/// The principal forms a share may not name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalRules {
    /// Everywhere.
    #[serde(default)]
    pub forbidden: Vec<PrincipalForm>,
    /// From a boundary's accounts.
    #[serde(default)]
    pub by_boundary: BTreeMap<String, Vec<PrincipalForm>>,
}

/// A principal's form, as the baseline names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalForm {
    /// A 12-digit account.
    Account,
    /// The whole organization.
    Organization,
    /// An organizational unit.
    OrganizationalUnit,
    /// An IAM role.
    IamRole,
    /// An IAM user.
    IamUser,
    /// An AWS service principal.
    ServicePrincipal,
}

impl PrincipalForm {
    /// Its name in the baseline.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalForm::Account => "account",
            PrincipalForm::Organization => "organization",
            PrincipalForm::OrganizationalUnit => "organizational-unit",
            PrincipalForm::IamRole => "iam-role",
            PrincipalForm::IamUser => "iam-user",
            PrincipalForm::ServicePrincipal => "service-principal",
        }
    }
}

/// Finding severities by rule (absent: the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severities {
    /// A boundary crossed (default HIGH).
    #[serde(default = "high")]
    pub boundary: String,
    /// A resource type not allowed (default MEDIUM).
    #[serde(default = "medium")]
    pub resource_type: String,
    /// A principal form not allowed (default MEDIUM).
    #[serde(default = "medium")]
    pub principal_form: String,
    /// A required tag missing (default LOW).
    #[serde(default = "low")]
    pub required_tag: String,
    /// An expired or unreadable expiry (default MEDIUM).
    #[serde(default = "medium")]
    pub expiry: String,
}

fn high() -> String {
    "HIGH".into()
}
fn medium() -> String {
    "MEDIUM".into()
}
fn low() -> String {
    "LOW".into()
}

impl Default for Severities {
    fn default() -> Severities {
        Severities {
            boundary: high(),
            resource_type: medium(),
            principal_form: medium(),
            required_tag: low(),
            expiry: medium(),
        }
    }
}

/// The organization's sharing baseline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The document's own version label (logged, counted and carried by findings).
    pub version: String,
    /// Named groups of accounts.
    #[serde(default)]
    pub boundaries: BTreeMap<String, Boundary>,
    /// Crossings of boundaries the baseline allows.
    #[serde(default)]
    pub crossings: Vec<Crossing>,
    /// Resource types that may be shared.
    #[serde(default)]
    pub resource_types: ResourceTypeRules,
    /// Principal forms that may not be shared with.
    #[serde(default)]
    pub principals: PrincipalRules,
    /// Tag keys every share must carry.
    #[serde(default)]
    pub required_tags: Vec<String>,
    /// A share tag holding a date (`2027-01-31` or an RFC 3339 time) after which the share is
    /// NON_COMPLIANT.
    pub expiry_tag: Option<String>,
    /// Finding severities by rule.
    #[serde(default)]
    pub severities: Severities,
}

/// One problem of a baseline, with the line it is on (0 when it is about the whole document).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The 1-based line.
    pub line: usize,
    /// Where in the document (`boundaries.production.ous[0]`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}: {}: {}", self.line, self.path, self.message)
        }
    }
}

/// A parsed baseline and where each of its values is.
#[derive(Debug, Clone)]
pub struct BaselineSource {
    /// The baseline.
    pub baseline: Baseline,
    lines: BTreeMap<String, usize>,
}

impl BaselineSource {
    /// The line of the value at `path`, or of the nearest enclosing value.
    pub fn line_of(&self, path: &str) -> usize {
        let mut p = path.to_string();
        loop {
            if let Some(line) = self.lines.get(&p) {
                return *line;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.lines.get("").copied().unwrap_or(1),
            }
        }
    }

    /// A problem at `path`.
    pub fn problem(&self, path: &str, message: impl Into<String>) -> Problem {
        Problem {
            line: self.line_of(path),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// Builds JSON from YAML events, every scalar a string, recording each value's line under its
/// path (`a.b[2].c`, the form serde_path_to_error reports).
#[derive(Default)]
struct Builder {
    stack: Vec<(Value, Option<String>, String)>, // (container, pending key, its path)
    root: Option<Value>,
    lines: BTreeMap<String, usize>,
    error: Option<Problem>,
}

impl Builder {
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some((Value::Array(items), _, path)) => format!("{path}[{}]", items.len()),
            Some((_, Some(key), path)) if path.is_empty() => key.clone(),
            Some((_, Some(key), path)) => format!("{path}.{key}"),
            Some((_, None, path)) => path.clone(),
        }
    }

    fn place(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some((Value::Array(items), _, _)) => items.push(value),
            Some((Value::Object(map), key, _)) => {
                if let Some(k) = key.take() {
                    map.insert(k, value);
                }
            }
            Some(_) => {}
        }
    }

    /// A scalar where a mapping expects its key.
    fn awaiting_key(&self) -> bool {
        matches!(self.stack.last(), Some((Value::Object(_), None, _)))
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, _, _) => {
                if self.awaiting_key() {
                    let path = match self.stack.last() {
                        Some((_, _, p)) if p.is_empty() => text.clone(),
                        Some((_, _, p)) => format!("{p}.{text}"),
                        None => text.clone(),
                    };
                    self.lines.insert(path, mark.line());
                    if let Some((Value::Object(map), key, _)) = self.stack.last_mut() {
                        if map.contains_key(&text) {
                            self.error = Some(Problem {
                                line: mark.line(),
                                path: text.clone(),
                                message: format!("key {text:?} appears twice"),
                            });
                        }
                        *key = Some(text);
                    }
                    return;
                }
                let path = self.child_path();
                self.lines.entry(path).or_insert(mark.line());
                let plain = style == TScalarStyle::Plain;
                let value = if plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
                {
                    Value::Null
                } else {
                    Value::String(text)
                };
                self.place(value);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.child_path();
                self.lines.entry(path.clone()).or_insert(mark.line());
                let container = if matches!(ev, Event::MappingStart(..)) {
                    Value::Object(Map::new())
                } else {
                    Value::Array(Vec::new())
                };
                self.stack.push((container, None, path));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((value, _, _)) = self.stack.pop() {
                    self.place(value);
                }
            }
            Event::Alias(_) => {
                self.error = Some(Problem {
                    line: mark.line(),
                    path: self.child_path(),
                    message: "YAML aliases are not taken in a baseline".into(),
                })
            }
            _ => {}
        }
    }
}

/// Reads a baseline: YAML, then its schema (every problem with its line), then the rules that need
/// no organization to check (names that refer to boundaries, account and OU id forms, dates).
pub fn parse(text: &str) -> Result<BaselineSource, Vec<Problem>> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        return Err(vec![Problem {
            line: e.marker().line(),
            path: String::new(),
            message: format!("not YAML: {}", e.info()),
        }]);
    }
    if let Some(problem) = builder.error {
        return Err(vec![problem]);
    }
    let Some(value) = builder.root else {
        return Err(vec![Problem {
            line: 1,
            path: String::new(),
            message: "the document is empty".into(),
        }]);
    };
    let lines = builder.lines;
    let baseline: Baseline = match serde_path_to_error::deserialize(value) {
        Ok(b) => b,
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let source = BaselineSource {
                baseline: empty(),
                lines,
            };
            return Err(vec![source.problem(&path, e.inner().to_string())]);
        }
    };
    let source = BaselineSource { baseline, lines };
    let problems = check(&source);
    if problems.is_empty() {
        Ok(source)
    } else {
        Err(problems)
    }
}

fn empty() -> Baseline {
    Baseline {
        version: String::new(),
        boundaries: BTreeMap::new(),
        crossings: Vec::new(),
        resource_types: ResourceTypeRules::default(),
        principals: PrincipalRules::default(),
        required_tags: Vec::new(),
        expiry_tag: None,
        severities: Severities::default(),
    }
}

fn is_ou_id(id: &str) -> bool {
    let mut parts = id.splitn(3, '-');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("ou"), Some(root), Some(rest))
            if (4..=32).contains(&root.len()) && (8..=32).contains(&rest.len())
                && root.chars().chain(rest.chars()).all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    )
}

fn is_resource_type(t: &str) -> bool {
    matches!(t.split_once(':'), Some((svc, ty)) if !svc.is_empty() && !ty.is_empty() && !ty.contains(':'))
}

const SEVERITIES: [&str; 4] = ["HIGH", "MEDIUM", "LOW", "INFORMATIONAL"];

/// The checks that need no organization.
fn check(source: &BaselineSource) -> Vec<Problem> {
    let b = &source.baseline;
    let mut out = Vec::new();
    if b.version.trim().is_empty() {
        out.push(source.problem("version", "must not be empty"));
    }
    let known: BTreeSet<&str> = b.boundaries.keys().map(String::as_str).collect();
    for (name, boundary) in &b.boundaries {
        let at = format!("boundaries.{name}");
        if boundary.ous.is_empty() && boundary.accounts.is_empty() && boundary.tags.is_empty() {
            out.push(source.problem(&at, "names no OU, account or tag: it holds no account"));
        }
        for (i, ou) in boundary.ous.iter().enumerate() {
            if !is_ou_id(ou) {
                out.push(source.problem(
                    &format!("{at}.ous[{i}]"),
                    format!("{ou:?} is not an OU id (ou-…)"),
                ));
            }
        }
        for (i, account) in boundary.accounts.iter().enumerate() {
            if !crate::is_account_id(account) {
                out.push(source.problem(
                    &format!("{at}.accounts[{i}]"),
                    format!("{account:?} is not a 12-digit account id"),
                ));
            }
        }
    }
    for (i, crossing) in b.crossings.iter().enumerate() {
        let at = format!("crossings[{i}]");
        if !known.contains(crossing.from.as_str()) {
            out.push(source.problem(
                &format!("{at}.from"),
                format!("{:?} is not a boundary of this baseline", crossing.from),
            ));
        }
        for (j, to) in crossing.to.iter().enumerate() {
            if to != "*" && !known.contains(to.as_str()) {
                out.push(source.problem(
                    &format!("{at}.to[{j}]"),
                    format!("{to:?} is not a boundary of this baseline (or *)"),
                ));
            }
        }
        for (j, t) in crossing.resource_types.iter().enumerate() {
            if !is_resource_type(t) {
                out.push(source.problem(
                    &format!("{at}.resource_types[{j}]"),
                    format!("{t:?} is not a RAM resource type (service:Type)"),
                ));
            }
        }
    }
    let type_lists = b
        .resource_types
        .allowed
        .iter()
        .map(|l| ("resource_types.allowed".to_string(), l))
        .chain(
            b.resource_types
                .by_boundary
                .iter()
                .map(|(k, l)| (format!("resource_types.by_boundary.{k}"), l)),
        );
    for (at, list) in type_lists {
        for (j, t) in list.iter().enumerate() {
            if !is_resource_type(t) {
                out.push(source.problem(
                    &format!("{at}[{j}]"),
                    format!("{t:?} is not a RAM resource type (service:Type)"),
                ));
            }
        }
    }
    for name in b.resource_types.by_boundary.keys() {
        if !known.contains(name.as_str()) {
            out.push(source.problem(
                &format!("resource_types.by_boundary.{name}"),
                format!("{name:?} is not a boundary of this baseline"),
            ));
        }
    }
    for name in b.principals.by_boundary.keys() {
        if !known.contains(name.as_str()) {
            out.push(source.problem(
                &format!("principals.by_boundary.{name}"),
                format!("{name:?} is not a boundary of this baseline"),
            ));
        }
    }
    let s = &b.severities;
    for (key, value) in [
        ("boundary", &s.boundary),
        ("resource_type", &s.resource_type),
        ("principal_form", &s.principal_form),
        ("required_tag", &s.required_tag),
        ("expiry", &s.expiry),
    ] {
        if !SEVERITIES.contains(&value.as_str()) {
            out.push(source.problem(
                &format!("severities.{key}"),
                format!("{value:?} is not one of {}", SEVERITIES.join(", ")),
            ));
        }
    }
    out
}
