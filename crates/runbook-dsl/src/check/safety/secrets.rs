//! Where secrets must not go: a command line (`ps` shows it), a URL (logs keep it), a plain
//! `http://` request to another machine (the network sees it), prompt text (it is masked there,
//! so it helps nobody).
//!
//! A reference is secret by provenance, as the engine decides it: a secret input, a secret answer,
//! a secret capture, or an output a later secret capture is read from (`check/taint.rs`).

use std::collections::BTreeSet;

use super::Facts;
use super::templates::{Role, step_templates};
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, Step, StepKind};
use crate::template::{Part, RefPath, Reference, Template};

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let secrets = Secrets::new(facts);
    let mut findings = Vec::new();
    for node in &facts.index.nodes {
        let step = node.step;
        for (role, template) in step_templates(step) {
            for reference in template
                .revealing_references()
                .filter(|r| secrets.is_secret(r))
            {
                findings.extend(finding_for(role, template, reference));
            }
        }
        findings.extend(plain_http(step, &secrets));
    }
    findings
}

/// Which references hold a secret.
pub(super) struct Secrets {
    inputs: BTreeSet<String>,
    outputs: BTreeSet<(String, String)>,
}

impl Secrets {
    pub(super) fn new(facts: &Facts) -> Self {
        let inputs = facts
            .inputs
            .iter()
            .filter(|input| input.secret)
            .map(|input| input.name.clone())
            .collect();
        let mut outputs = facts.secret_outputs.clone();
        for node in &facts.index.nodes {
            let id = &node.step.id;
            let Some(action) = node.step.kind.action() else {
                continue;
            };
            for capture in action.captures().iter().filter(|capture| capture.secret) {
                outputs.insert((id.clone(), capture.name.clone()));
            }
            if let Some(prompt) = action.prompt() {
                for answer in prompt.answers.iter().filter(|answer| answer.secret) {
                    outputs.insert((id.clone(), answer.name.clone()));
                }
            }
        }
        Secrets { inputs, outputs }
    }

    pub(super) fn is_secret(&self, reference: &Reference) -> bool {
        match &reference.path {
            RefPath::Input { name, .. } => self.inputs.contains(name),
            RefPath::StepOutput { step, output, .. } => {
                self.outputs.contains(&(step.clone(), output.clone()))
            }
            RefPath::StepTiming { .. }
            | RefPath::StepOutcome { .. }
            | RefPath::Run { .. }
            | RefPath::OwnOutput { .. }
            | RefPath::Env { .. } => false,
        }
    }
}

fn finding_for(role: Role, template: &Template, reference: &Reference) -> Option<Finding> {
    let written = format!("`{{{{{}}}}}`", reference.text);
    match role {
        Role::Command => Some(
            Finding::warning(
                FindingCode::SecretInCommand,
                reference.span,
                format!("the secret {written} is in a shell command line"),
            )
            .with_label("visible in `ps` as an argument of the command")
            .with_help(
                "give the secret to the command through `env:` (e.g. `env: {TOKEN: ...}` and \
                 `\"$TOKEN\"`), `stdin:`, or `files:`, never in `command`",
            ),
        ),
        Role::Url | Role::Query => {
            let in_query = role == Role::Query || after_question_mark(template, reference);
            let place = if in_query {
                "the URL's query string"
            } else {
                "the URL"
            };
            Some(
                Finding::warning(
                    FindingCode::SecretInUrl,
                    reference.span,
                    format!("the secret {written} is in {place}"),
                )
                .with_label("URLs are written to server and proxy logs")
                .with_help(
                    "send the secret in a header (e.g. `Authorization: \"Bearer ...\"`) or in the \
                     request body instead",
                ),
            )
        }
        Role::PromptText(field) => Some(
            Finding::warning(
                FindingCode::SecretInPrompt,
                reference.span,
                format!("a secret in the prompt's `{field}`"),
            )
            .with_label("shown as ******** to the operator")
            .with_help(
                "prompt text is printed (and echoed from an answers file), so secrets in it are \
                 masked; tell the operator where to find the value instead",
            ),
        ),
        Role::When
        | Role::Assertion
        | Role::Message
        | Role::Header
        | Role::Body
        | Role::ShellData
        | Role::Audit
        | Role::PluginParam
        | Role::PollDuration => None,
    }
}

