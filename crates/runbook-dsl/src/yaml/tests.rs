use super::*;
use crate::finding::Severity;

fn load(text: &str) -> Loaded {
    load_raw(&Source::new("t.yaml", text))
}

/// Every finding of `load_and_check`, as `(code, line:column)` in the order given.
fn lint(text: &str) -> Vec<(FindingCode, String)> {
    let source = Source::new("t.yaml", text);
    let findings = match crate::load_and_check(&source) {
        Ok(runbook) => runbook.warnings,
        Err(findings) => findings,
    };
    findings
        .iter()
        .map(|f| {
            let (line, column) = source.line_col(f.span.start);
            (f.code, format!("{line}:{column}"))
        })
        .collect()
}

fn only(loaded: Loaded) -> Finding {
    assert_eq!(loaded.findings.len(), 1, "{:#?}", loaded.findings);
    loaded
        .findings
        .into_iter()
        .next()
        .unwrap_or_else(|| Finding::error(FindingCode::YamlSyntax, Span::UNKNOWN, "no finding"))
}

#[test]
fn unknown_field_suggests_the_closest() {
    let finding = only(load(
        "id: a\ntitle: b\nsteps:\n  - id: x\n    shel: {command: 'true'}\n",
    ));
    assert_eq!(finding.code, FindingCode::UnknownField);
    assert_eq!(finding.help.as_deref(), Some("did you mean `shell`?"));
}

#[test]
fn duplicate_keys_are_rejected_at_the_key() {
    let finding = only(load("id: a\ntitle: b\ntitle: c\nsteps: []\n"));
    assert_eq!(finding.code, FindingCode::DuplicateKey);
    assert_eq!(finding.span.start, 15);
}

