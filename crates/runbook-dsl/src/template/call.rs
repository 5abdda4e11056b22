//! Function calls inside `{{ }}`: `{{last 4 inputs.key_id}}`, `{{sha256 (trim steps.a.outputs.k)}}`.
//!
//! Two shapes, like references: a [`ParsedCall`] names its function as written; the check pass
//! turns it into a [`Call`] whose function is a known [`Function`] with the right number of
//! arguments of admissible types.

use serde_json::Value;

use super::function::{Function, Returns, ValueType};
use super::{ParsedRef, Reference};
use crate::source::Span;

/// A call as parsed: the function is a name as written.
#[derive(Debug, Clone)]
pub struct ParsedCall {
    pub name: String,
    pub args: Vec<ParsedArg>,
    /// The call as written, without braces or parentheses: `last 4 inputs.key_id`.
    pub text: String,
    /// The `{{...}}` (or the `(...)` of a nested call) in the file.
    pub span: Span,
    /// The function's name in the file.
    pub name_span: Span,
}

/// One argument as parsed.
#[derive(Debug, Clone)]
pub enum ParsedArg {
    /// A string, number, boolean or null written in the call.
    Literal {
        value: Value,
        /// As written, e.g. `"x"`.
        text: String,
        span: Span,
    },
    Ref(ParsedRef),
    /// A call in parentheses.
    Call(ParsedCall),
}

impl ParsedArg {
    pub fn span(&self) -> Span {
        match self {
            ParsedArg::Literal { span, .. } => *span,
            ParsedArg::Ref(reference) => reference.span,
            ParsedArg::Call(call) => call.span,
        }
    }
}

/// A checked call: a known function with the right number of arguments.
#[derive(Debug, Clone)]
pub struct Call {
    pub function: Function,
    pub args: Vec<Arg>,
    /// The call as written, without braces or parentheses: `last 4 inputs.key_id`.
    pub text: String,
    pub span: Span,
}

/// One checked argument.
#[derive(Debug, Clone)]
pub enum Arg {
    Literal(Value),
    Ref(Reference),
    Call(Call),
}

impl Arg {
    /// How the argument reads in a message: the path, the literal, or the call in parentheses.
    pub fn describe(&self) -> String {
        match self {
            Arg::Literal(value) => value.to_string(),
            Arg::Ref(reference) => format!("`{}`", reference.text),
            Arg::Call(call) => format!("`({})`", call.text),
        }
    }

    /// What lint knows of the argument's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Arg::Literal(value) => ValueType::of(value),
            Arg::Ref(_) => ValueType::Unknown,
            Arg::Call(call) => call.value_type(),
        }
    }
}

impl Call {
    /// What lint knows of the result's type.
    pub fn value_type(&self) -> ValueType {
        match self.function.returns() {
            Returns::Fixed(value_type) => value_type,
            Returns::LikeLastArgument => {
                self.args.last().map_or(ValueType::Unknown, Arg::value_type)
            }
        }
    }

    /// Every reference inside, depth first.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect(&mut out, &mut |_| true);
        out
    }

    /// The references whose value (or something derived from it) can reach the result: those not
    /// under a function that does not derive secrets (`length`).
    pub fn revealing_references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect(&mut out, &mut |call| call.function.derives_secret());
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Reference>, follow: &mut dyn FnMut(&Call) -> bool) {
        if !follow(self) {
            return;
        }
        for arg in &self.args {
            match arg {
                Arg::Literal(_) => {}
                Arg::Ref(reference) => out.push(reference),
                Arg::Call(call) => call.collect(out, follow),
            }
        }
    }
}

impl ParsedCall {
    /// The call with its function known and every reference classified, without the check pass's
    /// arity and type checks; `Err` lists what has no known meaning (for tests and tools).
    pub fn classify(self) -> Result<Call, Vec<String>> {
        let mut unknown = Vec::new();
        let function = Function::parse(&self.name);
        if function.is_none() {
            unknown.push(self.name.clone());
        }
        let mut args = Vec::new();
        for arg in self.args {
            match arg {
                ParsedArg::Literal { value, .. } => args.push(Arg::Literal(value)),
                ParsedArg::Ref(reference) => match reference.classify() {
                    Some(checked) => args.push(Arg::Ref(checked)),
                    None => unknown.push(reference.text),
                },
                ParsedArg::Call(call) => match call.classify() {
                    Ok(checked) => args.push(Arg::Call(checked)),
                    Err(more) => unknown.extend(more),
                },
            }
        }
        match function {
            Some(function) if unknown.is_empty() => Ok(Call {
                function,
                args,
                text: self.text,
                span: self.span,
            }),
            Some(_) | None => Err(unknown),
        }
    }
}
