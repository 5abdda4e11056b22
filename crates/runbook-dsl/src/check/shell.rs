//! Checks for `shell` steps.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::ShellStep;
use crate::raw::{RawShell, StdoutMode};
use crate::spanned::Spanned;
use crate::template::{ShellContext, Template};

impl Checker<'_> {
    pub(super) fn check_shell(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawShell>,
    ) -> Option<ShellStep> {
        let shell = &spanned.value;
        let mut ok = true;
        let command = self.template(&shell.command, scope);
        if let Some(command) = &command {
            ok &= self.check_quoting(command);
        }
        let mut env = Vec::new();
        for (name, value) in &shell.env {
            match self.template(value, scope) {
                Some(template) => env.push((name.clone(), template)),
                None => ok = false,
            }
        }
        let mut files = Vec::new();
        for (name, content) in &shell.files {
            if !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                let span = self.key_span(self.span(content), name);
                self.report(
                    Finding::error(
                        FindingCode::InvalidFileVariable,
                        span,
                        format!("`{name}` is not an environment variable name"),
                    )
                    .with_help("use uppercase letters, digits and `_`, e.g. `SECRETS_FILE`"),
                );
                ok = false;
            }
            match self.template(content, scope) {
                Some(template) => files.push((name.clone(), template)),
                None => ok = false,
            }
        }
        let workdir = shell.workdir.as_ref().map(|w| self.template(w, scope));
        let stdin = shell.stdin.as_ref().map(|s| self.template(s, scope));
        let stdout = shell
            .stdout
            .as_ref()
            .map_or(StdoutMode::Trimmed, |mode| mode.value);
        let captures = self.captures(
            &shell.capture,
            false,
            stdout == StdoutMode::Json,
            ShellStep::BUILTIN_OUTPUTS,
        );
        let own_outputs: Vec<String> = ShellStep::BUILTIN_OUTPUTS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(shell.capture.keys().cloned())
            .collect();
        let asserts = self.conditions(
            &shell.assert,
            Scope {
                own_outputs: Some(&own_outputs),
                ..scope
            },
        );
        let expect_exit = shell
            .expect_exit
            .as_ref()
            .map_or_else(|| vec![0], |spec| spec.value.codes());
        if !ok {
            return None;
        }
        Some(ShellStep {
            command: command?,
            env,
            workdir: flatten(workdir)?,
            stdin: flatten(stdin)?,
            files,
            expect_exit,
            stdout,
            captures: captures?,
            asserts: asserts?,
        })
    }

    /// A reference becomes an environment variable expansion; inside single quotes or a quoted
    /// here-document it would not expand (an error), and an argument of `eval`, `sh -c` and the
    /// like is parsed as shell code again (a warning).
    fn check_quoting(&mut self, command: &Template) -> bool {
        let mut ok = true;
        let uses = crate::template::shell_uses(command);
        for ((text, span), found) in command.insertions().zip(uses) {
            let written = format!("`{{{{{text}}}}}`");
            let not_expanding = match found.context {
                ShellContext::SingleQuoted => Some((
                    format!("{written} is inside single quotes in a shell command"),
                    "references are passed to the command as environment variables \
                     (`\"$RUNBOOK_REF_n\"`); remove the single quotes around it",
                )),
                ShellContext::QuotedHereDoc => Some((
                    format!(
                        "{written} is inside a quoted here-document (`<<'EOF'`) in a shell command"
                    ),
                    "nothing expands in a here-document whose delimiter is quoted; unquote the \
                     delimiter (`<<EOF`), or pass the value with `stdin:` or `files:`",
                )),
                ShellContext::Escaped => Some((
                    format!("{written} follows a backslash in a shell command"),
                    "the backslash would escape the expansion, so it would not expand; remove \
                     the backslash (the value is passed as data, nothing in it needs escaping)",
                )),
                ShellContext::Unquoted
                | ShellContext::DoubleQuoted
                | ShellContext::HereDoc
                | ShellContext::Arithmetic => None,
            };
            if let Some((message, help)) = not_expanding {
                self.report(
                    Finding::error(FindingCode::QuotedShellReference, span, message)
                        .with_label("would not expand")
                        .with_help(help),
                );
                ok = false;
            }
            if let Some(by) = found.reparsed_by {
                self.report(
                    Finding::warning(
                        FindingCode::ReparsedShellReference,
                        span,
                        format!("{written} reaches `{by}`, which runs its value as shell code"),
                    )
                    .with_label("parsed as shell syntax again")
                    .with_help(
                        "pass the value in the environment instead and let the inner shell expand \
                         it: `env: {VALUE: ...}` and `sh -c 'do-something \"$VALUE\"'` (for ssh, \
                         send it on stdin)",
                    ),
                );
            }
        }
        ok
    }
}

fn flatten<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        Some(Some(value)) => Some(Some(value)),
        Some(None) => None,
        None => Some(None),
    }
}
