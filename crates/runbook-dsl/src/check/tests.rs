//! Check-pass tests on small inline runbooks; the rendered diagnostics are pinned by the CLI's
//! fixture tests.

use crate::finding::FindingCode;
use crate::source::Source;

fn findings(text: &str) -> Vec<(FindingCode, String, Option<String>)> {
    let source = Source::new("t.yaml", text);
    match crate::load_and_check(&source) {
        Ok(_) => Vec::new(),
        Err(findings) => findings
            .into_iter()
            .map(|f| (f.code, f.message, f.help))
            .collect(),
    }
}

const HEAD: &str = "id: t\ntitle: T\ninputs:\n  base_url:\n    default: http://127.0.0.1:1\n";

#[test]
fn a_valid_runbook_checks() {
    let text = format!(
        "{HEAD}steps:\n  - id: get\n    http:\n      url: \"{{{{inputs.base_url}}}}/x\"\n      capture:\n        n: $.n\n  - id: check\n    assert:\n      - that: \"{{{{steps.get.outputs.n}}}}\"\n        equals: 1\n"
    );
    assert_eq!(findings(&text), vec![]);
}

#[test]
fn unknown_input_suggests() {
    let text =
        format!("{HEAD}steps:\n  - id: get\n    http:\n      url: \"{{{{inputs.bse_url}}}}/x\"\n");
    let found = findings(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, FindingCode::UnknownInput);
    assert_eq!(found[0].2.as_deref(), Some("did you mean `base_url`?"));
}

#[test]
fn later_step_is_not_yet_run() {
    let text = format!(
        "{HEAD}steps:\n  - id: first\n    assert:\n      - that: \"{{{{steps.second.outputs.status}}}}\"\n        equals: 200\n  - id: second\n    http:\n      url: \"{{{{inputs.base_url}}}}\"\n"
    );
    let found = findings(&text);
    assert_eq!(found[0].0, FindingCode::StepNotYetRun);
}

#[test]
fn duplicate_ids_unknown_outputs_and_bad_paths_are_all_reported() {
    let text = format!(
        "{HEAD}steps:\n  - id: a\n    http:\n      url: \"{{{{inputs.base_url}}}}\"\n      capture:\n        x: \"$.[\"\n  - id: a\n    shell:\n      command: echo hi\n  - id: b\n    assert:\n      - that: \"{{{{steps.a.outputs.stauts}}}}\"\n        equals: 200\n"
    );
    let codes: Vec<_> = findings(&text).into_iter().map(|f| f.0).collect();
    assert!(codes.contains(&FindingCode::InvalidJsonPath), "{codes:?}");
    assert!(codes.contains(&FindingCode::DuplicateStepId), "{codes:?}");
    assert!(codes.contains(&FindingCode::UnknownOutput), "{codes:?}");
}

#[test]
fn single_quoted_shell_reference_is_rejected() {
    let text = format!(
        "{HEAD}steps:\n  - id: a\n    shell:\n      command: \"echo '{{{{inputs.base_url}}}}'\"\n"
    );
    let found = findings(&text);
    assert_eq!(found[0].0, FindingCode::QuotedShellReference);
}

#[test]
fn secret_default_is_rejected() {
    let text =
        "id: t\ntitle: T\ninputs:\n  key:\n    secret: true\n    default: hunter2\nsteps: []\n";
    let found = findings(text);
    assert_eq!(found[0].0, FindingCode::InvalidInput);
    assert!(!found[0].1.contains("hunter2"));
}

#[test]
fn condition_needs_exactly_one_operator() {
    let text = format!(
        "{HEAD}steps:\n  - id: a\n    assert:\n      - that: 1\n        equals: 1\n        not_equals: 2\n"
    );
    assert_eq!(findings(&text)[0].0, FindingCode::InvalidCondition);
}

#[test]
fn prompt_answers_keep_the_order_written() {
    let text = "id: t\ntitle: T\nmode: operator-assisted\nsteps:\n  - id: ask\n    prompt:\n      answers:\n        zeta_key_id: {label: Key ID}\n        alpha_secret: {label: Secret, secret: true}\n";
    let source = Source::new("t.yaml", text);
    let runbook = crate::load_and_check(&source).unwrap_or_else(|f| panic!("{f:?}"));
    let Some(prompt) = runbook.steps[0].kind.prompt() else {
        panic!("not a prompt");
    };
    let names: Vec<&str> = prompt.answers.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["zeta_key_id", "alpha_secret"]);
}

#[test]
fn map_keys_keep_the_order_written() {
    let text = "id: t\ntitle: T\ninputs:\n  zulu: {default: z}\n  alpha: {default: a}\nsteps:\n  - id: get\n    http:\n      url: http://127.0.0.1:1/x\n      headers: {X-Zulu: z, X-Alpha: a}\n      query: {zq: 1, aq: 2}\n      capture:\n        zc: $.z\n        ac: $.a\n";
    let source = Source::new("t.yaml", text);
    let runbook = crate::load_and_check(&source).unwrap_or_else(|f| panic!("{f:?}"));
    let inputs: Vec<&str> = runbook.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(inputs, ["zulu", "alpha"]);
    let Some(crate::Action::Http(http)) = runbook.steps[0].kind.action() else {
        panic!("not an http step");
    };
    let headers: Vec<&str> = http.headers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(headers, ["X-Zulu", "X-Alpha"]);
    let query: Vec<&str> = http.query.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(query, ["zq", "aq"]);
    let captures: Vec<&str> = http.captures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(captures, ["zc", "ac"]);
}

#[test]
fn a_cached_jsonpath_is_reported_again_wherever_it_is_bad() {
    // Parsed JSONPaths are cached per thread: a bad one must still be a finding at every use, in
    // every file, and a good one must still load (as the same query) the second time.
    let long = format!("$.{}", "a".repeat(300));
    let text = format!(
        "{HEAD}steps:\n  - id: a\n    http:\n      url: \"{{{{inputs.base_url}}}}\"\n      capture:\n        x: \"$.[\"\n        y: \"$.[\"\n        z: \"{long}[\"\n"
    );
    for _ in 0..2 {
        let bad: Vec<_> = findings(&text)
            .into_iter()
            .filter(|f| f.0 == FindingCode::InvalidJsonPath)
            .collect();
        assert_eq!(bad.len(), 3, "{bad:?}");
    }
    let good = format!(
        "{HEAD}steps:\n  - id: a\n    http:\n      url: \"{{{{inputs.base_url}}}}\"\n      capture:\n        x: $.id\n        y: \"{long}\"\n"
    );
    for _ in 0..2 {
        let source = Source::new("t.yaml", &good);
        let runbook = crate::load_and_check(&source);
        assert!(runbook.is_ok(), "{runbook:?}");
    }
}
