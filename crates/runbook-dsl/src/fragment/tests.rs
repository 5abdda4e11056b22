//! Fragments end to end through the DSL: loading from an in-memory file set, the check pass in a
//! fragment's scope, and findings pointed into the right file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::FragmentFiles;
use crate::finding::{Finding, FindingCode};
use crate::model::{Runbook, Step, StepKind};
use crate::source::Source;
use crate::template::RefPath;

/// Fragment files by path.
struct Files(BTreeMap<PathBuf, String>);

impl FragmentFiles for Files {
    fn read(&self, path: &Path) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "No such file or directory".to_owned())
    }
}

fn files(entries: &[(&str, &str)]) -> Files {
    Files(
        entries
            .iter()
            .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
            .collect(),
    )
}

fn check(runbook: &str, fragments: &[(&str, &str)]) -> Result<Runbook, Vec<Finding>> {
    let source = Source::new("ops/rb.yaml", runbook);
    crate::load_and_check_files(&source, &runbook_plugin::NoPlugins, &files(fragments))
}

fn codes(findings: &[Finding]) -> Vec<FindingCode> {
    findings.iter().map(|finding| finding.code).collect()
}

/// `file:line:col` of a finding, as the CLI shows it.
fn at(finding: &Finding, linted: &Source) -> String {
    let file = finding.source(linted);
    let (line, col) = file.line_col(finding.span.start);
    format!("{}:{line}:{col}", file.path.display())
}

const PAUSE: &str = "\
fragment: pause
title: Pause and confirm
params:
  base_url: {}
  token:
    secret: true
  tries:
    type: integer
    default: 3
steps:
  - id: kill
    http:
      method: POST
      url: \"{{params.base_url}}/kill\"
      headers:
        Authorization: \"Bearer {{params.token}}\"
  - id: confirm
    assert:
      - that: \"{{steps.kill.outputs.status}}\"
        equals: \"{{params.tries}}\"
";

