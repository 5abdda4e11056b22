//! Parsing the inside of a `{{name arg ...}}` that handlebars has already accepted as valid syntax.
//!
//! Handlebars' own parse tree keeps no position for an argument, and lint points at the argument
//! that is wrong, so the call is read again here from its text: a function name, then arguments
//! that are references, literals (strings, numbers, booleans, null) or calls in parentheses.
//! Recursion is bounded by [`MAX_CALL_DEPTH`].

use serde_json::Value;

use super::ParsedRef;
use super::call::{ParsedArg, ParsedCall};
use super::function::MAX_CALL_DEPTH;
use super::parse::{TemplateError, TemplateErrorKind, is_relative, split_path};
use crate::source::Span;

/// Parses the call in `text[open..close]`, where `open` is the offset of `{{` and `close` the
/// offset just past `}}`. `locate` turns a byte range of `text` into a span in the file.
pub(super) fn parse_call(
    text: &str,
    open: usize,
    close: usize,
    locate: &dyn Fn(usize, usize) -> Span,
) -> Result<ParsedCall, TemplateError> {
    let inner_end = close.saturating_sub(2).max(open + 2);
    let mut reader = Reader {
        text,
        pos: open + 2,
        end: inner_end,
        locate,
    };
    reader.skip_spaces();
    let start = reader.pos;
    let call = reader.call(1, (open, close))?;
    reader.skip_spaces();
    if reader.pos < reader.end {
        // A `)` with no `(` before it.
        return Err(reader.error(TemplateErrorKind::Syntax, reader.pos, reader.pos + 1));
    }
    let written = text.get(start..reader.end).unwrap_or("").trim_end();
    Ok(ParsedCall {
        text: written.to_owned(),
        ..call
    })
}

