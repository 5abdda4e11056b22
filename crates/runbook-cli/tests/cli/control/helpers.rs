//! Shared by every control-flow test (and by other areas through `crate::control`): run a runbook
//! against a wiremock server, read what the server received and what the JSON report says.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Output, Sandbox};

/// `runbook run rb.yaml --input base_url=URI [extra...]` in a fresh sandbox holding `yaml` (and the
/// answers file, when given, as `answers.yaml`).
pub(crate) fn run_runbook(
    server: &MockServer,
    yaml: &str,
    answers: Option<&str>,
    extra: &[&str],
) -> Output {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", yaml);
    let base = format!("base_url={}", server.uri());
    let mut args = vec!["run", "rb.yaml", "--input", base.as_str()];
    if let Some(answers) = answers {
        sandbox.write("answers.yaml", answers);
        args.extend(["--answers", "answers.yaml"]);
    }
    args.extend_from_slice(extra);
    let state = state_dir(&sandbox);
    sandbox.run_with_env(&args, &[("RUNBOOK_STATE_DIR", state.as_str())])
}

/// A state directory (journal, run lock) inside the sandbox, so parallel tests that run runbooks
/// with the same id neither share runs nor wait on each other's lock.
pub(crate) fn state_dir(sandbox: &Sandbox) -> String {
    sandbox.path().join(".state").display().to_string()
}

/// The requests the server received, in order, as `METHOD /path`.
pub(crate) async fn recorded(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect()
}

/// `["POST /a", "POST /b"]` from `["/a", "/b"]`.
pub(crate) fn posts(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|path| format!("POST {path}")).collect()
}

/// The `--output json` report.
pub(crate) fn report(output: &Output) -> Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

pub(crate) fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

/// The reports of every execution of step `id`, in order.
pub(crate) fn executions<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["steps"]
        .as_array()
        .map(|steps| steps.iter().filter(|step| step["id"] == id).collect())
        .unwrap_or_default()
}

pub(crate) fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    executions(report, id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"))
}

/// Every POST succeeds (200, `{"ok": true}`) unless a more specific mock says otherwise.
pub(crate) async fn accept_posts(server: &MockServer) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .with_priority(10)
        .mount(server)
        .await;
}

/// `POST path` answers `status`.
pub(crate) async fn respond(server: &MockServer, at: &str, status: u16) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_string("broken"))
        .with_priority(1)
        .mount(server)
        .await;
}

/// A step that POSTs to `/{path}`.
pub(crate) fn post(id: &str, at: &str) -> String {
    format!("- id: {id}\n  http:\n    method: POST\n    url: \"{{{{inputs.base_url}}}}{at}\"\n")
}

/// Indents every line of `text` by `spaces`.
pub(crate) fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}\n")
            }
        })
        .collect()
}
