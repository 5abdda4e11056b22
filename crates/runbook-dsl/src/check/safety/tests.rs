//! Safety-rule tests on small inline runbooks: each rule fires where it should, at the right text,
//! and stays silent on the safe form. The rendered diagnostics are pinned by the CLI's fixtures.

use crate::finding::FindingCode;
use crate::source::Source;

/// The warnings of a runbook that checks, as (code, the text the span covers).
fn warnings(text: &str) -> Vec<(FindingCode, String)> {
    let source = Source::new("t.yaml", text);
    match crate::load_and_check(&source) {
        Ok(runbook) => runbook
            .warnings
            .into_iter()
            .map(|f| {
                let covered = source.text.get(f.span.start..f.span.end).unwrap_or("");
                (f.code, covered.to_owned())
            })
            .collect(),
        Err(findings) => panic!("the runbook does not check: {findings:#?}"),
    }
}

fn codes(text: &str) -> Vec<FindingCode> {
    warnings(text).into_iter().map(|(code, _)| code).collect()
}

const SECRET: &str = "id: t\ntitle: T\ninputs:\n  token: {secret: true, env: TOKEN}\nsteps:\n";

#[test]
fn a_secret_in_a_command_line_is_reported_at_the_reference() {
    let text = format!(
        "{SECRET}  - id: s\n    shell:\n      command: deploy --token {{{{inputs.token}}}}\n"
    );
    assert_eq!(
        warnings(&text),
        vec![(FindingCode::SecretInCommand, "{{inputs.token}}".to_owned())]
    );
    let safe = format!(
        "{SECRET}  - id: s\n    shell:\n      command: deploy --token-from-env\n      env: {{TOKEN: \"{{{{inputs.token}}}}\"}}\n"
    );
    assert_eq!(warnings(&safe), vec![]);
}

#[test]
fn a_secret_capture_and_a_secret_answer_are_secrets_too() {
    let text = format!(
        "{SECRET}  - id: get\n    http:\n      url: https://example.com/k\n      headers: {{Authorization: \"Bearer {{{{inputs.token}}}}\"}}\n      capture:\n        key: {{jsonpath: $.key, secret: true}}\n  - id: ask\n    prompt:\n      answers:\n        pin: {{secret: true}}\n  - id: use\n    shell:\n      command: tool {{{{steps.get.outputs.key}}}} {{{{steps.ask.outputs.pin}}}}\n"
    );
    assert_eq!(
        codes(&text),
        vec![FindingCode::SecretInCommand, FindingCode::SecretInCommand]
    );
}

#[test]
fn a_secret_in_a_url_says_whether_it_is_the_query_string() {
    let text = format!(
        "{SECRET}  - id: get\n    http:\n      url: \"https://example.com/x?key={{{{inputs.token}}}}\"\n  - id: other\n    http:\n      url: https://example.com/y\n      query: {{key: \"{{{{inputs.token}}}}\"}}\n"
    );
    let source = Source::new("t.yaml", text.as_str());
    let runbook = crate::load_and_check(&source).unwrap_or_else(|f| panic!("{f:#?}"));
    let messages: Vec<_> = runbook
        .warnings
        .iter()
        .map(|f| (f.code, f.message.clone()))
        .collect();
    assert_eq!(
        messages,
        vec![
            (
                FindingCode::SecretInUrl,
                "the secret `{{inputs.token}}` is in the URL's query string".to_owned()
            ),
            (
                FindingCode::SecretInUrl,
                "the secret `{{inputs.token}}` is in the URL's query string".to_owned()
            ),
        ]
    );
}

#[test]
fn a_secret_over_plain_http_is_reported_unless_the_host_is_loopback_or_unknown() {
    let step = |url: &str| {
        format!(
            "{SECRET}  - id: get\n    http:\n      url: \"{url}\"\n      headers: {{Authorization: \"Bearer {{{{inputs.token}}}}\"}}\n"
        )
    };
    assert_eq!(
        warnings(&step("http://api.example.com/v1")),
        vec![(
            FindingCode::SecretOverPlainHttp,
            "{{inputs.token}}".to_owned()
        )]
    );
    assert_eq!(warnings(&step("http://127.0.0.1:8080/v1")), vec![]);
    assert_eq!(warnings(&step("http://localhost/v1")), vec![]);
    assert_eq!(warnings(&step("https://api.example.com/v1")), vec![]);
    assert_eq!(warnings(&step("http://{{env.HOST}}/v1")), vec![]);
}

#[test]
fn a_secret_in_every_prompt_text_field_is_reported() {
    let text = format!(
        "{SECRET}  - id: ask\n    prompt:\n      instructions: \"use {{{{inputs.token}}}}\"\n      confirm: \"ok {{{{inputs.token}}}}?\"\n      phrase: \"{{{{inputs.token}}}}\"\n"
    );
    assert_eq!(codes(&text), vec![FindingCode::SecretInPrompt; 3]);
}

