//! Lint findings rendered like rustc's: `error[code]: message`, `--> file:line:col`, the source line,
//! a caret and help (annotate-snippets, what rustc and cargo use).

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use runbook_dsl::source::Span;
use runbook_dsl::{Finding, Severity, Source};

/// A finding for people. One inside a fragment points into the fragment, with a note at each
/// `use:` that led there.
pub fn render_human(linted: &Source, finding: &Finding, color: bool) -> String {
    let source = finding.source(linted);
    let path = source.path.display().to_string();
    let len = source.text.len();
    let start = finding.span.start.min(len);
    let end = finding.span.end.clamp(start, len);
    let level = match finding.severity() {
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
    let notes: Vec<(String, &Source, &runbook_dsl::finding::Note)> = finding
        .notes
        .iter()
        .map(|note| {
            let file = note.file.as_deref().unwrap_or(linted);
            (file.path.display().to_string(), file, note)
        })
        .collect();
    for (note_path, file, note) in &notes {
        let len = file.text.len();
        let start = note.span.start.min(len);
        let end = note.span.end.clamp(start, len);
        let (text, line, range) = self::excerpt(file, start, end);
        report.push(
            Group::with_title(Level::NOTE.secondary_title(note.message.as_str())).element(
                Snippet::source(text)
                    .line_start(line)
                    .path(note_path.as_str())
                    .fold(true)
                    .annotation(AnnotationKind::Primary.span(range)),
            ),
        );
    }
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

/// Where a finding is, in every unit a consumer may want: 1-based lines and columns (columns count
/// characters; the end is exclusive, the column just after the last character) and byte offsets
/// into the file's text (after a leading byte-order mark, which is not part of the YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start_offset: usize,
    pub end_offset: usize,
}

pub fn region(source: &Source, span: Span) -> Region {
    let len = source.text.len();
    let start = span.start.min(len);
    let end = span.end.clamp(start, len);
    let (start_line, start_column) = source.line_col(start);
    let (end_line, end_column) = source.line_col(end);
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
        start_offset: start,
        end_offset: end,
    }
}

/// The message with its help appended, for formats that have one text field.
pub fn message_with_help(finding: &Finding) -> String {
    match &finding.help {
        Some(help) => format!("{} (help: {help})", finding.message),
        None => finding.message.clone(),
    }
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
pub fn render_github(linted: &Source, finding: &Finding) -> String {
    let source = finding.source(linted);
    let at = region(source, finding.span);
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        finding.severity().as_str(),
        escape_property(&source.path.display().to_string()),
        at.start_line,
        at.start_column,
        at.end_line,
        at.end_column,
        escape_property(finding.code.as_str()),
        escape_data(&message_with_help(finding))
    )
}

/// One finding as a JSON object (one line of `--output json`). Fields in alphabetical order.
#[derive(Debug, serde::Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    column: usize,
    end_column: usize,
    end_line: usize,
    end_offset: usize,
    file: String,
    help: Option<&'a str>,
    label: Option<&'a str>,
    line: usize,
    message: &'a str,
    /// Where a fragment with the finding is used (innermost first); absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<JsonNote<'a>>,
    rule: &'static str,
    severity: runbook_dsl::Severity,
    start_offset: usize,
}

/// A place a finding also points at.
#[derive(Debug, serde::Serialize)]
struct JsonNote<'a> {
    column: usize,
    file: String,
    line: usize,
    message: &'a str,
}

/// One JSON object per finding.
pub fn render_json(linted: &Source, finding: &Finding) -> String {
    let source = finding.source(linted);
    let at = region(source, finding.span);
    let json = JsonFinding {
        code: finding.code.as_str(),
        column: at.start_column,
        end_column: at.end_column,
        end_line: at.end_line,
        end_offset: at.end_offset,
        file: source.path.display().to_string(),
        help: finding.help.as_deref(),
        label: finding.label.as_deref(),
        line: at.start_line,
        message: &finding.message,
        notes: finding
            .notes
            .iter()
            .map(|note| {
                let file = note.file.as_deref().unwrap_or(linted);
                let at = region(file, note.span);
                JsonNote {
                    column: at.start_column,
                    file: file.path.display().to_string(),
                    line: at.start_line,
                    message: &note.message,
                }
            })
            .collect(),
        rule: finding.code.name(),
        severity: finding.severity(),
        start_offset: at.start_offset,
    };
    serde_json::to_string(&json).unwrap_or_default()
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
