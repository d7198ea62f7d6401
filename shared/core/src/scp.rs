//! The service control policy grammar that decides whether a RAM sharing call is denied: `Effect`,
//! `Action`/`NotAction` and `Resource`/`NotResource` with `*` and `?` wildcards, and `Condition`
//! blocks with the string, ARN, `Bool` and `Null` operators, their `IfExists` forms and the
//! `ForAnyValue:`/`ForAllValues:` set qualifiers (Organizations user guide, "SCP syntax"; IAM user
//! guide, "IAM JSON policy elements: Condition operators").
//!
//! What this grammar cannot judge is never taken for a denial: a statement with an operator
//! outside it counts as matching when it allows and as not matching when it denies, so an
//! unknown policy can make an account look less covered, never more.

use std::collections::BTreeMap;

use serde_json::Value;

/// Why a policy's text could not be read as an SCP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("the policy is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not a policy document.
    #[error("the policy {0}")]
    Malformed(String),
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`: an SCP allow-list entry.
    Allow,
    /// `Deny`.
    Deny,
}

/// A list that matches what it names, or (the `Not…` form) everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Names {
    Listed(Vec<String>),
    AllBut(Vec<String>),
}

/// One condition: an operator over one key and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    operator: Operator,
    if_exists: bool,
    set: SetQualifier,
    /// Condition keys are case-insensitive: held lower-case.
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals {
        negated: bool,
        ignore_case: bool,
    },
    StringLike {
        negated: bool,
    },
    Bool,
    Null,
    /// An operator this grammar does not judge (numeric, date, IP, binary, or a misspelling).
    Unknown,
}

/// One statement of an SCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its `Sid`, when it has one.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
    actions: Names,
    resources: Names,
    conditions: Vec<Condition>,
}

/// A parsed service control policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpDocument {
    /// Its statements, in order.
    pub statements: Vec<Statement>,
}

/// A request as the policy sees it: the action, the resource and the request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`.
    pub action: String,
    /// The resource's ARN.
    pub resource: String,
    /// Condition keys present in the request (lower-case) and their values.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// A request for `action` on `resource` with an empty context.
    pub fn new(action: &str, resource: &str) -> Request {
        Request {
            action: action.to_string(),
            resource: resource.to_string(),
            context: BTreeMap::new(),
        }
    }

    /// The request with `key` set to `values`.
    pub fn with(mut self, key: &str, values: &[&str]) -> Request {
        self.context.insert(
            key.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }
}

/// How a statement applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Action, resource and every condition match.
    Yes,
    /// Something does not match.
    No,
    /// Action and resource match, but a condition uses an operator outside this grammar.
    Unknown,
}

/// Reads an SCP's text.
pub fn parse(text: &str) -> Result<ScpDocument, PolicyError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| PolicyError::NotJson(e.to_string()))?;
    let statements = match value.get("Statement") {
        Some(Value::Array(items)) => items.iter().map(statement).collect::<Result<_, _>>()?,
        Some(item @ Value::Object(_)) => vec![statement(item)?],
        _ => return Err(PolicyError::Malformed("has no Statement".into())),
    };
    Ok(ScpDocument { statements })
}

fn strings(value: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(PolicyError::Malformed(format!("{what} holds a non-string"))),
            })
            .collect(),
        _ => Err(PolicyError::Malformed(format!(
            "{what} is neither a string nor a list"
        ))),
    }
}

fn names(item: &Value, listed: &str, all_but: &str) -> Result<Option<Names>, PolicyError> {
    match (item.get(listed), item.get(all_but)) {
        (Some(_), Some(_)) => Err(PolicyError::Malformed(format!(
            "statement has both {listed} and {all_but}"
        ))),
        (Some(v), None) => Ok(Some(Names::Listed(strings(v, listed)?))),
        (None, Some(v)) => Ok(Some(Names::AllBut(strings(v, all_but)?))),
        (None, None) => Ok(None),
    }
}

fn statement(item: &Value) -> Result<Statement, PolicyError> {
    let effect = match item.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        other => {
            return Err(PolicyError::Malformed(format!(
                "statement has Effect {other:?}, not Allow or Deny"
            )))
        }
    };
    let actions = names(item, "Action", "NotAction")?
        .ok_or_else(|| PolicyError::Malformed("statement has no Action or NotAction".into()))?;
    // an SCP statement without Resource applies to every resource
    let resources =
        names(item, "Resource", "NotResource")?.unwrap_or(Names::Listed(vec!["*".into()]));
    let conditions = match item.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(block)) => conditions(block)?,
        Some(_) => return Err(PolicyError::Malformed("Condition is not an object".into())),
    };
    Ok(Statement {
        sid: item.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect,
        actions,
        resources,
        conditions,
    })
}