struct Reader<'t> {
    text: &'t str,
    pos: usize,
    /// Where the call's text ends (the closing `}}` or `)` is not part of it).
    end: usize,
    locate: &'t dyn Fn(usize, usize) -> Span,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<char> {
        if self.pos >= self.end {
            return None;
        }
        self.text.get(self.pos..)?.chars().next()
    }

    fn skip_spaces(&mut self) {
        while let Some(c) = self.peek()
            && c.is_whitespace()
        {
            self.pos += c.len_utf8();
        }
    }

    fn error(&self, kind: TemplateErrorKind, from: usize, to: usize) -> TemplateError {
        TemplateError {
            kind,
            at: (from, to),
        }
    }

    /// A function name and its arguments, up to the end or a `)`. `whole` is the range the call's
    /// span covers (the braces, or the parentheses of a nested call).
    fn call(&mut self, depth: usize, whole: (usize, usize)) -> Result<ParsedCall, TemplateError> {
        let name_start = self.pos;
        let name = self.word();
        if name.is_empty() || name.contains(['.', '/', '[', '=']) {
            return Err(self.error(
                TemplateErrorKind::NotAFunction,
                name_start,
                self.pos.max(name_start + 1),
            ));
        }
        let name_span = (self.locate)(name_start, self.pos);
        let mut args = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                None | Some(')') => break,
                Some(_) => args.push(self.arg(depth)?),
            }
        }
        let text = self
            .text
            .get(name_start..self.pos)
            .unwrap_or("")
            .trim_end()
            .to_owned();
        Ok(ParsedCall {
            name: name.to_owned(),
            args,
            text,
            span: (self.locate)(whole.0, whole.1),
            name_span,
        })
    }

    fn arg(&mut self, depth: usize) -> Result<ParsedArg, TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some('(') => {
                if depth >= MAX_CALL_DEPTH {
                    return Err(self.error(TemplateErrorKind::TooDeep, start, start + 1));
                }
                self.pos += 1;
                self.skip_spaces();
                let mut call = self.call(depth + 1, (start, start))?;
                if self.peek() != Some(')') {
                    return Err(self.error(TemplateErrorKind::Syntax, start, self.pos));
                }
                self.pos += 1;
                call.span = (self.locate)(start, self.pos);
                Ok(ParsedArg::Call(call))
            }
            Some(quote @ ('"' | '\'')) => self.string(quote),
            Some('[' | '{') => {
                Err(self.error(TemplateErrorKind::UnsupportedArgument, start, start + 1))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let word = self.word();
                let value: Value = serde_json::from_str(word)
                    .map_err(|_| self.error(TemplateErrorKind::Syntax, start, self.pos))?;
                Ok(self.literal(value, start))
            }
            Some(_) => {
                let word = self.word();
                match word {
                    "true" => Ok(self.literal(Value::Bool(true), start)),
                    "false" => Ok(self.literal(Value::Bool(false), start)),
                    "null" => Ok(self.literal(Value::Null, start)),
                    _ if word.contains('=') && !word.contains('[') => {
                        Err(self.error(TemplateErrorKind::NamedArgument, start, self.pos))
                    }
                    _ if is_relative(word) => {
                        Err(self.error(TemplateErrorKind::RelativeReference, start, self.pos))
                    }
                    _ => Ok(ParsedArg::Ref(ParsedRef {
                        text: word.to_owned(),
                        segments: split_path(word),
                        span: (self.locate)(start, self.pos),
                    })),
                }
            }
            None => Err(self.error(TemplateErrorKind::Syntax, start, start)),
        }
    }

    fn literal(&self, value: Value, start: usize) -> ParsedArg {
        ParsedArg::Literal {
            value,
            text: self.text.get(start..self.pos).unwrap_or("").to_owned(),
            span: (self.locate)(start, self.pos),
        }
    }

    /// A path, a name or a number: up to a space or a parenthesis (`[...]` keeps a segment whole).
    fn word(&mut self) -> &'t str {
        let start = self.pos;
        let text = self.text;
        let mut in_brackets = false;
        while let Some(c) = self.peek() {
            match c {
                '[' if !in_brackets => in_brackets = true,
                ']' if in_brackets => in_brackets = false,
                '(' | ')' if !in_brackets => break,
                c if c.is_whitespace() && !in_brackets => break,
                _ => {}
            }
            self.pos += c.len_utf8();
        }
        text.get(start..self.pos).unwrap_or("")
    }

    /// A string in double or single quotes, with JSON's escapes (and `\'` in single quotes).
    fn string(&mut self, quote: char) -> Result<ParsedArg, TemplateError> {
        let start = self.pos;
        self.pos += 1;
        let mut json = String::from("\"");
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(TemplateErrorKind::Syntax, start, self.pos));
            };
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    let Some(next) = self.peek() else {
                        return Err(self.error(TemplateErrorKind::Syntax, start, self.pos));
                    };
                    self.pos += next.len_utf8();
                    if next == '\'' {
                        json.push('\'');
                    } else {
                        json.push('\\');
                        json.push(next);
                    }
                }
                c if c == quote => break,
                '"' => json.push_str("\\\""),
                c => json.push(c),
            }
        }
        json.push('"');
        let value: String = serde_json::from_str(&json)
            .map_err(|_| self.error(TemplateErrorKind::Syntax, start, self.pos))?;
        Ok(self.literal(Value::String(value), start))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Arg, Function, ParsedPart, Part, RefPath, parse_template};
    use super::*;

    fn parse(text: &str) -> Result<Vec<ParsedPart>, TemplateError> {
        parse_template(text, Span::new(0, text.len()), Some(0)).map(|parsed| parsed.parts)
    }

    fn only_call(text: &str) -> ParsedCall {
        match parse(text).as_deref() {
            Ok([ParsedPart::Call(call)]) => call.clone(),
            other => panic!("{text}: expected one call, got {other:?}"),
        }
    }

    #[test]
    fn a_call_with_literals_references_and_a_nested_call() {
        let text = r#"{{join ", " (split ';' (trim steps.a.outputs.list)) }}"#;
        let call = only_call(text);
        assert_eq!(call.name, "join");
        assert_eq!(
            call.text,
            r#"join ", " (split ';' (trim steps.a.outputs.list))"#
        );
        assert_eq!(call.span, Span::new(0, text.len()));
        assert_eq!(call.name_span, Span::new(2, 6));
        let [
            ParsedArg::Literal { value, span, .. },
            ParsedArg::Call(split),
        ] = call.args.as_slice()
        else {
            panic!("{:?}", call.args);
        };
        assert_eq!(value, &Value::from(", "));
        assert_eq!(&text[span.start..span.end], r#"", ""#);
        assert_eq!(
            &text[split.span.start..split.span.end],
            "(split ';' (trim steps.a.outputs.list))"
        );
        assert_eq!(split.text, "split ';' (trim steps.a.outputs.list)");
        let Some(ParsedArg::Call(trim)) = split.args.get(1) else {
            panic!("{:?}", split.args);
        };
        let Some(ParsedArg::Ref(reference)) = trim.args.first() else {
            panic!("{:?}", trim.args);
        };
        assert_eq!(reference.segments, ["steps", "a", "outputs", "list"]);
        assert_eq!(
            &text[reference.span.start..reference.span.end],
            "steps.a.outputs.list"
        );
    }

    #[test]
    fn literals_of_every_kind() {
        let call = only_call(r#"{{f -12 1.5 true false null "a\"b\u00e9" 'it\'s' inputs.[x y]}}"#);
        let values: Vec<String> = call
            .args
            .iter()
            .map(|arg| match arg {
                ParsedArg::Literal { value, .. } => value.to_string(),
                ParsedArg::Ref(reference) => format!("ref {:?}", reference.segments),
                ParsedArg::Call(call) => format!("call {}", call.name),
            })
            .collect();
        assert_eq!(
            values,
            [
                "-12",
                "1.5",
                "true",
                "false",
                "null",
                "\"a\\\"bé\"",
                "\"it's\"",
                "ref [\"inputs\", \"x y\"]"
            ]
        );
    }

    #[test]
    fn classified_calls_know_their_function_and_references() -> Result<(), Vec<String>> {
        let template = parse_template(
            "key …{{last 4 inputs.key_id}} ({{length steps.a.outputs.x}})",
            Span::UNKNOWN,
            None,
        )
        .map_err(|error| vec![error.to_string()])?
        .into_template()?;
        let calls: Vec<_> = template
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Call(call) => Some(call),
                Part::Literal(_) | Part::Ref(_) => None,
            })
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].function, Function::Last);
        assert!(matches!(calls[0].args[0], Arg::Literal(_)));
        assert_eq!(template.references().count(), 2);
        // `length` hides its argument's content: only `inputs.key_id` is revealing.
        let revealing: Vec<_> = template.revealing_references().map(|r| &r.path).collect();
        assert!(matches!(revealing.as_slice(), [RefPath::Input { name, .. }] if name == "key_id"));
        assert_eq!(template.insertions().count(), 2);
        Ok(())
    }

    #[test]
    fn unknown_functions_are_not_classified() {
        let unknown = parse_template("{{upcase inputs.x}}", Span::UNKNOWN, None)
            .ok()
            .and_then(|parsed| parsed.into_template().err());
        assert_eq!(unknown, Some(vec!["upcase".to_owned()]));
    }

    #[test]
    fn depth_is_capped_and_deep_nesting_never_overflows() {
        assert!(parse("{{a (b (c (d x)))}}").is_ok());
        let too_deep = parse("{{a (b (c (d (e x))))}}").err();
        assert_eq!(too_deep.map(|e| e.kind), Some(TemplateErrorKind::TooDeep));
        for depth in [100, 10_000] {
            let text = format!("{{{{f {}x{}}}}}", "(g ".repeat(depth), ")".repeat(depth));
            assert!(parse(&text).is_err());
        }
    }

    #[test]
    fn malformed_calls_are_errors_not_panics() {
        for text in [
            "{{f (}}",
            "{{f )}}",
            "{{f \"x}}",
            "{{f 'x\\'}}",
            "{{f 1.}}",
            "{{f (g) }}",
            "{{f k=v}}",
            "{{f ../x}}",
            "{{f this}}",
            "{{f {\"a\": 1}}}",
            "{{f \"\\ud800\"}}",
            "{{f é}}",
        ] {
            let _ = parse(text);
        }
        // Every prefix of a valid call, too.
        let text = r#"{{join "," (split ';' (trim steps.a.outputs.list))}}"#;
        for end in 0..=text.len() {
            if let Some(prefix) = text.get(..end) {
                let _ = parse(prefix);
            }
        }
    }
}
