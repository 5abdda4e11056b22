//! Traces (`-v`, `RUST_LOG`, `--log-file`, RUNBOOK_LOG): they show what a step sent and started,
//! and never a secret. The canary of the leak sweep ([`crate::leaks`]) enters a run by a secret
//! input, goes out in a URL path, a query, headers, a JSON body, a command's environment, a
//! retried command's stderr and a polled value, and comes back from a server echoing it in every
//! encoding; every byte of stdout, stderr, the log file and the state directory is searched for
//! every encoding of it, at `-vv` and at `RUST_LOG=trace`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::leaks::{EchoEncodings, SECRET_INPUT, Sweep, run};
use crate::support::{Sandbox, fresh_state_dir};

/// Every way out for the canary that a trace could show.
fn canary_runbook() -> String {
    format!(
        "id: trace-leak\ntitle: t\n{SECRET_INPUT}steps:
  - id: call
    http:
      method: GET
      url: \"{{{{inputs.base_url}}}}/hooks/{{{{inputs.api_secret}}}}\"
      query: {{key: \"{{{{inputs.api_secret}}}}\"}}
      headers: {{x-key: \"{{{{inputs.api_secret}}}}\", Authorization: \"Bearer {{{{inputs.api_secret}}}}\"}}
  - id: post
    http:
      method: POST
      url: \"{{{{inputs.base_url}}}}/echo\"
      headers: {{x-key: \"{{{{inputs.api_secret}}}}\"}}
      json: {{secret: \"{{{{inputs.api_secret}}}}\"}}
  - id: show
    shell:
      command: \"printf '%s' \\\"$V\\\" | base64; echo {{{{steps.call.outputs.status}}}}\"
      env: {{V: \"{{{{inputs.api_secret}}}}\"}}
  - id: flaky
    retry: {{attempts: 2, delay: 10ms, on: [exit]}}
    shell:
      command: \"if [ -f marker ]; then exit 0; fi; touch marker; printf '%s' \\\"$V\\\" >&2; exit 3\"
      env: {{V: \"{{{{inputs.api_secret}}}}\"}}
  - id: count
    shell:
      command: \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; printf '%s:%s' \\\"$V\\\" $n\"
      env: {{V: \"{{{{inputs.api_secret}}}}\"}}
    until: {{that: \"{{{{outputs.stdout}}}}\", contains: \":3\"}}
    poll: {{interval: 10ms, timeout: 30s}}
"
    )
}

async fn echo_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(EchoEncodings)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_at_every_level_never_show_the_secret() {
    let server = echo_server().await;
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write("trace.yaml", &canary_runbook());
    let base = format!("--input=base_url={}", server.uri());
    let log = sandbox.path().join("trace.log");
    let log_arg = format!("--log-file={}", log.display());
    let log_env = sandbox.path().join("env.log");
    let log_env_text = log_env.display().to_string();
    let mut sweep = Sweep::new("traces");
    // What to run with, and where its traces go (`None`: stderr).
    type Case<'a> = (
        &'a str,
        Vec<&'a str>,
        Vec<(&'a str, &'a str)>,
        Option<&'a Path>,
    );
    let cases: [Case<'_>; 4] = [
        ("-vv", vec!["-vv"], vec![], None),
        ("RUST_LOG=trace", vec![], vec![("RUST_LOG", "trace")], None),
        (
            "RUST_LOG=trace --log-file",
            vec![log_arg.as_str()],
            vec![("RUST_LOG", "trace")],
            Some(&log),
        ),
        (
            "-vvv RUNBOOK_LOG",
            vec!["-vvv"],
            vec![("RUNBOOK_LOG", log_env_text.as_str())],
            Some(&log_env),
        ),
    ];
    for (what, flags, env, file) in &cases {
        for format in ["human", "json"] {
            // Each run starts the poll count and the retried command afresh.
            let _ = std::fs::remove_file(sandbox.path().join("count"));
            let _ = std::fs::remove_file(sandbox.path().join("marker"));
            let mut args = vec!["run", "trace.yaml", base.as_str(), "--output", format];
            args.extend(flags.iter().copied());
            let output = run(&sandbox, &state, &args, env);
            assert_eq!(output.code, 0, "{what}: {output:?}");
            sweep.output(&format!("{what} --output {format}"), &output);
            // The traces really are there: the sweep searched them, not an empty stream.
            let traced = match file {
                Some(file) => std::fs::read_to_string(file).unwrap(),
                None => output.stderr.clone(),
            };
            for event in [
                "runbook::http",
                "runbook::command",
                "runbook::retry",
                "runbook::poll",
            ] {
                assert!(
                    traced.contains(event),
                    "{what}: no {event} trace:\n{traced}"
                );
            }
            if file.is_some() {
                assert!(
                    !output.stderr.contains("runbook::http"),
                    "{what}: traces went to stderr as well as the file:\n{}",
                    output.stderr
                );
            }
        }
    }
    for file in [&log, &log_env] {
        let text = std::fs::read_to_string(file).unwrap();
        sweep.check(&file.display().to_string(), &text);
    }
    sweep.tree(&state);
    sweep.assert_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_shows_the_request_sent_and_its_status() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201).set_body_string("{\"id\": 7}"))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "create.yaml",
        &format!(
            "id: create\ntitle: t\nsteps:
  - id: create
    http:
      method: POST
      url: \"{}/v2/orders\"
      query: {{limit: 5}}
      headers: {{accept: application/json, APCA-API-SECRET-KEY: not-an-input}}
      json: {{qty: 1}}
  - id: list
    shell: {{command: \"echo done\", env: {{LABEL: x}}}}
",
            server.uri()
        ),
    );
    let quiet = sandbox.run(&["run", "create.yaml"]);
    assert_eq!(quiet.code, 0, "{quiet:?}");
    assert!(
        !quiet.stderr.contains("runbook::"),
        "no -v, no RUST_LOG: no traces\n{}",
        quiet.stderr
    );

    let info = sandbox.run(&["-v", "run", "create.yaml"]);
    assert_eq!(info.code, 0, "{info:?}");
    let url = format!("{}/v2/orders?limit=5", server.uri());
    let response = info
        .stderr
        .lines()
        .find(|line| line.contains("runbook::http") && line.contains("response"))
        .unwrap_or_else(|| panic!("no response trace:\n{}", info.stderr));
    for part in [
        "method=POST".to_owned(),
        format!("url={url}"),
        "status=201".to_owned(),
        "body_bytes=9".to_owned(),
        "elapsed_ms=".to_owned(),
    ] {
        assert!(response.contains(&part), "`{part}` not in: {response}");
    }
    let command = info
        .stderr
        .lines()
        .find(|line| line.contains("runbook::command") && line.contains("finished"))
        .unwrap_or_else(|| panic!("no command trace:\n{}", info.stderr));
    assert!(
        command.contains("argv=sh -c 'echo done' exit_code=0"),
        "{command}"
    );
    assert!(
        !info.stderr.contains("headers="),
        "headers are a -vv detail:\n{}",
        info.stderr
    );

    let debug = sandbox.run(&["run", "create.yaml", "-vv"]);
    assert_eq!(debug.code, 0, "{debug:?}");
    let sending = debug
        .stderr
        .lines()
        .find(|line| line.contains("runbook::http") && line.contains("sending"))
        .unwrap_or_else(|| panic!("no request trace:\n{}", debug.stderr));
    // A credential header is masked by its name, even when its value is no known secret.
    assert!(
        sending.contains(
            "headers={accept: application/json, APCA-API-SECRET-KEY: ********, \
             content-type: application/json}"
        ) && sending.contains("body_bytes=9"),
        "{sending}"
    );
    assert!(!debug.stderr.contains("not-an-input"), "{}", debug.stderr);
    let starting = debug
        .stderr
        .lines()
        .find(|line| line.contains("runbook::command") && line.contains("starting"))
        .unwrap_or_else(|| panic!("no command start trace:\n{}", debug.stderr));
    assert!(starting.contains("env_names=LABEL"), "{starting}");
    assert!(
        debug.stderr.contains("runbook::journal"),
        "{}",
        debug.stderr
    );

    // RUST_LOG picks targets; other crates' traces never pass (they print headers unredacted).
    let only_http = sandbox.run_with_env(
        &["run", "create.yaml"],
        &[(
            "RUST_LOG",
            "runbook::http=info,hyper=trace,reqwest=trace,h2=trace",
        )],
    );
    assert_eq!(only_http.code, 0, "{only_http:?}");
    assert!(
        only_http.stderr.contains("runbook::http"),
        "{}",
        only_http.stderr
    );
    for other in ["runbook::command", "hyper", "reqwest::", "h2::"] {
        assert!(
            !only_http.stderr.contains(other),
            "`{other}` traced with RUST_LOG=runbook::http=info,...:\n{}",
            only_http.stderr
        );
    }
}

#[test]
fn the_log_file_is_appended_owner_only_and_lint_traces_each_file() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    sandbox.write(
        "ok.yaml",
        "id: ok\ntitle: t\nsteps:\n  - id: a\n    shell: {command: \"true\"}\n",
    );
    let log = sandbox.path().join("logs.txt");
    for _ in 0..2 {
        let output = sandbox.run_with_env(&["lint", "ok.yaml"], &[("RUNBOOK_LOG", "logs.txt")]);
        assert_eq!(output.code, 0, "{output:?}");
        assert!(!output.stderr.contains("runbook::lint"), "{output:?}");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("linted"))
        .collect();
    assert_eq!(lines.len(), 2, "appended, one line a run:\n{text}");
    assert!(
        lines[0].contains("runbook::lint") && lines[0].contains("file=ok.yaml findings=0"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour in a file:\n{text}");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    let unwritable = sandbox.run(&["lint", "ok.yaml", "--log-file", "no/such/dir/log"]);
    assert_eq!(unwritable.code, 2, "{unwritable:?}");
    assert!(
        unwritable
            .stderr
            .contains("error: cannot open the log file no/such/dir/log"),
        "{unwritable:?}"
    );
}