const ASSISTED: &str = "id: t\ntitle: T\nmode: operator-assisted\nsteps:\n";

#[test]
fn an_irreversible_step_needs_a_confirmation_on_every_path() {
    let unconfirmed = format!(
        "{ASSISTED}  - id: hello\n    prompt: {{instructions: hi}}\n  - id: maybe\n    when: {{that: \"{{{{env.X}}}}\", equals: \"1\"}}\n    prompt: {{confirm: sure?}}\n  - id: drop\n    irreversible: true\n    shell: {{command: drop-db}}\n"
    );
    assert_eq!(
        warnings(&unconfirmed),
        vec![(
            FindingCode::IrreversibleWithoutConfirmation,
            "irreversible".to_owned()
        )]
    );
    let confirmed = format!(
        "{ASSISTED}  - id: sure\n    prompt: {{phrase: DROP}}\n  - id: work\n    group:\n      steps:\n        - id: drop\n          irreversible: true\n          shell: {{command: drop-db}}\n"
    );
    assert_eq!(codes(&confirmed), vec![]);
}

#[test]
fn an_operator_assisted_runbook_asks_before_its_first_side_effect() {
    let text = format!(
        "{ASSISTED}  - id: look\n    http: {{url: https://example.com/}}\n  - id: change\n    http: {{method: POST, url: https://example.com/}}\n  - id: ask\n    prompt: {{confirm: ok?}}\n"
    );
    assert_eq!(
        warnings(&text),
        vec![(FindingCode::SideEffectBeforePrompt, "http".to_owned())]
    );
    let asked = format!(
        "{ASSISTED}  - id: ask\n    prompt: {{confirm: ok?}}\n  - id: change\n    http: {{method: POST, url: https://example.com/}}\n"
    );
    assert_eq!(codes(&asked), vec![]);
}

const AVERAGE: &str = "id: t\ntitle: T\naverage_duration: 1m\ninputs:\n  wait: {default: 30s}\n  later: {type: string}\nsteps:\n";

#[test]
fn waits_and_retries_are_measured_against_the_average_duration() {
    let poll = |timeout: &str| {
        format!(
            "{AVERAGE}  - id: w\n    http: {{url: \"https://example.com/{{{{inputs.later}}}}\"}}\n    until: {{that: \"{{{{outputs.status}}}}\", equals: 200}}\n    poll: {{interval: 1s, timeout: \"{timeout}\"}}\n    timeout: 5s\n"
        )
    };
    let long_waits = |text: &str| {
        warnings(text)
            .into_iter()
            .filter(|(code, _)| *code == FindingCode::LongWait)
            .collect::<Vec<_>>()
    };
    // 2m + one 5s attempt is under 3m; 3m is over.
    assert_eq!(long_waits(&poll("2m")), vec![]);
    assert_eq!(
        long_waits(&poll("3m")),
        vec![(FindingCode::LongWait, "\"3m\"".to_owned())]
    );
    // An input's default counts; an input without one is known only at run time.
    assert_eq!(long_waits(&poll("{{inputs.wait}}")), vec![]);
    assert_eq!(
        long_waits(&poll("{{inputs.later}}")),
        vec![(FindingCode::LongWait, "\"{{inputs.later}}\"".to_owned())]
    );
    // 5 attempts of the default 5m shell timeout.
    let retry = format!(
        "{AVERAGE}  - id: r\n    shell: {{command: \"flaky {{{{inputs.wait}}}} {{{{inputs.later}}}}\"}}\n    retry: {{attempts: 5}}\n"
    );
    assert_eq!(
        warnings(&retry),
        vec![(FindingCode::LongWait, "retry".to_owned())]
    );
}

const PLAIN: &str = "id: t\ntitle: T\nsteps:\n  - id: get\n    http: {url: https://example.com/}\n";

#[test]
fn a_condition_on_an_output_that_may_not_exist_is_reported() {
    let text = format!(
        "{PLAIN}    on_error: continue\n  - id: check\n    assert:\n      - that: \"{{{{steps.get.outputs.status}}}}\"\n        equals: 200\n"
    );
    assert_eq!(
        warnings(&text),
        vec![(
            FindingCode::OutputMayNotExist,
            "{{steps.get.outputs.status}}".to_owned()
        )]
    );
    let guarded = format!(
        "{PLAIN}    on_error: continue\n  - id: check\n    when: {{that: \"{{{{steps.get.outputs.status}}}}\", exists: true}}\n    assert:\n      - that: \"{{{{steps.get.outputs.status}}}}\"\n        equals: 200\n"
    );
    assert_eq!(codes(&guarded), vec![]);
}

