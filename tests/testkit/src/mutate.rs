//! Mutated events for the functions' fuzz tests: a seeded, repeatable stream of variations of a
//! real event — fields removed, values of the wrong type, huge strings, deep nesting, bad
//! timestamps, and the JSON inside string fields (`invokingEvent`, `ruleParameters`) mutated too.

use serde_json::{json, Map, Value};

/// A small, repeatable pseudo-random source (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Paths to every value of `v` (object keys and array indices).
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Value::from(k.as_str()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Value::from(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            Value::String(k) => cur.as_object_mut()?.get_mut(k)?,
            Value::Number(i) => cur.as_array_mut()?.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn deep(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |acc, _| json!([acc]))
}

/// A replacement value of another kind.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(1e308),
        4 => json!("x".repeat(300_000)),
        5 => json!("9999-12-31T23:59:59.999Z"),
        6 => json!("not a timestamp"),
        7 => deep(200),
        8 => json!({"nested": {"object": ["with", {"odd": "shape"}]}}),
        _ => json!(""),
    }
}

fn mutate_once(event: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    paths(event, &mut Vec::new(), &mut all);
    if all.is_empty() {
        *event = odd_value(rng);
        return;
    }
    let path = all[rng.below(all.len())].clone();
    let (parent_path, last) = path.split_at(path.len() - 1);
    match rng.below(4) {
        // remove the field (or array element)
        0 => {
            if let Some(parent) = at(event, parent_path) {
                match (parent, &last[0]) {
                    (Value::Object(m), Value::String(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Value::Number(i)) => {
                        let i = i.as_u64().unwrap_or(0) as usize;
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        // a JSON string field: mutate the JSON inside it
        1 => {
            if let Some(target) = at(event, &path) {
                if let Some(inner) = target
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .filter(|v| v.is_object())
                {
                    let mut inner = inner;
                    mutate_once(&mut inner, rng);
                    *target = Value::from(inner.to_string());
                } else {
                    *target = odd_value(rng);
                }
            }
        }
        // a value of the wrong type or shape
        _ => {
            if let Some(target) = at(event, &path) {
                *target = odd_value(rng);
            }
        }
    }
}

/// `count` variations of `sample`, each with one to three mutations, repeatable for `seed`.
pub fn mutations(sample: &Value, seed: u64, count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let mut e = sample.clone();
            for _ in 0..=rng.below(3) {
                mutate_once(&mut e, &mut rng);
            }
            e
        })
        .chain([
            Value::Null,
            json!([]),
            json!("text"),
            Value::Object(Map::new()),
        ])
        .collect()
}
