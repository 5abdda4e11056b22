//! Values in a rehearsal file that read the simulation: `{{state.NAME}}`, `{{request.FIELD}}`,
//! `{{inputs.NAME}}`. A string that is exactly one reference is that value, typed (a list stays a
//! list); any other string with references is text. Parsed once, when the file is checked.

use serde_json::Value;

/// Where a reference reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The simulation's state.
    State,
    /// The request being answered (HTTP) or the command being run.
    Request,
    /// The runbook's inputs, as the rehearsal set them.
    Inputs,
}

impl Root {
    pub fn as_str(self) -> &'static str {
        match self {
            Root::State => "state",
            Root::Request => "request",
            Root::Inputs => "inputs",
        }
    }
}

/// A dotted path: `state.check_order.status`, `request.headers.apca-api-key-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub root: Root,
    /// The segments after the root; numbers index lists.
    pub segments: Vec<String>,
    /// As written.
    pub text: String,
}

impl Path {
    /// Parses `root.a.b`.
    pub fn parse(text: &str) -> Result<Path, String> {
        let text = text.trim();
        let mut parts = text.split('.');
        let root = match parts.next().unwrap_or_default() {
            "state" => Root::State,
            "request" => Root::Request,
            "inputs" => Root::Inputs,
            other => {
                return Err(format!(
                    "`{other}` is not something a rehearsal can read: use `state.`, `request.` or \
                     `inputs.`"
                ));
            }
        };
        let segments: Vec<String> = parts.map(str::to_owned).collect();
        if segments.is_empty() || segments.iter().any(String::is_empty) {
            return Err(format!(
                "`{text}` names no value (write `{}.NAME`)",
                root.as_str()
            ));
        }
        Ok(Path {
            root,
            segments,
            text: text.to_owned(),
        })
    }
}

/// A piece of a text template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Ref(Path),
}

/// A value that may read the simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// No references.
    Literal(Value),
    /// Exactly one reference: the value it reads, typed.
    Ref(Path),
    /// Text with references.
    Text(Vec<Piece>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
}

impl Expr {
    /// Parses every string inside `value`.
    pub fn parse(value: &Value) -> Result<Expr, String> {
        Ok(match value {
            Value::String(text) => parse_text(text)?,
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(Expr::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|item| matches!(item, Expr::Literal(_))) {
                    Expr::Literal(value.clone())
                } else {
                    Expr::Array(items)
                }
            }
            Value::Object(fields) => {
                let fields = fields
                    .iter()
                    .map(|(name, value)| Ok((name.clone(), Expr::parse(value)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if fields
                    .iter()
                    .all(|(_, item)| matches!(item, Expr::Literal(_)))
                {
                    Expr::Literal(value.clone())
                } else {
                    Expr::Object(fields)
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => Expr::Literal(value.clone()),
        })
    }

    /// Every reference inside.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Expr::Literal(_) => {}
            Expr::Ref(path) => out.push(path),
            Expr::Text(pieces) => out.extend(pieces.iter().filter_map(|piece| match piece {
                Piece::Ref(path) => Some(path),
                Piece::Text(_) => None,
            })),
            Expr::Array(items) => items.iter().for_each(|item| item.collect(out)),
            Expr::Object(fields) => fields.iter().for_each(|(_, item)| item.collect(out)),
        }
    }
}

fn parse_text(text: &str) -> Result<Expr, String> {
    if !text.contains("{{") {
        return Ok(Expr::Literal(Value::String(text.to_owned())));
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!("`{{{{` without a closing `}}}}` in `{text}`"));
        };
        pieces.push(Piece::Ref(Path::parse(&after[..close])?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(match pieces.as_slice() {
        [Piece::Ref(path)] => Expr::Ref(path.clone()),
        _ => Expr::Text(pieces),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_reference_is_typed_text_is_text() {
        let one = Expr::parse(&Value::String("{{state.orders}}".into()));
        assert!(matches!(one, Ok(Expr::Ref(ref path)) if path.segments == ["orders"]));
        let text = Expr::parse(&Value::String("id {{request.params.id}}!".into()));
        assert!(matches!(text, Ok(Expr::Text(ref pieces)) if pieces.len() == 3));
        let bad = Expr::parse(&Value::String("{{steps.x}}".into()));
        assert!(bad.is_err());
        let open = Expr::parse(&Value::String("{{state.x".into()));
        assert!(open.is_err());
        let literal = Expr::parse(&serde_json::json!({"a": [1, "b"]}));
        assert!(matches!(literal, Ok(Expr::Literal(_))));
    }
}