const HEAD: &str = "\
id: rb
title: RB
inputs:
  base_url: {default: \"http://127.0.0.1:1\"}
  token: {secret: true, env: TOKEN}
  plain: {default: x}
  n: {type: integer, default: 2}
steps:
";

fn steps_of(runbook: &Runbook) -> Vec<&Step> {
    fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
        for step in steps {
            out.push(step);
            if let StepKind::Group(group) = &step.kind {
                walk(&group.steps, out);
                walk(&group.finally, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&runbook.steps, &mut out);
    out
}

#[test]
fn a_use_step_runs_the_fragment_under_its_id_with_the_arguments_bound() {
    let text = format!(
        "{HEAD}  - id: pause\n    use: fragments/pause.fragment.yaml\n    with:\n      base_url: \"{{{{inputs.base_url}}}}\"\n      token: \"{{{{inputs.token}}}}\"\n  - id: after\n    assert:\n      - that: \"{{{{steps.pause.kill.outputs.status}}}}\"\n        equals: 200\n"
    );
    let runbook = check(&text, &[("ops/fragments/pause.fragment.yaml", PAUSE)])
        .unwrap_or_else(|findings| panic!("{:?}", codes(&findings)));
    let ids: Vec<&str> = steps_of(&runbook).iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["pause", "pause.kill", "pause.confirm", "after"]);
    let pause = &runbook.steps[0];
    assert_eq!(pause.name, "Pause and confirm");
    assert_eq!(pause.kind.keyword(), "use");
    let StepKind::Group(group) = &pause.kind else {
        panic!("a use step is a group");
    };
    assert_eq!(
        group.fragment.as_ref().map(|f| f.path.clone()),
        Some(PathBuf::from("fragments/pause.fragment.yaml"))
    );
    // The parameters are the runbook's references; the fragment's own step ids are prefixed.
    let StepKind::Action(crate::model::Action::Http(http)) = &group.steps[0].kind else {
        panic!("kill is http");
    };
    let paths: Vec<&RefPath> = http.url.references().map(|r| &r.path).collect();
    assert_eq!(
        paths,
        [&RefPath::Input {
            name: "base_url".into(),
            rest: vec![]
        }]
    );
    let StepKind::Action(crate::model::Action::Assert(assert)) = &group.steps[1].kind else {
        panic!("confirm is an assert");
    };
    let crate::model::ConditionKind::Compare { that, operand, .. } = &assert.conditions[0].kind
    else {
        panic!("confirm compares");
    };
    let that: Vec<&RefPath> = that
        .templates()
        .into_iter()
        .flat_map(|t| t.references())
        .map(|r| &r.path)
        .collect();
    assert!(
        matches!(that.as_slice(), [RefPath::StepOutput { step, .. }] if step == "pause.kill"),
        "{that:?}"
    );
    // A parameter left to its default is that literal.
    assert!(
        matches!(operand, crate::model::ValueTemplate::Literal(value) if *value == 3),
        "{operand:?}"
    );
    // The hash of the fragment is recorded, once.
    assert_eq!(runbook.fragments.len(), 1);
    assert_eq!(runbook.fragments[0].sha256, super::content_hash(PAUSE));
    assert_eq!(
        runbook.fragments[0].path,
        PathBuf::from("ops/fragments/pause.fragment.yaml")
    );
}

#[test]
fn arguments_are_checked_against_the_parameters() {
    let text = format!(
        "{HEAD}  - id: pause\n    use: fragments/pause.fragment.yaml\n    with:\n      base_url: \"{{{{inputs.base_url}}}}/v2\"\n      token: sk_literal\n      tries: many\n      colour: red\n  - id: again\n    use: fragments/pause.fragment.yaml\n    with:\n      base_url: \"{{{{inputs.n}}}}\"\n      token: \"{{{{inputs.plain}}}}\"\n  - id: third\n    use: fragments/pause.fragment.yaml\n"
    );
    let findings = check(&text, &[("ops/fragments/pause.fragment.yaml", PAUSE)])
        .err()
        .unwrap_or_default();
    let found = codes(&findings);
    use FindingCode::*;
    for expected in [
        InvalidFragmentArgument, // text mixed with a reference
        UnknownFragmentArgument, // colour
        MissingFragmentArgument, // third: base_url and token
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    for expected in [
        "argument `base_url` is not a literal or a single `{{reference}}`",
        "parameter `token` is secret: it takes a reference to a secret",
        "argument `tries` is not an integer: \"many\"",
        "fragment fragments/pause.fragment.yaml has no parameter `colour`",
        "argument `base_url` is input `n` (integer), but the parameter is a string",
        "parameter `token` is secret, but input `plain` is not",
    ] {
        assert!(
            messages.contains(&expected),
            "{expected:?} not in {messages:#?}"
        );
    }
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.code == MissingFragmentArgument)
            .count(),
        2,
        "{messages:#?}"
    );
    // Nothing is reported inside the fragment for arguments that were wrong at the use.
    assert!(findings.iter().all(|f| f.file.is_none()), "{messages:#?}");
}

#[test]
fn a_problem_inside_a_fragment_points_into_it_with_a_note_at_the_use() {
    let broken = "fragment: f\ntitle: F\nsteps:\n  - id: one\n    note:\n      message: \"{{params.nope}} {{inputs.base_url}} {{steps.other.outputs.x}}\"\n";
    let text = format!(
        "{HEAD}  - id: other\n    note: {{message: hi}}\n  - id: use_it\n    use: fragments/f.fragment.yaml\n"
    );
    let source = Source::new("ops/rb.yaml", text.as_str());
    let findings = crate::load_and_check_files(
        &source,
        &runbook_plugin::NoPlugins,
        &files(&[("ops/fragments/f.fragment.yaml", broken)]),
    )
    .err()
    .unwrap_or_default();
    let shown: Vec<(FindingCode, String)> =
        findings.iter().map(|f| (f.code, at(f, &source))).collect();
    assert_eq!(
        shown,
        [
            (
                FindingCode::FragmentScope,
                "ops/fragments/f.fragment.yaml:6:17".to_owned()
            ),
            (
                FindingCode::FragmentScope,
                "ops/fragments/f.fragment.yaml:6:33".to_owned()
            ),
            // A fragment sees only its own steps.
            (
                FindingCode::UnknownStep,
                "ops/fragments/f.fragment.yaml:6:53".to_owned()
            ),
        ]
    );
    for finding in &findings {
        assert_eq!(finding.notes.len(), 1);
        let note = &finding.notes[0];
        assert!(note.file.is_none(), "the note is in the runbook");
        assert_eq!(source.line_col(note.span.start), (12, 10));
        assert_eq!(note.message, "in the fragment used here");
    }
}

#[test]
fn a_fragment_used_twice_reports_its_problem_once() {
    let broken = "fragment: f\ntitle: F\nsteps:\n  - id: one\n    note:\n      message: \"{{params.nope}}\"\n";
    let text = format!(
        "{HEAD}  - id: a\n    use: fragments/f.fragment.yaml\n  - id: b\n    use: fragments/f.fragment.yaml\n"
    );
    let findings = check(&text, &[("ops/fragments/f.fragment.yaml", broken)])
        .err()
        .unwrap_or_default();
    assert_eq!(codes(&findings), [FindingCode::FragmentScope]);
}

#[test]
fn cycles_escapes_and_missing_files_are_refused() {
    let a = "fragment: a\ntitle: A\nsteps:\n  - id: b\n    use: b.fragment.yaml\n";
    let b = "fragment: b\ntitle: B\nsteps:\n  - id: a\n    use: ./a.fragment.yaml\n";
    let text = format!(
        "{HEAD}  - id: loop\n    use: fragments/a.fragment.yaml\n  - id: out\n    use: ../elsewhere/x.fragment.yaml\n  - id: abs\n    use: /etc/x.fragment.yaml\n  - id: gone\n    use: fragments/gone.fragment.yaml\n  - id: named\n    use: fragments/a.yaml\n"
    );
    let findings = check(
        &text,
        &[
            ("ops/fragments/a.fragment.yaml", a),
            ("ops/fragments/b.fragment.yaml", b),
        ],
    )
    .err()
    .unwrap_or_default();
    let messages: Vec<(FindingCode, &str)> = findings
        .iter()
        .map(|f| (f.code, f.message.as_str()))
        .collect();
    use FindingCode::*;
    assert!(messages.contains(&(
        FragmentCycle,
        "fragments use each other in a cycle: fragments/a.fragment.yaml → fragments/b.fragment.yaml → fragments/a.fragment.yaml"
    )), "{messages:#?}");
    assert!(messages.contains(&(
        FragmentPath,
        "`../elsewhere/x.fragment.yaml` leaves the runbook's folder"
    )));
    assert!(
        messages
            .iter()
            .any(|(code, m)| *code == FragmentPath && m.contains("is absolute"))
    );
    assert!(
        messages
            .iter()
            .any(|(code, m)| *code == FragmentNotFound && m.contains("gone.fragment.yaml"))
    );
    assert!(
        messages
            .iter()
            .any(|(code, m)| *code == FragmentNotFound && m.contains("NAME.fragment.yaml"))
    );
}

#[test]
fn exponential_expansion_stops_at_the_budget_quickly() {
    // Each level uses the next twice: 2^12 uses if nothing stopped it.
    let mut entries = Vec::new();
    for level in 0..12 {
        let next = format!("l{}.fragment.yaml", level + 1);
        let text = if level == 11 {
            "fragment: leaf\ntitle: Leaf\nsteps:\n  - id: s\n    note: {message: hi}\n".to_owned()
        } else {
            format!(
                "fragment: l{level}\ntitle: L\nsteps:\n  - id: x\n    use: {next}\n  - id: y\n    use: {next}\n"
            )
        };
        entries.push((format!("ops/fragments/l{level}.fragment.yaml"), text));
    }
    let entries: Vec<(&str, &str)> = entries
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let text = format!("{HEAD}  - id: top\n    use: fragments/l0.fragment.yaml\n");
    let started = std::time::Instant::now();
    let findings = check(&text, &entries).err().unwrap_or_default();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        findings
            .iter()
            .any(|f| f.code == FindingCode::FragmentCycle
                && f.message.starts_with("too many fragments")),
        "{:?}",
        codes(&findings)
    );
}