#[test]
fn a_failure_path_reading_a_main_step_is_reported_unless_it_tests_existence() {
    let text = format!(
        "{PLAIN}on_failure:\n  - id: tell\n    when: {{that: \"{{{{steps.get.outputs.status}}}}\", equals: 500}}\n    shell: {{command: echo server error}}\n"
    );
    assert_eq!(codes(&text), vec![FindingCode::OutputMayNotExist]);
    let guarded = format!(
        "{PLAIN}on_failure:\n  - id: tell\n    when: {{that: \"{{{{steps.get.finished_at}}}}\", exists: true}}\n    shell: {{command: echo failed after get}}\n"
    );
    assert_eq!(codes(&guarded), vec![]);
}

#[test]
fn a_step_with_a_when_may_be_skipped_unless_the_reader_has_the_same_when() {
    let when = "    when: {that: \"{{env.MODE}}\", equals: live}\n";
    let text = format!(
        "id: t\ntitle: T\nsteps:\n  - id: get\n{when}    http: {{url: https://example.com/}}\n  - id: check\n    assert:\n      - that: \"{{{{steps.get.outputs.status}}}}\"\n        equals: 200\n"
    );
    assert_eq!(codes(&text), vec![FindingCode::OutputMayNotExist]);
    let same = format!(
        "id: t\ntitle: T\nsteps:\n  - id: get\n{when}    http: {{url: https://example.com/}}\n  - id: check\n{when}    assert:\n      - that: \"{{{{steps.get.outputs.status}}}}\"\n        equals: 200\n"
    );
    assert_eq!(codes(&same), vec![]);
}

#[test]
fn continue_on_a_step_whose_outputs_are_sent_on_is_reported_at_on_error() {
    let text = format!(
        "{PLAIN}    on_error: continue\n  - id: post\n    http:\n      method: POST\n      url: https://example.com/\n      json: {{seen: \"{{{{steps.get.outputs.status}}}}\"}}\n"
    );
    assert_eq!(
        warnings(&text),
        vec![(FindingCode::ContinueOnNeededStep, "continue".to_owned())]
    );
}

#[test]
fn unused_inputs_and_captures_are_reported_and_audit_counts_as_a_use() {
    let text = "id: t\ntitle: T\ninputs:\n  spare: {default: x}\nsteps:\n  - id: get\n    http:\n      url: https://example.com/\n      capture: {a: $.a, b: $.b, c: $.c}\n      assert:\n        - {that: \"{{outputs.a}}\", equals: 1}\n  - id: record\n    audit:\n      action: checked\n      context: {b: \"{{steps.get.outputs.b}}\"}\n";
    assert_eq!(
        warnings(text),
        vec![
            (FindingCode::UnusedInput, "spare".to_owned()),
            (FindingCode::UnusedCapture, "c".to_owned()),
        ]
    );
}

#[test]
fn steps_that_never_run_are_reported() {
    let text = "id: t\ntitle: T\nsteps:\n  - id: stop\n    assert:\n      - {that: a, equals: b}\n  - id: after\n    shell: {command: echo never}\n  - id: never\n    when: {that: 1, equals: 2}\n    shell: {command: echo never}\n";
    assert_eq!(
        warnings(text),
        vec![
            (FindingCode::UnreachableStep, "after".to_owned()),
            (FindingCode::UnreachableStep, "when".to_owned()),
        ]
    );
    let unknown = "id: t\ntitle: T\nsteps:\n  - id: ok\n    assert:\n      - {that: \"{{env.A}}\", equals: b}\n  - id: after\n    shell: {command: echo maybe}\n";
    assert_eq!(codes(unknown), vec![]);
}

#[test]
fn a_rollback_on_the_last_step_or_in_a_failure_path_is_reported() {
    let undo = "    rollback:\n      - id: undo_X\n        shell: {command: undo}\n";
    let last = format!(
        "id: t\ntitle: T\nsteps:\n  - id: first\n    shell: {{command: one}}\n  - id: last\n    shell: {{command: two}}\n{}",
        undo.replace('X', "last")
    );
    assert_eq!(
        warnings(&last),
        vec![(FindingCode::RollbackNeverRuns, "rollback".to_owned())]
    );
    let not_last = format!(
        "id: t\ntitle: T\nsteps:\n  - id: first\n    shell: {{command: one}}\n{}  - id: last\n    shell: {{command: two}}\n",
        undo.replace('X', "first")
    );
    assert_eq!(codes(&not_last), vec![]);
    let in_failure_path = format!(
        "id: t\ntitle: T\nsteps:\n  - id: first\n    shell: {{command: one}}\non_failure:\n  - id: cleanup\n    shell: {{command: two}}\n{}  - id: more\n    shell: {{command: three}}\n",
        undo.replace('X', "cleanup")
    );
    assert_eq!(
        codes(&in_failure_path),
        vec![FindingCode::RollbackNeverRuns]
    );
}