/// Whether a literal `?` comes before `reference` in the URL.
fn after_question_mark(url: &Template, reference: &Reference) -> bool {
    for part in &url.parts {
        match part {
            Part::Literal(text) if text.contains('?') => return true,
            Part::Literal(_) => {}
            Part::Ref(other) if other.span == reference.span => return false,
            Part::Ref(_) => {}
            Part::Call(call)
                if call
                    .references()
                    .iter()
                    .any(|other| other.span == reference.span) =>
            {
                return false;
            }
            Part::Call(_) => {}
        }
    }
    false
}

/// Secrets an http step sends over plain `http://` to a host that is not loopback. Only a scheme
/// and host written literally are judged: a host from a reference is unknown until the run.
fn plain_http(step: &Step, secrets: &Secrets) -> Vec<Finding> {
    let StepKind::Action(Action::Http(http)) = &step.kind else {
        return Vec::new();
    };
    let Some(host) = literal_plain_http_host(&http.url) else {
        return Vec::new();
    };
    if is_loopback(&host) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for (role, template) in step_templates(step) {
        let sent = match role {
            Role::Url | Role::Query | Role::Header | Role::Body => true,
            Role::When
            | Role::Assertion
            | Role::Message
            | Role::Command
            | Role::ShellData
            | Role::PromptText(_)
            | Role::Audit
            | Role::PluginParam
            | Role::PollDuration => false,
        };
        if !sent {
            continue;
        }
        for reference in template
            .revealing_references()
            .filter(|r| secrets.is_secret(r))
        {
            findings.push(
                Finding::warning(
                    FindingCode::SecretOverPlainHttp,
                    reference.span,
                    format!(
                        "the secret `{{{{{}}}}}` is sent over plain http to `{host}`",
                        reference.text
                    ),
                )
                .with_label("readable by anyone on the network path")
                .with_help("use `https://`; plain http is only safe to localhost"),
            );
        }
    }
    findings
}

/// The host of a URL that starts with a literal `http://` and a literal authority.
fn literal_plain_http_host(url: &Template) -> Option<String> {
    let Some(Part::Literal(first)) = url.parts.first() else {
        return None;
    };
    let scheme = first.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &first[7..];
    let end = rest.find(['/', '?', '#']);
    // The authority must end inside the literal (or the whole URL is literal): `http://{{host}}`
    // and `http://api.{{domain}}/` name no host yet.
    if end.is_none() && url.parts.len() > 1 {
        return None;
    }
    let authority = &rest[..end.unwrap_or(rest.len())];
    let parsed = url::Url::parse(&format!("http://{authority}/")).ok()?;
    parsed.host_str().map(str::to_owned)
}

/// `localhost` (and names under it), 127.0.0.0/8, and ::1.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::{is_loopback, literal_plain_http_host};
    use crate::source::Span;
    use crate::template::Template;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "api.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "localhost.example.com",
            "[::2]",
            "128.0.0.1",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn only_a_literal_plain_http_authority_has_a_host() {
        let literal = |text: &str| Template::literal(text, Span::UNKNOWN);
        assert_eq!(
            literal_plain_http_host(&literal("http://api.example.com:8080/v2?x=1")).as_deref(),
            Some("api.example.com")
        );
        assert_eq!(
            literal_plain_http_host(&literal("HTTP://user@0x7f.1/")).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            literal_plain_http_host(&literal("https://example.com/")),
            None
        );
        assert_eq!(
            literal_plain_http_host(&literal("http://example.com")).as_deref(),
            Some("example.com")
        );
    }
}
