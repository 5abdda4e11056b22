//! Regression tests for the hardening sweep (issue 9): shell quoting through nesting and heredocs,
//! exact big integers, answers files checked before the first step, and clear messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Output, Sandbox};

fn run_json(sandbox: &Sandbox, file: &str, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["run", file, "--output", "json"];
    args.extend_from_slice(extra);
    let output = sandbox.run(&args);
    let report = serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    });
    (output, report)
}

fn stdout_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    let step = report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"));
    &step["outputs"]["stdout"]
}

fn shell_runbook(command: &str) -> String {
    format!(
        "id: quoting\ntitle: Quoting\ninputs:\n  x: {{type: string, default: \"a  b *\"}}\nsteps:\n  - id: s\n    shell:\n      stdout: text\n      command: |\n{}\n",
        command
            .lines()
            .map(|line| format!("        {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// Runs `command` with `x = "a  b *"` in a directory holding files, so a glob would show.
fn shell_stdout(command: &str) -> String {
    let sandbox = Sandbox::new();
    sandbox.write("glob-me-1", "");
    sandbox.write("glob-me-2", "");
    sandbox.write("r.yaml", &shell_runbook(command));
    let (output, report) = run_json(&sandbox, "r.yaml", &[]);
    assert_eq!(output.code, 0, "stderr:\n{}\n{report:#}", output.stderr);
    stdout_of(&report, "s")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// Item 8: the author's quoting survives nesting.

#[test]
fn a_reference_in_double_quotes_inside_command_substitution_stays_one_word() {
    let out = shell_stdout(r#"echo "$(printf '[%s]' "{{inputs.x}}")""#);
    assert_eq!(out, "[a  b *]\n");
}

#[test]
fn a_reference_unquoted_inside_quoted_command_substitution_stays_one_word() {
    let out = shell_stdout(r#"echo "$(printf '[%s]' {{inputs.x}})""#);
    assert_eq!(out, "[a  b *]\n");
}

#[test]
fn a_reference_inside_backticks_in_double_quotes_stays_one_word() {
    let out = shell_stdout(r#"echo "`printf '[%s]' "{{inputs.x}}"`""#);
    assert_eq!(out, "[a  b *]\n");
}

#[test]
fn a_reference_in_an_unquoted_heredoc_is_written_without_quotes() {
    let out = shell_stdout("cat <<EOF\n[{{inputs.x}}]\nEOF\necho after {{inputs.x}}");
    assert_eq!(out, "[a  b *]\nafter a  b *\n");
}

#[test]
fn a_reference_in_arithmetic_and_parameter_defaults_expands() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        "id: q\ntitle: q\ninputs:\n  n: {type: integer, default: 4}\n  x: {type: string, default: \"a  b\"}\nsteps:\n  - id: s\n    shell:\n      stdout: text\n      command: 'echo $(( {{inputs.n}} + 1 )) \"${UNSET_VAR:-{{inputs.x}}}\"'\n",
    );
    let (output, report) = run_json(&sandbox, "r.yaml", &[]);
    assert_eq!(output.code, 0, "stderr:\n{}\n{report:#}", output.stderr);
    assert_eq!(stdout_of(&report, "s"), "5 a  b\n");
}

// Item 12: integers beyond 64 bits compare exactly.

fn big_integer_runbook(steps: &str) -> String {
    format!(
        "id: big\ntitle: Big integers\ninputs:\n  base_url: {{type: string, default: \"http://127.0.0.1:9\"}}\nsteps:\n{steps}"
    )
}

#[test]
fn big_yaml_integers_that_differ_are_not_equal() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &big_integer_runbook(
            "  - id: a\n    assert:\n      - that: 100000000000000000000001\n        equals: 100000000000000000000000\n",
        ),
    );
    let output = sandbox.run(&["run", "r.yaml"]);
    assert_eq!(
        output.code, 4,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    // 2^64 + 1 and 2^64 are the same float: compared as floats they were equal.
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &big_integer_runbook(
            "  - id: a\n    assert:\n      - that: 18446744073709551617\n        not_equals: 18446744073709551616\n      - that: 18446744073709551617\n        greater_than: 18446744073709551616\n",
        ),
    );
    let output = sandbox.run(&["run", "r.yaml"]);
    assert_eq!(
        output.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

#[test]
fn big_integers_from_shell_json_compare_exactly() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &big_integer_runbook(
            "  - id: a\n    shell:\n      command: \"echo '{\\\"n\\\": 100000000000000000000001}'\"\n      stdout: json\n      capture:\n        n: $.n\n      assert:\n        - that: \"{{outputs.n}}\"\n          equals: 100000000000000000000000\n",
        ),
    );
    let output = sandbox.run(&["run", "r.yaml"]);
    assert_eq!(
        output.code, 4,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &big_integer_runbook(
            "  - id: a\n    shell:\n      command: \"echo '{\\\"n\\\": 100000000000000000000001}'\"\n      stdout: json\n      capture:\n        n: $.n\n      assert:\n        - that: \"{{outputs.n}}\"\n          equals: 100000000000000000000001\n",
        ),
    );
    let output = sandbox.run(&["run", "r.yaml"]);
    assert_eq!(
        output.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn big_integers_from_a_json_body_compare_exactly() {
    let server = MockServer::start().await;
    Mock::given(path("/n"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string("{\"n\": 100000000000000000000001}"),
        )
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &big_integer_runbook(
            "  - id: a\n    http:\n      url: \"{{inputs.base_url}}/n\"\n      capture:\n        n: $.n\n      assert:\n        - that: \"{{outputs.n}}\"\n          equals: 100000000000000000000000\n",
        ),
    );
    let base = format!("base_url={}", server.uri());
    let output = sandbox.run(&["run", "r.yaml", "--input", &base]);
    assert_eq!(
        output.code, 4,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

// Item 13: the answers file is checked against the runbook before the first step runs.

const PROMPTS: &str = r#"
id: answers-check
title: Answers checked up front
steps:
  - id: touch
    shell:
      command: touch side-effect
  - id: ask
    prompt:
      confirm: Go on?
  - id: enter
    prompt:
      answers:
        count: {label: How many}
  - id: fails
    shell:
      command: exit 3
    on_error: ask
"#;

#[test]
fn answers_file_problems_are_all_reported_before_the_first_step() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", PROMPTS);
    sandbox.write(
        "answers.yaml",
        "ask:\n  confirm: yes\nenterr:\n  count: 3\ndecisions:\n  fails: [again]\n",
    );
    let output = sandbox.run(&["run", "r.yaml", "--answers", "answers.yaml"]);
    assert_eq!(
        output.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    assert!(!sandbox.path().join("side-effect").exists(), "a step ran");
    for expected in [
        "`confirm` for step `ask` must be true or false",
        "no answers for step `enter`",
        "unknown step `enterr`",
        "`again`",
    ] {
        assert!(
            output.stderr.contains(expected),
            "missing {expected:?} in:\n{}",
            output.stderr
        );
    }
}

// Item 14: clear messages.

#[test]
fn a_duplicate_key_in_an_answers_file_names_the_key() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", PROMPTS);
    sandbox.write("answers.yaml", "ask:\n  confirm: true\n  confirm: false\n");
    let output = sandbox.run(&["run", "r.yaml", "--answers", "answers.yaml"]);
    assert_eq!(output.code, 2, "stderr:\n{}", output.stderr);
    assert!(
        output.stderr.contains("duplicate key `confirm`") && output.stderr.contains("line 3"),
        "stderr:\n{}",
        output.stderr
    );
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so a connect never
/// completes.
fn unanswered_address() -> (
    socket2::Socket,
    Vec<std::net::TcpStream>,
    std::net::SocketAddr,
) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&any.into()).expect("bind");
    socket.listen(0).expect("listen");
    let address = socket
        .local_addr()
        .expect("local address")
        .as_socket()
        .expect("an IP address");
    let fillers = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(300))
                .ok()
        })
        .collect();
    (socket, fillers, address)
}

#[test]
fn a_connect_that_never_completes_names_the_connect_limit() {
    let (_listener, _fillers, address) = unanswered_address();
    let sandbox = Sandbox::new();
    sandbox.write(
        "r.yaml",
        &format!(
            "id: connect\ntitle: Connect\nsteps:\n  - id: get\n    timeout: 30s\n    http:\n      url: http://{address}/\n"
        ),
    );
    let started = std::time::Instant::now();
    let output = sandbox.run(&["run", "r.yaml"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
    assert!(
        output.stdout.contains("could not connect within 10s"),
        "stdout:\n{}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
}

// Found by an attack on the release binary: a file that starts with a byte-order mark, and a
// finding at its very start, panicked the renderer (exit 101).
#[test]
fn a_runbook_that_starts_with_a_byte_order_mark_is_linted_not_a_panic() {
    let sandbox = Sandbox::new();
    sandbox.write("bom.yaml", "\u{feff}id: a\n");
    let output = sandbox.run(&["lint", "bom.yaml"]);
    assert_eq!(output.code, 3, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains("bom.yaml:1:1") && !output.stderr.contains("panicked"),
        "{}\n{}",
        output.stdout,
        output.stderr
    );
}

// Found by an attack on the release binary: the "stdout is not valid JSON; it begins: ..." preview
// was cut before it was masked, so most of a secret that straddled the cut showed in clear.
#[test]
fn a_secret_across_the_cut_of_a_json_preview_is_not_shown_in_part() {
    let sandbox = Sandbox::new();
    let secret = "0123456789abcdef0123456789abcdef01234567";
    sandbox.write(
        "cut.yaml",
        r#"id: cut
title: A secret straddling the cut of a preview
inputs:
  tok: {type: string, secret: true}
steps:
  - id: parse
    shell:
      command: 'printf "[%*s" 81 ""; printf "%s" "$T"; printf "x%*s" 400 ""'
      stdout: json
      env: {T: "{{inputs.tok}}"}
"#,
    );
    let input = format!("tok={secret}");
    let output = sandbox.run(&["run", "cut.yaml", "--input", &input]);
    assert_eq!(output.code, 1, "{}\n{}", output.stdout, output.stderr);
    let said = format!("{}{}", output.stdout, output.stderr);
    assert!(said.contains("is not valid JSON"), "{said}");
    // Any 12 characters of the secret in a row would be a leak.
    for start in 0..=secret.len() - 12 {
        let part = &secret[start..start + 12];
        assert!(
            !said.contains(part),
            "`{part}` of the secret shows:\n{said}"
        );
    }
}
