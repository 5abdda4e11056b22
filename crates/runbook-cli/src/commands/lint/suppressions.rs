//! `runbook lint --list-suppressions`: every `# runbook: allow` comment, so a reviewer can read all
//! the exceptions of a repository in one place.

use std::io::Write;

use super::FileReport;
use crate::args::LintFormat;

/// `file:line: rule -- reason (N silenced)`, or one JSON object per suppression with `--output json`.
pub fn list(
    reports: &[FileReport],
    format: LintFormat,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut count = 0;
    for report in reports {
        let filtered = &report.filtered;
        for (index, suppression) in filtered.suppressions.iter().enumerate() {
            count += 1;
            let line = report.source.line_col(suppression.span.start).0;
            let silenced = filtered
                .suppressed
                .iter()
                .filter(|suppressed| suppressed.by == index)
                .count();
            let path = report.source.path.display();
            match format {
                LintFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "file": path.to_string(),
                        "line": line,
                        "rule": suppression.code.name(),
                        "code": suppression.code.as_str(),
                        "reason": suppression.reason,
                        "silenced": silenced,
                    })
                )?,
                LintFormat::Human | LintFormat::Github | LintFormat::Sarif | LintFormat::Junit => {
                    writeln!(
                        out,
                        "{path}:{line}: {} -- {} ({silenced} silenced)",
                        suppression.code.name(),
                        suppression.reason
                    )?;
                }
            }
        }
    }
    if format != LintFormat::Json {
        let noun = if count == 1 {
            "suppression"
        } else {
            "suppressions"
        };
        writeln!(out, "{count} {noun}")?;
    }
    Ok(())
}
