//! The checked form of `services:` and `commands:`: hosts, routes, path and argument patterns,
//! conditions, responses and state changes.

use indexmap::IndexMap;

use super::check::{Checker, Site};
use super::expr::Expr;
use super::model::*;
use super::raw::*;
use crate::finding::FindingCode;
use crate::{HttpMethod, Spanned};

pub(super) fn services(
    checker: &mut Checker<'_>,
    raw: &IndexMap<String, Spanned<RawService>>,
) -> Vec<Service> {
    let mut out = Vec::new();
    for (host, service) in raw {
        let span = checker.span(service);
        let valid_host = !host.is_empty()
            && !host.contains(['/', '@', '?', '#', ' '])
            && url::Url::parse(&format!("http://{host}/")).is_ok();
        if !valid_host {
            checker.error(
                FindingCode::RehearsalInvalid,
                span,
                format!(
                    "`{host}` is not a host: services are keyed by the host the runbook calls \
                     (`api.example.com`, or `host:port`), without a scheme or path"
                ),
            );
            continue;
        }
        let routes = service
            .routes
            .iter()
            .filter_map(|route| self::route(checker, route))
            .collect();
        out.push(Service {
            host: host.to_ascii_lowercase(),
            routes,
        });
    }
    out
}

fn route(checker: &mut Checker<'_>, raw: &Spanned<RawRoute>) -> Option<Route> {
    let span = checker.span(raw);
    let method = match &raw.method {
        Some(text) => match HttpMethod::parse(text) {
            Some(method) => Some(method),
            None => {
                let at = checker.span(text);
                checker.error(
                    FindingCode::InvalidMethod,
                    at,
                    format!("`{}` is not an HTTP method", text.value),
                );
                return None;
            }
        },
        None => None,
    };
    let path = path_pattern(checker, &raw.path)?;
    let when = checker.conditions(&raw.when, Site::Route, span);
    let response = Response {
        status: checker.status(&raw.status).unwrap_or(200),
        headers: headers(checker, &raw.headers, span),
        body: raw
            .body
            .as_ref()
            .and_then(|body| checker.expr(body, Site::Route, span)),
    };
    let sequence = raw
        .sequence
        .iter()
        .map(|item| Response {
            status: checker.status(&item.status).unwrap_or(response.status),
            headers: if item.headers.is_empty() {
                response.headers.clone()
            } else {
                headers(checker, &item.headers, span)
            },
            body: match &item.body {
                Some(body) => checker.expr(body, Site::Route, span),
                None => response.body.clone(),
            },
        })
        .collect();
    let name = raw.name.clone().unwrap_or_else(|| {
        format!(
            "{} {}",
            method.map_or("*", HttpMethod::as_str),
            raw.path.value
        )
    });
    Some(Route {
        name,
        method,
        path,
        when,
        response,
        sequence,
        set: checker.assignments(&raw.set, Site::Route, span),
        latency: checker.duration(&raw.latency),
        span,
    })
}

fn headers(
    checker: &mut Checker<'_>,
    raw: &IndexMap<String, String>,
    span: crate::Span,
) -> Vec<(String, Expr)> {
    raw.iter()
        .filter_map(|(name, value)| {
            let value =
                checker.expr(&serde_json::Value::String(value.clone()), Site::Route, span)?;
            Some((name.to_ascii_lowercase(), value))
        })
        .collect()
}

fn path_pattern(checker: &mut Checker<'_>, raw: &Spanned<String>) -> Option<PathPattern> {
    let span = checker.span(raw);
    if !raw.starts_with('/') || raw.contains(['?', '#']) {
        checker.error(
            FindingCode::RehearsalInvalid,
            span,
            format!(
                "`{}` is not a path: it starts with `/` and has no query (match the query with \
                 `when: {{request.query.NAME: VALUE}}`)",
                raw.value
            ),
        );
        return None;
    }
    let segments = raw
        .trim_start_matches('/')
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            },
        )
        .collect();
    Some(PathPattern {
        segments,
        text: raw.value.clone(),
    })
}