fn conditions(block: &serde_json::Map<String, Value>) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (name, keys) in block {
        let Value::Object(keys) = keys else {
            return Err(PolicyError::Malformed(format!(
                "condition {name} is not an object"
            )));
        };
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, rest)
        } else {
            (SetQualifier::Single, name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let operator = operator(base);
        for (key, values) in keys {
            out.push(Condition {
                operator,
                if_exists,
                set,
                key: key.to_ascii_lowercase(),
                values: strings(values, name)?,
            });
        }
    }
    Ok(out)
}

fn operator(name: &str) -> Operator {
    match name {
        "StringEquals" => Operator::StringEquals {
            negated: false,
            ignore_case: false,
        },
        "StringNotEquals" => Operator::StringEquals {
            negated: true,
            ignore_case: false,
        },
        "StringEqualsIgnoreCase" => Operator::StringEquals {
            negated: false,
            ignore_case: true,
        },
        "StringNotEqualsIgnoreCase" => Operator::StringEquals {
            negated: true,
            ignore_case: true,
        },
        // ARN operators compare segment by segment; with the wildcards inside segments that RAM's
        // and IAM's ARNs use, that is the same as a string match over the whole ARN
        "StringLike" | "ArnLike" | "ArnEquals" => Operator::StringLike { negated: false },
        "StringNotLike" | "ArnNotLike" | "ArnNotEquals" => Operator::StringLike { negated: true },
        "Bool" => Operator::Bool,
        "Null" => Operator::Null,
        _ => Operator::Unknown,
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters and `?` any one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Names {
    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let hit = |list: &[String]| {
            list.iter().any(|p| {
                if ignore_case {
                    wildcard_match(&p.to_ascii_lowercase(), &value.to_ascii_lowercase())
                } else {
                    wildcard_match(p, value)
                }
            })
        };
        match self {
            Names::Listed(list) => hit(list),
            Names::AllBut(list) => !hit(list),
        }
    }
}

impl Condition {
    /// Whether one request value matches one of the condition's values (before negation).
    fn one_matches(&self, value: &str) -> bool {
        self.values.iter().any(|v| match self.operator {
            Operator::StringEquals {
                ignore_case: true, ..
            } => v.eq_ignore_ascii_case(value),
            Operator::StringEquals { .. } => v == value,
            Operator::StringLike { .. } => wildcard_match(v, value),
            Operator::Bool => v.eq_ignore_ascii_case(value),
            Operator::Null | Operator::Unknown => false,
        })
    }

    fn negated(&self) -> bool {
        matches!(
            self.operator,
            Operator::StringEquals { negated: true, .. } | Operator::StringLike { negated: true }
        )
    }

    /// Whether the condition holds for the request (`None`: outside this grammar).
    fn holds(&self, request: &Request) -> Option<bool> {
        let present = request.context.get(&self.key);
        match self.operator {
            Operator::Unknown => return None,
            Operator::Null => {
                let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                return Some(present.is_none() == want_absent);
            }
            _ => {}
        }
        let Some(values) = present.filter(|v| !v.is_empty()) else {
            // a missing key (IAM user guide, "Condition operators" and "Set operators"):
            // IfExists holds; ForAllValues holds over an empty set and ForAnyValue does not; a
            // single-valued negated operator holds; any other is false
            return Some(
                self.if_exists
                    || self.set == SetQualifier::ForAllValues
                    || (self.set == SetQualifier::Single && self.negated()),
            );
        };
        let each = |v: &String| self.one_matches(v) != self.negated();
        Some(match self.set {
            SetQualifier::ForAllValues => values.iter().all(each),
            SetQualifier::ForAnyValue => values.iter().any(each),
            // a single-valued operator over several values behaves like ForAnyValue for positive
            // operators and like ForAllValues for negated ones
            SetQualifier::Single if self.negated() => values.iter().all(each),
            SetQualifier::Single => values.iter().any(each),
        })
    }
}

impl Statement {
    /// How the statement applies to the request.
    pub fn applies(&self, request: &Request) -> Applies {
        // action names are case-insensitive; resource ARNs are not
        if !self.actions.matches(&request.action, true)
            || !self.resources.matches(&request.resource, false)
        {
            return Applies::No;
        }
        let mut unknown = false;
        for condition in &self.conditions {
            match condition.holds(request) {
                Some(false) => return Applies::No,
                Some(true) => {}
                None => unknown = true,
            }
        }
        if unknown {
            Applies::Unknown
        } else {
            Applies::Yes
        }
    }

    /// Whether the statement certainly denies the request.
    pub fn denies(&self, request: &Request) -> bool {
        self.effect == Effect::Deny && self.applies(request) == Applies::Yes
    }

    /// Whether the statement may allow the request (an unknown condition may).
    pub fn may_allow(&self, request: &Request) -> bool {
        self.effect == Effect::Allow && self.applies(request) != Applies::No
    }
}

impl ScpDocument {
    /// The first statement that certainly denies the request.
    pub fn denial(&self, request: &Request) -> Option<&Statement> {
        self.statements.iter().find(|s| s.denies(request))
    }

    /// Whether a statement may allow the request.
    pub fn may_allow(&self, request: &Request) -> bool {
        self.statements.iter().any(|s| s.may_allow(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_external() -> Request {
        Request::new(
            "ram:CreateResourceShare",
            "arn:aws:ram:eu-west-1:111111111111:resource-share/*",
        )
        .with("ram:RequestedAllowsExternalPrincipals", &["true"])
        .with("ram:Principal", &["999999999999"])
        .with(
            "aws:PrincipalArn",
            &["arn:aws:iam::111111111111:role/workload"],
        )
    }

    fn policy(text: &str) -> ScpDocument {
        parse(text).expect("policy")
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("ram:*", "ram:CreateResourceShare"));
        assert!(wildcard_match(
            "ram:Create*Share",
            "ram:CreateResourceShare"
        ));
        assert!(wildcard_match(
            "ram:?reateResourceShare",
            "ram:CreateResourceShare"
        ));
        assert!(!wildcard_match("ram:Associate*", "ram:CreateResourceShare"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn ram_user_guide_example_one_denies_external_creation() {
        let doc = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ram:CreateResourceShare","ram:UpdateResourceShare"],"Resource":"*","Condition":{"Bool":{"ram:RequestedAllowsExternalPrincipals":"true"}}}]}"#,
        );
        assert!(doc.denial(&create_external()).is_some());
        let internal = Request::new(
            "ram:CreateResourceShare",
            "arn:aws:ram:eu-west-1:111111111111:resource-share/*",
        )
        .with("ram:RequestedAllowsExternalPrincipals", &["false"]);
        assert!(doc.denial(&internal).is_none());
    }

    #[test]
    fn a_misspelled_key_denies_nothing() {
        let doc = policy(
            r#"{"Statement":{"Effect":"Deny","Action":"ram:CreateResourceShare","Resource":"*","Condition":{"Bool":{"ram:RequestedAllowExternalPrincipals":"true"}}}}"#,
        );
        assert!(doc.denial(&create_external()).is_none());
    }

    #[test]
    fn if_exists_and_negated_operators_on_a_missing_key_hold() {
        let if_exists = policy(
            r#"{"Statement":{"Effect":"Deny","Action":"ram:*","Condition":{"BoolIfExists":{"ram:Missing":"true"}}}}"#,
        );
        assert!(if_exists.denial(&create_external()).is_some());
        let negated = policy(
            r#"{"Statement":{"Effect":"Deny","Action":"ram:*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"platform"}}}}"#,
        );
        assert!(negated.denial(&create_external()).is_some());
    }

    #[test]
    fn a_break_glass_exception_spares_its_role_only() {
        let doc = policy(
            r#"{"Statement":{"Effect":"Deny","Action":"ram:CreateResourceShare","Resource":"*","Condition":{"Bool":{"ram:RequestedAllowsExternalPrincipals":"true"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/break-glass/*"}}}}"#,
        );
        assert!(doc.denial(&create_external()).is_some());
        let glass = create_external().with(
            "aws:PrincipalArn",
            &["arn:aws:iam::111111111111:role/break-glass/admin"],
        );
        assert!(doc.denial(&glass).is_none());
    }

    #[test]
    fn not_action_and_not_resource() {
        let doc = policy(
            r#"{"Statement":{"Effect":"Deny","NotAction":["s3:*","iam:*"],"Resource":"*"}}"#,
        );
        assert!(doc.denial(&create_external()).is_some());
        let doc = policy(
            r#"{"Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:ram:*:111111111111:*"}}"#,
        );
        assert!(doc.denial(&create_external()).is_none());
    }

    #[test]
    fn set_qualifiers_over_principals() {
        // RAM user guide example 5: only the listed principals
        let doc = policy(
            r#"{"Statement":{"Effect":"Deny","Action":["ram:AssociateResourceShare","ram:CreateResourceShare"],"Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"ram:Principal":["111111111111","222222222222"]}}}}"#,
        );
        assert!(doc.denial(&create_external()).is_some());
        let listed = create_external().with("ram:Principal", &["111111111111"]);
        assert!(doc.denial(&listed).is_none());
    }

    #[test]
    fn an_unknown_operator_never_denies_and_may_allow() {
        let doc = policy(
            r#"{"Statement":[{"Effect":"Deny","Action":"ram:*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}},{"Effect":"Allow","Action":"ram:*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#,
        );
        assert!(doc.denial(&create_external()).is_none());
        assert!(doc.may_allow(&create_external()));
    }

    #[test]
    fn malformed_policies_are_errors() {
        assert!(matches!(parse("{"), Err(PolicyError::NotJson(_))));
        assert!(matches!(parse("{}"), Err(PolicyError::Malformed(_))));
        assert!(matches!(
            parse(r#"{"Statement":{"Effect":"Maybe","Action":"*"}}"#),
            Err(PolicyError::Malformed(_))
        ));
        assert!(matches!(
            parse(r#"{"Statement":{"Effect":"Deny","Action":"*","NotAction":"s3:*"}}"#),
            Err(PolicyError::Malformed(_))
        ));
    }
}
