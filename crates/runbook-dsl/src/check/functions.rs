//! Function calls in templates: the function exists, it gets as many arguments as it takes, and
//! each literal argument and each nested call's result has a type the parameter admits. A
//! reference's type is known only at run time, where the engine checks it again.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::suggest::did_you_mean;
use crate::template::{Arg, Call, Function, ParsedArg, ParsedCall};

impl Checker<'_> {
    /// Checks a call as written; reports every problem and returns `None` if there is one.
    pub(crate) fn call(&mut self, written: ParsedCall, scope: Scope) -> Option<Call> {
        let function = self.function(&written);
        let given = written.args.len();
        let mut ok = function.is_some();
        // Check every argument even when the function is unknown, so every finding shows at once.
        let mut args = Vec::new();
        let mut spans = Vec::new();
        for arg in written.args {
            spans.push(arg.span());
            match self.arg(arg, scope) {
                Some(arg) => args.push(arg),
                None => ok = false,
            }
        }
        let function = function?;
        let params = function.params();
        if given != params.len() {
            self.report(
                Finding::error(
                    FindingCode::FunctionArity,
                    written.span,
                    format!(
                        "`{}` takes {} ({}), but {} {} given",
                        function.name(),
                        plural(params.len(), "argument"),
                        params
                            .iter()
                            .map(|param| param.name)
                            .collect::<Vec<_>>()
                            .join(", "),
                        given,
                        if given == 1 { "was" } else { "were" },
                    ),
                )
                .with_label(format!(
                    "wrong number of arguments for `{}`",
                    function.name()
                ))
                .with_help(format!(
                    "write `{{{{{}}}}}`, e.g. `{}`",
                    function.usage(),
                    function.example()
                )),
            );
            return None;
        }
        if !ok {
            return None;
        }
        for ((param, arg), span) in params.iter().zip(&args).zip(spans) {
            let found = arg.value_type();
            let problem = if !param.accepts.admits(found) {
                Some(format!("{} is {}", arg.describe(), found.describe()))
            } else if let Arg::Literal(value) = arg {
                param.accepts.literal_problem(value).map(str::to_owned)
            } else {
                None
            };
            if let Some(problem) = problem {
                self.report(
                    Finding::error(
                        FindingCode::FunctionArgument,
                        span,
                        format!(
                            "`{}` needs {} as {}, but {problem}",
                            function.name(),
                            param.accepts.describe(),
                            param.name
                        ),
                    )
                    .with_label(format!("expected {}", param.accepts.describe()))
                    .with_help(format!(
                        "write `{{{{{}}}}}`, e.g. `{}`",
                        function.usage(),
                        function.example()
                    )),
                );
                ok = false;
            }
        }
        if let (Function::Slice, [Arg::Literal(from), Arg::Literal(to), _]) =
            (function, args.as_slice())
            && let (Some(from), Some(to)) = (from.as_u64(), to.as_u64())
            && from > to
        {
            self.report(
                Finding::error(
                    FindingCode::FunctionArgument,
                    written.span,
                    format!("`slice {from} {to}` starts after it ends"),
                )
                .with_label("FROM is greater than TO")
                .with_help("`slice FROM TO VALUE` keeps the characters from FROM up to TO"),
            );
            ok = false;
        }
        ok.then_some(Call {
            function,
            args,
            text: written.text,
            span: written.span,
        })
    }

    fn function(&mut self, written: &ParsedCall) -> Option<Function> {
        if let Some(function) = Function::parse(&written.name) {
            return Some(function);
        }
        let names = Function::ALL.map(Function::name);
        let finding = Finding::error(
            FindingCode::UnknownFunction,
            written.name_span,
            format!("unknown function `{}`", written.name),
        )
        .with_label("no function has this name");
        let finding = match did_you_mean(&written.name, names) {
            Some(candidate) => finding.with_suggestion(Some(candidate)),
            None => finding.with_help(format!("functions: {}", names.join(", "))),
        };
        self.report(finding);
        None
    }

    fn arg(&mut self, written: ParsedArg, scope: Scope) -> Option<Arg> {
        match written {
            ParsedArg::Literal { value, .. } => Some(Arg::Literal(value)),
            ParsedArg::Ref(reference) => match self.param(&reference) {
                Some(Some(super::fragment::Binding::Ref(reference))) => Some(Arg::Ref(reference)),
                Some(Some(super::fragment::Binding::Literal(value))) => Some(Arg::Literal(value)),
                Some(None) => None,
                None => self.reference(&reference, scope).map(Arg::Ref),
            },
            ParsedArg::Call(call) => self.call(call, scope).map(Arg::Call),
        }
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests;
