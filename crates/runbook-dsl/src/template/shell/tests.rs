use super::*;
use crate::source::Span;
use crate::template::parse_template;

fn uses(text: &str) -> Vec<ShellUse> {
    let template = parse_template(text, Span::new(0, text.len()), Some(0))
        .ok()
        .and_then(|parsed| parsed.into_template().ok())
        .unwrap_or_else(|| Template::literal("unparsable", Span::UNKNOWN));
    shell_uses(&template)
}

fn contexts(text: &str) -> Vec<ShellContext> {
    uses(text).into_iter().map(|found| found.context).collect()
}

use ShellContext::{
    Arithmetic, DoubleQuoted, Escaped, HereDoc, QuotedHereDoc, SingleQuoted, Unquoted,
};

#[test]
fn plain_quoting() {
    assert_eq!(
        contexts(r#"echo {{inputs.a}} "x{{inputs.a}}" '{{inputs.a}}' \'{{inputs.a}}"#),
        [Unquoted, DoubleQuoted, SingleQuoted, Unquoted]
    );
    assert_eq!(contexts(r#"echo "it's {{inputs.a}}""#), [DoubleQuoted]);
    // Built by hand: handlebars reads `\{{` as an escaped brace, but `\\{{x}}` leaves one
    // backslash before the reference in the text the shell gets.
    let reference = || {
        Part::Ref(super::super::Reference {
            path: super::super::RefPath::Input {
                name: "a".into(),
                rest: Vec::new(),
            },
            text: "inputs.a".into(),
            span: Span::UNKNOWN,
        })
    };
    let literal = |text: &str| Part::Literal(text.into());
    let template = Template {
        source: String::new(),
        parts: vec![
            literal("echo \\"),
            reference(),
            literal(" \"\\"),
            reference(),
            literal("\" \"\\\\"),
            reference(),
            literal("\""),
        ],
        span: Span::UNKNOWN,
    };
    assert_eq!(shell_contexts(&template), [Escaped, Escaped, DoubleQuoted]);
}

#[test]
fn command_substitution_is_its_own_context() {
    assert_eq!(
        contexts(r#"echo "$(printf '[%s]' "{{inputs.a}}" {{inputs.a}})" {{inputs.a}}"#),
        [DoubleQuoted, Unquoted, Unquoted]
    );
    assert_eq!(
        contexts(r#"echo "$(echo "$(echo {{inputs.a}})" '{{inputs.a}}')""#),
        [Unquoted, SingleQuoted]
    );
    assert_eq!(
        contexts("echo $(case x in a) echo {{inputs.a}};; esac) {{inputs.a}}"),
        [Unquoted, Unquoted]
    );
    assert_eq!(
        contexts(r#"echo "$( (echo {{inputs.a}}) )" "{{inputs.a}}""#),
        [Unquoted, DoubleQuoted]
    );
}

#[test]
fn backticks_are_their_own_context() {
    assert_eq!(
        contexts(r#"echo "`printf %s "{{inputs.a}}" {{inputs.a}}`" `echo '{{inputs.a}}'`"#),
        [DoubleQuoted, Unquoted, SingleQuoted]
    );
}

#[test]
fn parameter_words_arithmetic_and_comments() {
    assert_eq!(
        contexts(r#"echo "${X:-{{inputs.a}}}" ${X:-{{inputs.a}}} $(( {{inputs.a}} + 1 ))"#),
        [DoubleQuoted, Unquoted, Arithmetic]
    );
    assert_eq!(
        contexts("echo a # it's {{inputs.a}}\necho {{inputs.a}}"),
        [Unquoted, Unquoted]
    );
}

#[test]
fn heredocs() {
    assert_eq!(
        contexts("cat <<EOF >f\nsay \"{{inputs.a}}\" '{{inputs.a}}'\nEOF\necho {{inputs.a}}"),
        [HereDoc, HereDoc, Unquoted]
    );
    assert_eq!(
        contexts("cat <<'EOF'\n{{inputs.a}}\nEOF\necho '{{inputs.a}}'"),
        [QuotedHereDoc, SingleQuoted]
    );
    assert_eq!(
        contexts("cat <<-\"END\" <<X\n\t{{inputs.a}}\n\tEND\n$(echo {{inputs.a}})\nX\n"),
        [QuotedHereDoc, Unquoted]
    );
    assert_eq!(contexts("cat <<< {{inputs.a}}"), [Unquoted]);
}

/// Every short command over the characters that change the scanner's state, with a reference
/// in the middle: the scanner never panics and finds the one reference.
#[test]
fn any_input_is_scanned_without_panicking() {
    const ALPHABET: [char; 14] = [
        '\'', '"', '\\', '$', '(', ')', '`', '<', '\n', '{', '}', 'E', '#', ' ',
    ];
    let reference = Part::Ref(super::super::Reference {
        path: super::super::RefPath::Input {
            name: "a".into(),
            rest: Vec::new(),
        },
        text: "inputs.a".into(),
        span: Span::UNKNOWN,
    });
    let mut count = 0usize;
    for n in 0..ALPHABET.len().pow(4) {
        let mut text = String::new();
        let mut rest = n;
        for _ in 0..4 {
            text.push(ALPHABET[rest % ALPHABET.len()]);
            rest /= ALPHABET.len();
        }
        let (before, after) = text.split_at(2);
        let template = Template {
            source: text.clone(),
            parts: vec![
                Part::Literal(before.into()),
                reference.clone(),
                Part::Literal(after.into()),
                reference.clone(),
            ],
            span: Span::UNKNOWN,
        };
        count += shell_uses(&template).len();
    }
    assert_eq!(count, 2 * ALPHABET.len().pow(4));
}

fn reparsed(text: &str) -> Vec<Option<String>> {
    uses(text)
        .into_iter()
        .map(|found| found.reparsed_by)
        .collect()
}

#[test]
fn commands_that_parse_a_value_as_code() {
    let some = |name: &str| Some(name.to_owned());
    assert_eq!(reparsed(r#"eval "x={{inputs.a}}""#), [some("eval")]);
    assert_eq!(
        reparsed(r#"sudo -u root bash -lc "ls {{inputs.a}}" x {{inputs.a}}"#),
        [some("bash -c"), None]
    );
    assert_eq!(
        reparsed(r#"ssh -p 22 {{inputs.a}} ls {{inputs.a}}; ls {{inputs.a}}"#),
        [None, some("ssh"), None]
    );
    assert_eq!(reparsed("su -c {{inputs.a}} root"), [some("su -c")]);
    assert_eq!(
        reparsed(r#"echo "$(sh -c {{inputs.a}})" | sh"#),
        [some("sh -c")]
    );
    assert_eq!(reparsed("echo eval {{inputs.a}}"), [None]);
}

#[test]
fn code_run_in_a_container_from_a_pipe_or_a_here_string() {
    let some = |name: &str| Some(name.to_owned());
    assert_eq!(
        reparsed(r#"kubectl exec -n prod pod -- sh -c "echo {{inputs.a}}""#),
        [some("kubectl exec ... sh -c")]
    );
    assert_eq!(
        reparsed(r#"kubectl exec pod -- printenv {{inputs.a}}"#),
        [None]
    );
    assert_eq!(
        reparsed(r#"docker exec -u root c bash -lc "ls {{inputs.a}}""#),
        [some("docker exec ... bash -c")]
    );
    assert_eq!(reparsed(r#"echo {{inputs.a}} | sh"#), [some("| sh")]);
    assert_eq!(reparsed(r#"echo {{inputs.a}} | bash -s"#), [some("| bash")]);
    assert_eq!(reparsed(r#"echo {{inputs.a}} || sh"#), [None]);
    assert_eq!(reparsed(r#"echo {{inputs.a}} | grep x | sh"#), [None]);
    assert_eq!(reparsed(r#"echo {{inputs.a}} | sh script.sh"#), [None]);
    assert_eq!(reparsed(r#"bash <<< "{{inputs.a}}""#), [some("bash <<<")]);
    assert_eq!(reparsed(r#"cat <<< "{{inputs.a}}""#), [None]);
}
