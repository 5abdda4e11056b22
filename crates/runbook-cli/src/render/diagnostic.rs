//! Lint findings rendered like rustc's: `error[code]: message`, `--> file:line:col`, the source line,
//! a caret and help (annotate-snippets, what rustc and cargo use).

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use runbook_dsl::source::Span;
use runbook_dsl::{Finding, Severity, Source};

/// A finding for people.
pub fn render_human(source: &Source, finding: &Finding, color: bool) -> String {
    let path = source.path.display().to_string();
    let len = source.text.len();
    let start = finding.span.start.min(len);
    let end = finding.span.end.clamp(start, len);
    let level = match finding.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let (excerpt, line, range) = excerpt(source, start, end);
    let annotation = AnnotationKind::Primary
        .span(range)
        .label(finding.label.as_deref());
    let mut report = vec![
        level
            .primary_title(finding.message.as_str())
            .id(finding.code.as_str())
            .element(
                Snippet::source(excerpt)
                    .line_start(line)
                    .path(path.as_str())
                    .fold(true)
                    .annotation(annotation),
            ),
    ];
    if let Some(help) = &finding.help {
        report.push(Group::with_title(
            Level::HELP.secondary_title(help.as_str()),
        ));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&report)
}

/// Where a run-time failure points in the runbook: `--> file:line:col`, the source line and a caret,
/// rendered like a lint finding so both read the same.
pub fn render_location(source: &Source, span: Span, color: bool) -> String {
    let len = source.text.len();
    let start = span.start.min(len);
    let end = span.end.clamp(start, len);
    let path = source.path.display().to_string();
    let (excerpt, line, range) = excerpt(source, start, end);
    let report = vec![
        Level::NOTE.primary_title("in the runbook").element(
            Snippet::source(excerpt)
                .line_start(line)
                .path(path.as_str())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(range)),
        ),
    ];
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&report)
}

/// The lines that `start..end` covers, their first line number, and the span within them. The
/// renderer is given only these lines: handing it the whole file for every finding made many
/// findings in a big file quadratic.
fn excerpt(source: &Source, start: usize, end: usize) -> (&str, usize, std::ops::Range<usize>) {
    let first = source.line_span(start);
    let last = source.line_span(end);
    let (line, _) = source.line_col(first.start);
    let excerpt = &source.text[first.start..last.end.max(first.start)];
    (excerpt, line, start - first.start..end - first.start)
}

/// A GitHub Actions workflow command, so CI shows the finding on the line.
pub fn render_github(source: &Source, finding: &Finding) -> String {
    let (line, col) = source.line_col(finding.span.start);
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str(&format!(" (help: {help})"));
    }
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "::{level} file={},line={line},col={col},title={}::{}",
        escape_property(&source.path.display().to_string()),
        escape_property(finding.code.as_str()),
        escape_data(&message)
    )
}

/// One JSON object per finding.
pub fn render_json(source: &Source, finding: &Finding) -> String {
    let (line, column) = source.line_col(finding.span.start);
    serde_json::json!({
        "file": source.path.display().to_string(),
        "line": line,
        "column": column,
        "severity": finding.severity,
        "code": finding.code.as_str(),
        "message": finding.message,
        "label": finding.label,
        "help": finding.help,
    })
    .to_string()
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