pub(super) fn commands(
    checker: &mut Checker<'_>,
    raw: &IndexMap<String, Spanned<Vec<Spanned<RawCommandRoute>>>>,
) -> Vec<Command> {
    let mut out = Vec::new();
    for (name, routes) in raw {
        let span = checker.span(routes);
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !plain {
            checker.error(
                FindingCode::RehearsalInvalid,
                span,
                format!(
                    "`{name}` is not a command name (letters, digits, `-`, `_` and `.`; no path)"
                ),
            );
            continue;
        }
        let routes = routes
            .iter()
            .filter_map(|route| command_route(checker, route))
            .collect();
        out.push(Command {
            name: name.clone(),
            routes,
        });
    }
    out
}

fn command_route(
    checker: &mut Checker<'_>,
    raw: &Spanned<RawCommandRoute>,
) -> Option<CommandRoute> {
    let span = checker.span(raw);
    let args = match &raw.args {
        Some(patterns) => Some(args_pattern(checker, patterns)?),
        None => None,
    };
    let captured: Vec<&str> = args
        .as_ref()
        .map(|args| {
            args.args
                .iter()
                .flat_map(|arg| arg.names.iter().map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    let mut files = Vec::new();
    for (name, format) in &raw.files {
        if captured.contains(&name.as_str()) {
            files.push((name.clone(), *format));
        } else {
            checker.error(
                FindingCode::RehearsalUnknownName,
                span,
                format!("`files: {name}`: no argument pattern captures `{{{name}}}`"),
            );
        }
    }
    let text = |value: &Option<String>| value.clone().map(serde_json::Value::String);
    Some(CommandRoute {
        name: raw.name.clone().unwrap_or_else(|| match &raw.args {
            Some(args) => args
                .iter()
                .map(|arg| arg.value.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            None => "(any arguments)".into(),
        }),
        when: checker.conditions(&raw.when, Site::Command, span),
        stdin: raw
            .stdin
            .as_ref()
            .map_or(Format::Text, |format| format.value),
        files,
        stdout: raw
            .stdout
            .as_ref()
            .and_then(|value| checker.expr(value, Site::Command, span)),
        stderr: text(&raw.stderr).and_then(|value| checker.expr(&value, Site::Command, span)),
        exit: raw.exit.unwrap_or(0),
        set: checker.assignments(&raw.set, Site::Command, span),
        args,
        span,
    })
}

fn args_pattern(checker: &mut Checker<'_>, raw: &[Spanned<String>]) -> Option<ArgsPattern> {
    let mut args = Vec::new();
    let mut rest = false;
    for (index, pattern) in raw.iter().enumerate() {
        if pattern.value == "..." {
            if index + 1 != raw.len() {
                let span = checker.span(pattern);
                checker.error(
                    FindingCode::RehearsalInvalid,
                    span,
                    "`...` (any further arguments) must be the last pattern",
                );
                return None;
            }
            rest = true;
            continue;
        }
        let mut regex = String::from("^");
        let mut names = Vec::new();
        let mut chars = pattern.value.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => regex.push_str(".*"),
                '{' => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let valid = !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        let span = checker.span(pattern);
                        checker.error(
                            FindingCode::RehearsalInvalid,
                            span,
                            format!(
                                "`{{{name}}}` is not a capture: a name of letters, digits and `_`"
                            ),
                        );
                        return None;
                    }
                    regex.push_str(&format!("(?P<{name}>.*)"));
                    names.push(name);
                }
                other => regex.push_str(&regex::escape(&other.to_string())),
            }
        }
        regex.push('$');
        match regex::Regex::new(&regex) {
            Ok(regex) => args.push(ArgPattern { regex, names }),
            Err(error) => {
                let span = checker.span(pattern);
                checker.error(FindingCode::InvalidRegex, span, error.to_string());
                return None;
            }
        }
    }
    Some(ArgsPattern { args, rest })
}