#[test]
fn a_fragment_checks_alone_with_its_parameters_as_inputs() {
    let source = Source::new("ops/fragments/pause.fragment.yaml", PAUSE);
    let checked = crate::load_and_check_fragment(&source, &runbook_plugin::NoPlugins, &files(&[]));
    let runbook = checked.unwrap_or_else(|findings| panic!("{:?}", codes(&findings)));
    assert_eq!(runbook.meta.id, "pause");
    assert!(runbook.input("token").is_some_and(|input| input.secret));

    let reads_inputs = "fragment: f\ntitle: F\nparams:\n  p:\n    type: integer\n    default: nope\nsteps:\n  - id: one\n    note:\n      message: \"{{inputs.x}} {{params.q}}\"\n";
    let source = Source::new("f.fragment.yaml", reads_inputs);
    let findings = crate::load_and_check_fragment(&source, &runbook_plugin::NoPlugins, &files(&[]))
        .err()
        .unwrap_or_default();
    assert_eq!(
        codes(&findings),
        [
            FindingCode::InvalidInput,
            FindingCode::FragmentScope,
            FindingCode::FragmentScope
        ]
    );
    assert!(findings.iter().all(|f| f.file.is_none()));
    // Parameters stand in as inputs, but findings call them parameters.
    assert_eq!(
        findings[0].message,
        "default of parameter `p` is not an integer: \"nope\""
    );

    let unused = "fragment: f\ntitle: F\nparams:\n  spare: {}\nsteps:\n  - id: one\n    note: {message: hi}\n";
    let source = Source::new("f.fragment.yaml", unused);
    let runbook = crate::load_and_check_fragment(&source, &runbook_plugin::NoPlugins, &files(&[]))
        .unwrap_or_else(|findings| panic!("{:?}", codes(&findings)));
    let warning = &runbook.warnings[0];
    assert_eq!(warning.code, FindingCode::UnusedInput);
    assert_eq!(warning.message, "parameter `spare` is never used");
    assert_eq!(
        warning.help.as_deref(),
        Some("refer to it as `{{params.spare}}` where it is meant to be used, or remove it")
    );
}

