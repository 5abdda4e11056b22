//! Checks for `http` steps.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::{Body, HttpMethod, HttpStep};
use crate::raw::RawHttp;
use crate::spanned::Spanned;
use crate::suggest::did_you_mean;

impl Checker<'_> {
    pub(super) fn check_http(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawHttp>,
    ) -> Option<HttpStep> {
        let http = &spanned.value;
        let mut ok = true;

        let method = match &http.method {
            None => HttpMethod::Get,
            Some(method) => match HttpMethod::parse(&method.value) {
                Some(parsed) => parsed,
                None => {
                    let span = self.span(method);
                    let names = HttpMethod::ALL.map(HttpMethod::as_str);
                    let upper = method.value.to_ascii_uppercase();
                    self.report(
                        Finding::error(
                            FindingCode::InvalidMethod,
                            span,
                            format!("unsupported HTTP method `{}`", method.value),
                        )
                        .with_label("not a method")
                        .with_help(match did_you_mean(&upper, names) {
                            Some(candidate) => format!("did you mean `{candidate}`?"),
                            None => format!("use one of {}", names.join(", ")),
                        }),
                    );
                    ok = false;
                    HttpMethod::Get
                }
            },
        };

        let url = self.template(&http.url, scope);
        if let Some(url) = &url
            && !url.source.starts_with("{{")
            && !url.source.starts_with("http://")
            && !url.source.starts_with("https://")
        {
            self.report(
                Finding::error(
                    FindingCode::RelativeUrl,
                    url.span,
                    format!("URL `{}` is not absolute", url.source),
                )
                .with_label("expected http:// or https://")
                .with_help("write the full URL, e.g. `{{inputs.base_url}}/v2/account`"),
            );
            ok = false;
        }

        let mut headers = Vec::new();
        for (name, value) in &http.headers {
            match self.template(value, scope) {
                Some(template) => headers.push((name.clone(), template)),
                None => ok = false,
            }
        }
        let mut query = Vec::new();
        for (name, value) in &http.query {
            match self.value_template(value, scope) {
                Some(template) => query.push((name.clone(), template)),
                None => ok = false,
            }
        }
        let body = match (&http.json, &http.text) {
            (Some(_), Some(text)) => {
                let span = self.span(text);
                self.report(
                    Finding::error(
                        FindingCode::BodyConflict,
                        span,
                        "a request has either a `json` or a `text` body, not both",
                    )
                    .with_label("second body"),
                );
                ok = false;
                None
            }
            (Some(json), None) => self
                .value_template(json, scope)
                .map(Body::Json)
                .or_else(|| {
                    ok = false;
                    None
                }),
            (None, Some(text)) => self.template(text, scope).map(Body::Text).or_else(|| {
                ok = false;
                None
            }),
            (None, None) => None,
        };

        let mut expect_status = Vec::new();
        if let Some(spec) = &http.expect_status {
            for code in spec.value.codes() {
                if !(100..=599).contains(&code) {
                    let span = self.locate_text(self.span(spec), &code.to_string());
                    self.report(
                        Finding::error(
                            FindingCode::InvalidStatus,
                            span,
                            format!("{code} is not an HTTP status code"),
                        )
                        .with_label("expected 100 to 599"),
                    );
                    ok = false;
                }
                expect_status.push(code);
            }
        }

        let captures = self.captures(&http.capture, true, true, HttpStep::BUILTIN_OUTPUTS);
        let own_outputs: Vec<String> = HttpStep::BUILTIN_OUTPUTS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(http.capture.keys().cloned())
            .collect();
        let asserts = self.conditions(
            &http.assert,
            Scope {
                own_outputs: Some(&own_outputs),
                ..scope
            },
        );

        let max_response_bytes = http
            .max_response_bytes
            .as_ref()
            .map_or(HttpStep::DEFAULT_MAX_RESPONSE_BYTES, |max| max.value);

        if !ok {
            return None;
        }
        Some(HttpStep {
            method,
            url: url?,
            headers,
            query,
            body,
            expect_status,
            captures: captures?,
            asserts: asserts?,
            follow_redirects: http.follow_redirects,
            discard_body: http.discard_body,
            max_response_bytes,
        })
    }
}
