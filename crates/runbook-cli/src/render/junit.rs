//! `runbook lint --output junit`: a JUnit XML report, for CI systems that show test results (GitLab,
//! Jenkins, Azure). One test case per file; one `<failure>` per finding that fails lint (errors,
//! and warnings under `--deny warnings`); other warnings go to the case's `<system-out>`.
//!
//! Hand-written: the format needs five elements and XML escaping, less code than adapting a
//! JUnit crate's model (and its dependencies) to it.

use std::fmt::Write as _;

use runbook_dsl::Source;
use runbook_dsl::suppress::Filtered;

use super::diagnostic::{message_with_help, region};

pub fn render_junit(files: &[(&Source, &Filtered)], deny_warnings: bool) -> String {
    let fails = |finding: &runbook_dsl::Finding| finding.is_error() || deny_warnings;
    let failed_cases = files
        .iter()
        .filter(|(_, filtered)| filtered.findings.iter().any(fails))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"runbook lint\" tests=\"{}\" failures=\"{failed_cases}\" errors=\"0\">",
        files.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"runbook lint\" tests=\"{}\" failures=\"{failed_cases}\" errors=\"0\" skipped=\"0\">",
        files.len()
    );
    for (source, filtered) in files {
        let path = escape(&source.path.display().to_string());
        let _ = write!(
            xml,
            "    <testcase classname=\"runbook.lint\" name=\"{path}\" file=\"{path}\""
        );
        if filtered.findings.is_empty() {
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(">\n");
        let mut system_out = String::new();
        for finding in &filtered.findings {
            let at_file = finding.source(source);
            let at = region(at_file, finding.span);
            let location = format!(
                "{}:{}:{}",
                at_file.path.display(),
                at.start_line,
                at.start_column
            );
            let text = format!(
                "{}[{}] {location}: {}",
                finding.severity().as_str(),
                finding.code.as_str(),
                message_with_help(finding)
            );
            if fails(finding) {
                let _ = writeln!(
                    xml,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    escape(finding.code.as_str()),
                    escape(&format!("{location}: {}", finding.message)),
                    escape(&text)
                );
            } else {
                let _ = writeln!(system_out, "{text}");
            }
        }
        if !system_out.is_empty() {
            let _ = writeln!(
                xml,
                "      <system-out>{}</system-out>",
                escape(&system_out)
            );
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Escapes text for an XML attribute or element; drops characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if u32::from(c) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\u{fffd}"
        );
    }
}