#[test]
fn a_runbook_cannot_read_params_and_with_needs_use() {
    let text = format!(
        "{HEAD}  - id: one\n    note:\n      message: \"{{{{params.x}}}}\"\n    with: {{x: 1}}\n"
    );
    let findings = check(&text, &[]).err().unwrap_or_default();
    assert_eq!(
        codes(&findings),
        [FindingCode::FragmentScope, FindingCode::IneffectiveField]
    );
}

#[test]
fn a_dotted_step_id_is_read_up_to_outputs_or_a_final_timing() {
    use crate::template::{TimingField, classify};
    let segments = |text: &str| text.split('.').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        classify(&segments("steps.pause.kill.outputs.status")),
        Some(RefPath::StepOutput {
            step: "pause.kill".into(),
            output: "status".into(),
            rest: vec![]
        })
    );
    assert_eq!(
        classify(&segments("steps.pause.kill.finished_at")),
        Some(RefPath::StepTiming {
            step: "pause.kill".into(),
            field: TimingField::FinishedAt
        })
    );
    assert_eq!(
        classify(&segments("steps.pause.outcome")),
        Some(RefPath::StepOutcome {
            step: "pause".into()
        })
    );
    assert_eq!(
        classify(&segments("steps.a.outputs.b.c")),
        Some(RefPath::StepOutput {
            step: "a".into(),
            output: "b".into(),
            rest: vec!["c".into()]
        })
    );
    assert_eq!(classify(&segments("steps.a.b")), None);
    assert_eq!(classify(&segments("steps.a.outputs")), None);
}

#[test]
fn a_duration_parameter_left_to_its_default_is_checked_as_a_duration() {
    let wait = "fragment: w\ntitle: W\nparams:\n  every: {default: 2s}\n  within: {default: soon}\nsteps:\n  - id: poll\n    http:\n      url: http://127.0.0.1:1/health\n      capture: {ok: $.ok}\n    until:\n      that: \"{{outputs.ok}}\"\n      equals: true\n    poll:\n      interval: \"{{params.every}}\"\n      timeout: \"{{params.within}}\"\n";
    let text = format!("{HEAD}  - id: wait\n    use: fragments/w.fragment.yaml\n");
    let findings = check(&text, &[("ops/fragments/w.fragment.yaml", wait)])
        .err()
        .unwrap_or_default();
    assert_eq!(codes(&findings), [FindingCode::InvalidDuration]);
    assert!(findings[0].file.is_some(), "reported in the fragment");
    let text = format!(
        "{HEAD}  - id: wait\n    use: fragments/w.fragment.yaml\n    with: {{within: 30s}}\n"
    );
    let runbook = check(&text, &[("ops/fragments/w.fragment.yaml", wait)])
        .unwrap_or_else(|findings| panic!("{:?}", codes(&findings)));
    let poll = &steps_of(&runbook)[1];
    let until = poll
        .until
        .as_ref()
        .map(|until| (&until.interval, &until.timeout));
    assert!(
        matches!(
            until,
            Some((
                crate::model::DurationValue::Fixed(every),
                crate::model::DurationValue::Fixed(within)
            )) if every.as_secs() == 2 && within.as_secs() == 30
        ),
        "{until:?}"
    );
}

#[test]
fn a_check_that_reads_no_files_reports_a_use_instead_of_dropping_it() {
    let text = format!("{HEAD}  - id: pause\n    use: fragments/pause.fragment.yaml\n");
    let source = Source::new("ops/rb.yaml", text.as_str());
    let loaded = crate::yaml::load_raw(&source);
    let Some(raw) = loaded.raw.as_ref() else {
        panic!("the runbook loads");
    };
    let findings = crate::check::check(raw, &source).err().unwrap_or_default();
    assert_eq!(codes(&findings), [FindingCode::FragmentNotFound]);
}
