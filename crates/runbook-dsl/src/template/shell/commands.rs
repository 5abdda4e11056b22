//! The programs a shell command runs: the first word of each simple command, after assignments
//! and prefixes such as `exec` or `env`, without shell keywords and builtins. A rehearsal uses it
//! to name, before anything runs, each program a step would start that it does not simulate.

use super::Template;

/// The words of one simple command, with the references inside each word.
pub(super) struct Words {
    pub words: Vec<String>,
    pub refs: Vec<Vec<usize>>,
    /// Whether each word holds an expansion.
    pub dynamic: Vec<bool>,
}

/// The program a simple command starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandWord {
    /// A name written in the command (`heroku`, `/usr/bin/env`).
    Name(String),
    /// Exactly one reference and nothing else (`{{inputs.cli}} ...`): its index among the
    /// template's references.
    Reference(usize),
    /// Made at run time (text and references together, or a command substitution).
    Dynamic,
}

/// The builtins of a POSIX `sh` that start no program (`eval` and `.` run code, so they are
/// reported as names).
const BUILTINS: &[&str] = &[
    ":", "[", "alias", "bg", "break", "cd", "continue", "echo", "exit", "export", "false", "fg",
    "getopts", "hash", "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return",
    "set", "shift", "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset",
    "wait",
];

/// Builtins that run the words after them as the command.
const BUILTIN_PREFIXES: &[&str] = &["exec", "command", "builtin"];

/// Programs that run the words after them as another program (they are programs too).
const PROGRAM_PREFIXES: &[&str] = &[
    "env", "sudo", "doas", "nohup", "nice", "setsid", "time", "timeout", "xargs",
];

/// Every program `template` would start, in order, once per simple command.
pub fn command_words(template: &Template) -> Vec<CommandWord> {
    let (_, commands) = super::scan(template);
    let mut out = Vec::new();
    for command in &commands {
        programs_of(command, &mut out);
    }
    out
}

fn programs_of(command: &Words, out: &mut Vec<CommandWord>) {
    let mut i = 0;
    while let Some(word) = command.words.get(i) {
        let refs = command.refs.get(i).map_or(&[][..], Vec::as_slice);
        // `NAME=value` before the program: the value may expand, the program is what follows.
        let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if !is_assignment {
            if !refs.is_empty() {
                out.push(match (word.is_empty(), refs) {
                    (true, [only]) => CommandWord::Reference(*only),
                    _ => CommandWord::Dynamic,
                });
                return;
            }
            if word.is_empty() || command.dynamic.get(i).copied().unwrap_or(false) {
                out.push(CommandWord::Dynamic);
                return;
            }
        }
        if is_assignment || is_keyword(word) {
            i += 1;
            continue;
        }
        // A loop or case header (its words are data; its body's commands come separately), a
        // bash test, or a builtin, whose words are its arguments.
        if matches!(
            word.as_str(),
            "for" | "case" | "select" | "esac" | "function" | "[["
        ) || BUILTINS.contains(&word.as_str())
        {
            return;
        }
        if BUILTIN_PREFIXES.contains(&word.as_str()) {
            i += 1;
            while command.words.get(i).is_some_and(|w| w.starts_with('-')) {
                i += 1;
            }
            continue;
        }
        out.push(CommandWord::Name(word.clone()));
        if !PROGRAM_PREFIXES.contains(&word.as_str()) {
            return;
        }
        // The wrapped program: after options (and `env`'s assignments, `timeout`'s duration).
        i += 1;
        while let Some(next) = command.words.get(i) {
            let option = next.starts_with('-') && command.refs.get(i).is_none_or(Vec::is_empty);
            if option || (word == "env" && next.contains('=')) {
                i += 1;
            } else {
                break;
            }
        }
        if word == "timeout" {
            i += 1;
        }
    }
}

/// Reserved words: the command continues after them (`if heroku ...`, `! infisical ...`).
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "!" | "{"
            | "}"
            | "if"
            | "then"
            | "else"
            | "elif"
            | "fi"
            | "do"
            | "done"
            | "while"
            | "until"
            | "in"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn names(text: &str) -> Vec<CommandWord> {
        command_words(&Template::literal(text, Span::UNKNOWN))
    }

    fn name(text: &str) -> CommandWord {
        CommandWord::Name(text.into())
    }

    #[test]
    fn programs_not_builtins_nor_keywords() {
        assert_eq!(
            names("echo hi; if heroku apps; then X=1 infisical get | jq .; fi"),
            vec![name("heroku"), name("infisical"), name("jq")]
        );
        assert_eq!(
            names("exec env A=1 -i kubectl get pods"),
            vec![name("env"), name("kubectl")]
        );
        assert_eq!(
            names("for x in a b; do curl \"$x\"; done"),
            vec![name("curl")]
        );
        assert_eq!(names("printf '%s' \"$(cat f)\""), vec![name("cat")]);
        assert_eq!(names("$(printf cu)rl -s x"), vec![CommandWord::Dynamic]);
        assert_eq!(
            names("A=\"$(date)\" heroku run"),
            vec![name("date"), name("heroku")]
        );
        assert_eq!(
            names("\"$CLI\" get; $X"),
            vec![CommandWord::Dynamic, CommandWord::Dynamic]
        );
        assert_eq!(
            names("`which heroku` run"),
            vec![name("which"), CommandWord::Dynamic]
        );
        assert_eq!(
            names("test -f x && timeout 5 sleep 1"),
            vec![name("timeout"), name("sleep")]
        );
    }

    #[test]
    fn a_reference_as_the_program() {
        let template =
            crate::template::parse_template("{{inputs.cli}} secrets get X", Span::UNKNOWN, None)
                .ok()
                .and_then(|parsed| parsed.into_template().ok());
        let found = template.map(|template| command_words(&template));
        assert_eq!(found, Some(vec![CommandWord::Reference(0)]));
    }
}