#[test]
fn alias_bombs_fail_fast() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let prev = level - 1;
        text.push_str(&format!(
            "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    text.push_str("id: a\ntitle: b\nsteps: []\n");
    let loaded = load(&text);
    assert!(loaded.raw.is_none());
    assert!(only(loaded).message.contains("safety limit"));
}

#[test]
fn nesting_is_bounded() {
    let text = format!(
        "id: a\ntitle: b\nsteps: []\nx: {}{}\n",
        "[".repeat(60),
        "]".repeat(60)
    );
    let finding = only(load(&text));
    assert!(
        finding.message.contains("nesting deeper than 48"),
        "{finding:?}"
    );
}

#[test]
fn answers_files_refuse_tags_and_second_documents_by_name() {
    let second = load_value("a: 1\n---\nb: 2\n").err().map(|e| e.to_string());
    assert_eq!(
        second.as_deref(),
        Some("a second YAML document: a runbook file holds exactly one at line 2, column 1")
    );
    let tagged = load_value("a: !!binary eA==\n")
        .err()
        .map(|e| e.to_string());
    assert!(
        tagged
            .as_deref()
            .is_some_and(|m| m.starts_with("YAML tags are not supported")),
        "{tagged:?}"
    );
    let duplicate = load_value("a: 1\na: 2\n").err().map(|e| e.to_string());
    assert_eq!(
        duplicate.as_deref(),
        Some("duplicate key `a` at line 2, column 1")
    );
}

#[test]
fn yes_is_not_a_boolean() {
    let finding = only(load(
        "id: a\ntitle: b\ninputs:\n  k:\n    secret: yes\nsteps: []\n",
    ));
    assert_eq!(finding.message, "expected true or false");
    assert!(
        finding
            .help
            .is_some_and(|help| help.contains("write `true` or `false`"))
    );
}

#[test]
fn three_unknown_fields_in_three_steps_are_three_findings() {
    let text = [
        "id: a",
        "title: b",
        "steps:",
        "  - id: one",
        "    shel: {command: 'true'}",
        "    shell: {command: 'true'}",
        "  - id: two",
        "    shell: {command: 'true', comand: x}",
        "  - id: three",
        "    shell: {command: 'true'}",
        "    retyr: {attempts: 2}",
    ]
    .join("\n");
    let text = text.as_str();
    assert_eq!(
        lint(text),
        [
            (FindingCode::UnknownField, "5:5".to_owned()),
            (FindingCode::UnknownField, "8:30".to_owned()),
            (FindingCode::UnknownField, "11:5".to_owned()),
        ]
    );
}

#[test]
fn a_wrong_type_does_not_hide_the_other_findings() {
    // `length: "zero"` used to be the only finding; fixing it revealed the others.
    let text = [
        "id: a",
        "title: b",
        "mode: manual",
        "steps:",
        "  - id: one",
        "    assert:",
        "      - that: x",
        "        length: \"zero\"",
        "  - id: two",
        "    shell: {command: 'echo {{inputs.nope}}'}",
        "    on_error: contine",
        "  - id: three",
        "    http: {url: 'https://x.example/{{steps.one.outputs.a}}', method: GTE}",
    ]
    .join("\n");
    let text = text.as_str();
    assert_eq!(
        lint(text),
        [
            (FindingCode::InvalidValue, "3:7".to_owned()),
            (FindingCode::InvalidValue, "8:17".to_owned()),
            (FindingCode::InvalidValue, "11:15".to_owned()),
            (FindingCode::InvalidMethod, "13:70".to_owned()),
        ],
        "step `two` did not load (its unknown input is inside it); `one` did not load, so the \
         reference to its output is not reported"
    );
}

#[test]
fn every_broken_field_of_one_step_is_reported() {
    let text = [
        "id: a",
        "title: b",
        "steps:",
        "  - id: one",
        "    shell: {command: 'true', stdout: jsno, expect_exit: x}",
        "    on_error: contine",
        "    resume: again",
        "    irreversible: maybe",
    ]
    .join("\n");
    let text = text.as_str();
    let found = lint(text);
    assert_eq!(found.len(), 5, "{found:?}");
    assert!(
        found
            .iter()
            .all(|(code, _)| *code == FindingCode::InvalidValue)
    );
}

#[test]
fn a_broken_input_is_left_out_and_references_to_it_are_not_reported() {
    let text = "id: a\ntitle: b\ninputs:\n  good: {type: string}\n  bad: {type: url}\n\
                steps:\n  - id: one\n    shell: {command: 'echo {{inputs.bad}} {{inputs.good}} {{inputs.nope}}'}\n";
    let found = lint(text);
    assert_eq!(
        found,
        [
            (FindingCode::InvalidValue, "5:15".to_owned()),
            (FindingCode::UnknownInput, "8:59".to_owned()),
        ]
    );
}

#[test]
fn a_missing_required_field_stops_before_the_check_pass_but_reports_the_rest() {
    let text = "id: a\nsteps:\n  - id: one\n    shell: {command: 'true', bogus: 1}\n";
    let loaded = load(text);
    assert!(loaded.raw.is_none());
    let mut messages: Vec<String> = loaded.findings.into_iter().map(|f| f.message).collect();
    messages.sort();
    assert_eq!(
        messages,
        ["missing required field `title`", "unknown field `bogus`"]
    );
}

#[test]
fn an_unquoted_template_is_explained_as_a_flow_mapping() {
    let finding = only(load(
        "id: a\ntitle: b\nsteps:\n  - id: one\n    shell: {command: x, stdin: {{inputs.k}}}\n",
    ));
    assert!(
        finding
            .message
            .contains("an unquoted `{{` starts a YAML flow mapping"),
        "{finding:?}"
    );
    assert!(
        finding
            .help
            .is_some_and(|help| help.contains("quote the whole value"))
    );
}

#[test]
fn enum_values_suggest_the_closest() {
    for (text, suggestion) in [
        ("on_error: contine", "continue"),
        ("resume: rerrun", "rerun"),
        ("shell: {command: x, stdout: jsno}", "json"),
    ] {
        let yaml = format!(
            "id: a\ntitle: b\nsteps:\n  - id: one\n    shell: {{command: x}}\n    {text}\n"
        );
        let yaml = yaml.replace("    shell: {command: x}\n    shell:", "    shell:");
        let finding = only(load(&yaml));
        assert_eq!(
            finding.help,
            Some(format!("did you mean `{suggestion}`?")),
            "{text}: {finding:?}"
        );
        assert_eq!(finding.severity(), Severity::Error);
    }
}

#[test]
fn spans_point_at_the_value() {
    let text = "id: a\ntitle: b\nsteps:\n  - id: one\n    http:\n      url: https://x.example\n      max_response_bytes: 10MB\n";
    let finding = only(load(text));
    assert_eq!(&text[finding.span.start..finding.span.end], "10MB");
}

#[test]
fn duplicate_keys_are_found_in_large_mappings_too() {
    let mut text = String::from("id: a\ntitle: b\nsteps: []\ninputs:\n");
    for index in 0..20 {
        text.push_str(&format!("  in{index}: {{}}\n"));
    }
    text.push_str("  in3: {}\n  in19: {}\n");
    let loaded = load(&text);
    let duplicates: Vec<&str> = loaded
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::DuplicateKey)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(duplicates, ["duplicate key `in3`", "duplicate key `in19`"]);
}

#[test]
fn entries_after_a_dropped_key_keep_their_values() {
    // A duplicate key's value (a whole mapping here) and a merge key's are dropped with the key;
    // every entry after them must still pair the right key with the right value.
    let text = "id: a\ntitle: b\ntitle:\n  x: 1\n  y: [2]\ninputs:\n  <<: {}\n  token: {type: string}\nsteps:\n  - id: one\n    shell: {command: 'true'}\n";
    let loaded = load(text);
    let codes: Vec<FindingCode> = loaded.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [FindingCode::DuplicateKey, FindingCode::YamlSyntax]);
    let raw = loaded.raw.as_ref();
    assert_eq!(raw.map(|raw| raw.title.as_str()), Some("b"));
    assert_eq!(raw.map(|raw| raw.steps.len()), Some(1));
}
