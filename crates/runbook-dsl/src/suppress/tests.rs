use super::*;

fn lint_lines(text: &str, findings: &[(FindingCode, &str)]) -> Filtered {
    let source = Source::new("x.yaml", text);
    let findings = findings
        .iter()
        .map(|(code, at)| {
            let start = text.find(at).unwrap_or(usize::MAX);
            Finding::new(*code, Span::new(start, start + at.len()), "m")
        })
        .collect();
    apply_suppressions(&source, findings, true)
}

const STEP: &str = "\
steps:
  # runbook: allow reparsed_shell_reference -- the host only takes it as an argument
  - id: remote
    shell:
      command: |
        ssh host \"deploy {{inputs.dir}}\"
  - id: other
    shell:
      command: ssh host \"deploy {{inputs.other}}\"
";

#[test]
fn a_comment_covers_the_next_item_and_what_is_nested_under_it() {
    let filtered = lint_lines(
        STEP,
        &[
            (FindingCode::ReparsedShellReference, "{{inputs.dir}}"),
            (FindingCode::ReparsedShellReference, "{{inputs.other}}"),
        ],
    );
    assert_eq!(filtered.suppressed.len(), 1);
    assert_eq!(filtered.findings.len(), 1, "{:?}", filtered.findings);
    assert_eq!(filtered.suppressions[0].lines, 3..=6);
    assert_eq!(
        filtered.suppressions[0].reason,
        "the host only takes it as an argument"
    );
}

#[test]
fn a_trailing_comment_covers_its_line() {
    let text = "title: x\nurl: \"a {{b}}\" # runbook: allow secret_in_prompt -- why not\nnext: 1\n";
    let filtered = lint_lines(
        text,
        &[
            (FindingCode::SecretInPrompt, "{{b}}"),
            (FindingCode::SecretInPrompt, "next"),
        ],
    );
    assert_eq!(filtered.suppressed.len(), 1);
    assert_eq!(filtered.findings.len(), 1);
}

#[test]
fn errors_unknown_rules_and_missing_reasons_are_rejected() {
    let text = "\
# runbook: allow unknown_step -- it exists, trust me
# runbook: allow secret_in_promt -- typo
# runbook: allow secret_in_prompt
# runbook: allow secret_in_prompt --   
# runbook: deny secret_in_prompt -- no such directive
title: x
";
    let (suppressions, findings) = parse_suppressions(&Source::new("x.yaml", text));
    assert!(suppressions.is_empty());
    let messages: Vec<String> = findings.iter().map(|f| f.message.clone()).collect();
    assert_eq!(findings.len(), 5, "{messages:?}");
    assert!(
        findings
            .iter()
            .all(|f| f.code == FindingCode::InvalidSuppression)
    );
    assert!(messages[0].contains("cannot be suppressed"));
    assert_eq!(
        findings[1].help.as_deref(),
        Some("did you mean `secret_in_prompt`?")
    );
    assert!(messages[2].contains("needs a reason"));
    assert!(messages[3].contains("needs a reason"));
    assert!(messages[4].contains("unknown runbook directive"));
}

#[test]
fn an_error_is_never_suppressed_and_unused_comments_are_reported() {
    let text = "# runbook: allow secret_in_prompt -- reviewed\nid: x\n";
    let filtered = lint_lines(text, &[(FindingCode::UnknownStep, "x")]);
    let codes: Vec<FindingCode> = filtered.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        [FindingCode::UnusedSuppression, FindingCode::UnknownStep]
    );
}

#[test]
fn comment_like_text_in_strings_and_block_scalars_is_not_a_comment() {
    let text = "\
a: '# runbook: allow secret_in_prompt -- in a string'
b: \"x # runbook: allow secret_in_prompt -- in a string\"
c: |
  # runbook: allow secret_in_prompt -- shell text
d: it's # runbook: allow secret_in_prompt -- a real one
";
    let (suppressions, findings) = parse_suppressions(&Source::new("x.yaml", text));
    assert!(findings.is_empty());
    assert_eq!(suppressions.len(), 1);
    assert_eq!(suppressions[0].lines, 5..=5);
}

#[test]
fn a_key_covers_a_sequence_at_its_own_indentation() {
    let text = "\
# runbook: allow secret_in_prompt, reparsed_shell_reference -- all reviewed
steps:
- id: a
- id: b
title: x
";
    let (suppressions, _) = parse_suppressions(&Source::new("x.yaml", text));
    assert_eq!(suppressions.len(), 2);
    assert_eq!(suppressions[0].lines, 2..=4);
}

#[test]
fn a_file_without_the_directive_is_not_scanned_and_keeps_its_findings() {
    let text = "steps:\n  # just a comment\n  - id: a # runbook allow nothing\n";
    let (suppressions, problems) = parse_suppressions(&Source::new("x.yaml", text));
    assert!(suppressions.is_empty() && problems.is_empty());
    let filtered = lint_lines(text, &[(FindingCode::ReparsedShellReference, "id: a")]);
    assert_eq!(filtered.findings.len(), 1);
    // One directive anywhere and the whole file is scanned as before.
    let (_, problems) = parse_suppressions(&Source::new("x.yaml", "# runbook: allow\n"));
    assert_eq!(problems.len(), 1);
}
