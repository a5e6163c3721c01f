//! SCIM filters (RFC 7644 §3.4.2.2), parsed and evaluated against a resource's
//! JSON representation: `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (…)`,
//! parentheses and value paths (`emails[type eq "work"]`). Attribute names are
//! case-insensitive, as are string comparisons (Heimdall's attributes are not
//! `caseExact`, except `id`).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: Vec<String>,
        op: Op,
        value: Value,
    },
    Present(Vec<String>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]` (optionally `.value` after the bracket).
    ValuePath {
        path: Vec<String>,
        inner: Box<Filter>,
        sub: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '[' => {
                chars.next();
                out.push(Token::OpenBracket);
            }
            ']' => {
                chars.next();
                out.push(Token::CloseBracket);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => return Err("unterminated string".into()),
                        },
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => s.push(c),
                    }
                }
                if !closed {
                    return Err("unterminated string".into());
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// The schema URNs an attribute path may start with.
const URNS: &[&str] = &[
    "urn:ietf:params:scim:schemas:core:2.0:user:",
    "urn:ietf:params:scim:schemas:core:2.0:group:",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:",
];

/// An attribute path, lowercased and split at dots (a schema URN prefix dropped).
pub fn attr_path(text: &str) -> Result<Vec<String>, String> {
    let lower = text.to_ascii_lowercase();
    let rest = URNS
        .iter()
        .find_map(|urn| lower.strip_prefix(urn))
        .unwrap_or(&lower);
    let parts: Vec<String> = rest.split('.').map(str::to_owned).collect();
    let valid = parts.iter().all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    });
    if !valid || parts.len() > 3 {
        return Err(format!("'{text}' is not an attribute path"));
    }
    Ok(parts)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.next();
            if self.next() != Some(Token::Open) {
                return Err("'not' must be followed by '('".into());
            }
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err("missing ')'".into());
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err("missing ')'".into());
            }
            return Ok(inner);
        }
        self.attr_exp()
    }

    fn attr_exp(&mut self) -> Result<Filter, String> {
        let Some(Token::Word(name)) = self.next() else {
            return Err("expected an attribute name".into());
        };
        let path = attr_path(&name)?;
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::CloseBracket) {
                return Err("missing ']'".into());
            }
            // `emails[type eq "work"].value` is a PATCH path form; in a filter the
            // bracket ends the expression.
            return Ok(Filter::ValuePath {
                path,
                inner: Box::new(inner),
                sub: None,
            });
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(format!("expected an operator after '{name}'"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(format!("unknown operator '{other}'")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| format!("'{w}' is not a comparison value"))?,
            },
            _ => return Err("expected a comparison value".into()),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

/// Parses a filter; the message says what is wrong.
pub fn parse(text: &str) -> Result<Filter, String> {
    if text.len() > 4096 {
        return Err("the filter is too long".into());
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let filter = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(filter)
}

/// Parses a PATCH path (`members`, `name.givenName`, `emails[type eq "work"].value`,
/// `members[value eq "…"]`).
pub fn parse_patch_path(text: &str) -> Result<Filter, String> {
    let Some(open) = text.find('[') else {
        return Ok(Filter::Present(attr_path(text)?));
    };
    let close = text
        .rfind(']')
        .ok_or_else(|| "missing ']' in the path".to_string())?;
    let path = attr_path(&text[..open])?;
    let inner = parse(&text[open + 1..close])?;
    let sub = text[close + 1..]
        .strip_prefix('.')
        .map(|s| s.to_ascii_lowercase());
    Ok(Filter::ValuePath {
        path,
        inner: Box::new(inner),
        sub,
    })
}

/// The values at `path` in `resource` (case-insensitive keys; multi-valued
/// attributes flattened).
pub fn values_at<'a>(resource: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let mut current = vec![resource];
    for part in path {
        let mut next = Vec::new();
        for value in current {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Value::Object(map) = item
                    && let Some((_, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(part))
                {
                    next.push(v);
                }
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

fn compare(actual: &Value, op: Op, expected: &Value, case_exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            let (a, e) = if case_exact {
                (a.clone(), e.clone())
            } else {
                (a.to_lowercase(), e.to_lowercase())
            };
            match op {
                Op::Eq => a == e,
                Op::Ne => a != e,
                Op::Co => a.contains(&e),
                Op::Sw => a.starts_with(&e),
                Op::Ew => a.ends_with(&e),
                Op::Gt => a > e,
                Op::Ge => a >= e,
                Op::Lt => a < e,
                Op::Le => a <= e,
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => a == e,
                Op::Ne => a != e,
                Op::Gt => a > e,
                Op::Ge => a >= e,
                Op::Lt => a < e,
                Op::Le => a <= e,
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        (Value::Bool(a), Value::Bool(e)) => match op {
            Op::Eq => a == e,
            Op::Ne => a != e,
            _ => false,
        },
        (a, Value::Null) => match op {
            Op::Eq => a.is_null(),
            Op::Ne => !a.is_null(),
            _ => false,
        },
        _ => op == Op::Ne,
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

/// Whether `resource` matches `filter`.
pub fn matches(filter: &Filter, resource: &Value) -> bool {
    match filter {
        Filter::Compare { path, op, value } => {
            let case_exact = path.len() == 1 && path[0] == "id";
            let found = values_at(resource, path);
            if found.is_empty() {
                return (*op == Op::Ne && !value.is_null()) || (*op == Op::Eq && value.is_null());
            }
            if *op == Op::Ne {
                return found.iter().all(|a| compare(a, Op::Ne, value, case_exact));
            }
            found.iter().any(|a| compare(a, *op, value, case_exact))
        }
        Filter::Present(path) => values_at(resource, path).into_iter().any(present),
        Filter::And(a, b) => matches(a, resource) && matches(b, resource),
        Filter::Or(a, b) => matches(a, resource) || matches(b, resource),
        Filter::Not(inner) => !matches(inner, resource),
        Filter::ValuePath { path, inner, .. } => values_at(resource, path)
            .iter()
            .any(|item| matches(inner, item)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_matches() {
        let user = json!({
            "userName": "Bjensen@example.com",
            "name": {"familyName": "Jensen"},
            "emails": [{"value": "b@work.example", "type": "work"}, {"value": "b@home.example", "type": "home"}],
            "active": true,
            "meta": {"lastModified": "2025-01-01T00:00:00Z"},
        });
        for (text, expected) in [
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"userName sw "bj" and active eq true"#, true),
            (r#"name.familyName co "ens""#, true),
            (r#"title pr"#, false),
            (r#"emails pr"#, true),
            (r#"emails[type eq "work" and value co "@work"]"#, true),
            (r#"emails[type eq "other"]"#, false),
            (r#"not (active eq true) or userName ew ".com""#, true),
            (r#"(active eq false) or (userName eq "x")"#, false),
            (r#"meta.lastModified gt "2024-01-01T00:00:00Z""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "BJENSEN@example.com""#,
                true,
            ),
        ] {
            let filter = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(matches(&filter, &user), expected, "{text}");
        }
        for bad in [
            "userName",
            "userName eq",
            "userName zz \"x\"",
            "(userName pr",
            "\"x\" eq 1",
            "userName eq \"x",
            "userName pr and",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
