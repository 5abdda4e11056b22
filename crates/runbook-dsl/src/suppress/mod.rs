//! Suppression comments: `# runbook: allow RULE -- reason`.
//!
//! A warning can be silenced only where it is, and only with a written reason, so a reviewer sees
//! why on the line itself. A comment on its own line covers the next line with content and every
//! line nested under it (more indented: a whole step, a whole `shell:` block, a block scalar); a
//! comment at the end of a line covers that line and what is nested under it. Several rules may be
//! named, separated by commas.
//!
//! Comments are found by a small line scanner rather than the YAML parser (which drops comments): it
//! skips block scalars (`|`, `>`) and quoted strings that open and close on one line. A `#` inside a
//! quoted string that spans lines could be misread; runbooks rarely have those.

use std::ops::RangeInclusive;

use scan::{coverage, scan_lines};

use crate::finding::{Finding, FindingCode};
use crate::source::{Source, Span};
use crate::suggest::did_you_mean;

mod scan;
#[cfg(test)]
mod tests;

/// What a suppression comment starts with, after `#` and spaces.
const DIRECTIVE: &str = "runbook:";

/// One rule allowed by one comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub code: FindingCode,
    /// Why, as written after `--`.
    pub reason: String,
    /// The comment, from `#` to the end of the line.
    pub span: Span,
    /// The 1-based lines it covers.
    pub lines: RangeInclusive<usize>,
}

/// A finding that a suppression silenced.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub finding: Finding,
    /// Index into the suppressions it was silenced by.
    pub by: usize,
}

/// Findings after suppressions were applied.
#[derive(Debug, Clone, Default)]
pub struct Filtered {
    /// What is still reported (including findings about the comments themselves), by position.
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub suppressions: Vec<Suppression>,
}

/// Every suppression comment in `source`, and a finding for each one that is malformed (no reason,
/// an unknown rule, a rule that cannot be suppressed).
pub fn parse_suppressions(source: &Source) -> (Vec<Suppression>, Vec<Finding>) {
    // Every directive contains `runbook:`; most files have none, and scanning every line for
    // comments was a sixth of lint's time (one memchr-driven search instead).
    if !source.text.contains(DIRECTIVE) {
        return (Vec::new(), Vec::new());
    }
    let lines = scan_lines(&source.text);
    let mut suppressions = Vec::new();
    let mut findings = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(comment) = line.comment.clone() else {
            continue;
        };
        let text = source.text[comment.clone()].trim_start_matches('#').trim();
        let Some(directive) = text.strip_prefix(DIRECTIVE) else {
            continue;
        };
        let span = Span::new(comment.start, comment.end);
        let covered = coverage(&lines, index);
        match parse_directive(directive.trim()) {
            Ok((names, reason)) => {
                for name in names {
                    match check_rule(name) {
                        Ok(code) => suppressions.push(Suppression {
                            code,
                            reason: reason.to_owned(),
                            span,
                            lines: covered.clone(),
                        }),
                        Err(finding) => findings.push(finding(span)),
                    }
                }
            }
            Err(problem) => findings.push(
                Finding::error(FindingCode::InvalidSuppression, span, problem)
                    .with_label("not a valid suppression")
                    .with_help(
                        "write `# runbook: allow RULE -- why this is safe here` (`runbook lint \
                         --list-rules` lists the rules)",
                    ),
            ),
        }
    }
    (suppressions, findings)
}

/// Applies the comments in `source` to `findings`. Comments that silenced nothing are reported only
/// when `report_unused` (the caller knows every warning was computed: the file loaded and checked
/// without errors).
pub fn apply_suppressions(
    source: &Source,
    findings: Vec<Finding>,
    report_unused: bool,
) -> Filtered {
    let (suppressions, mut kept) = parse_suppressions(source);
    let mut used = vec![false; suppressions.len()];
    let mut suppressed = Vec::new();
    for finding in findings {
        let line = source.line_col(finding.span.start).0;
        let by = finding
            .span
            .is_known()
            .then(|| {
                suppressions
                    .iter()
                    .position(|s| s.code == finding.code && s.lines.contains(&line))
            })
            .flatten();
        match by {
            Some(by) if finding.code.is_suppressible() => {
                used[by] = true;
                suppressed.push(Suppressed { finding, by });
            }
            Some(_) | None => kept.push(finding),
        }
    }
    if report_unused {
        for (suppression, _) in suppressions.iter().zip(&used).filter(|(_, used)| !**used) {
            kept.push(
                Finding::warning(
                    FindingCode::UnusedSuppression,
                    suppression.span,
                    format!(
                        "this comment allows `{}`, but no such finding is here",
                        suppression.code.name()
                    ),
                )
                .with_label("silences nothing")
                .with_help("remove the comment, or move it to the line the finding points at"),
            );
        }
    }
    kept.sort_by_key(|finding| finding.span.start);
    Filtered {
        findings: kept,
        suppressed,
        suppressions,
    }
}

/// `allow a, b -- reason` into the rule names and the reason.
fn parse_directive(text: &str) -> Result<(Vec<&str>, &str), String> {
    let Some(rest) = text.strip_prefix("allow") else {
        let word = text.split_whitespace().next().unwrap_or("");
        return Err(format!(
            "unknown runbook directive `{word}`: the only one is `allow`"
        ));
    };
    let (rules, reason) = match rest.split_once("--") {
        Some((rules, reason)) => (rules, reason.trim()),
        None => (rest, ""),
    };
    let names: Vec<&str> = rules
        .split([',', ' ', '\t'])
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return Err("`allow` names no rule".to_owned());
    }
    if reason.is_empty() {
        return Err(format!(
            "suppressing `{}` needs a reason after `--`",
            names.join(", ")
        ));
    }
    Ok((names, reason))
}

type FindingAt = Box<dyn Fn(Span) -> Finding>;

/// The rule `name` names, if it exists and may be suppressed.
fn check_rule(name: &str) -> Result<FindingCode, FindingAt> {
    let Some(code) = FindingCode::from_name(name) else {
        let suggestion =
            did_you_mean(name, FindingCode::ALL.iter().map(|code| code.name())).map(str::to_owned);
        let message = format!("unknown rule `{name}`");
        return Err(Box::new(move |span| {
            Finding::error(FindingCode::InvalidSuppression, span, message.clone())
                .with_label("no rule has this name")
                .with_suggestion(suggestion.as_deref())
        }));
    };
    if code.is_suppressible() {
        return Ok(code);
    }
    let message = format!("`{}` cannot be suppressed", code.name());
    Err(Box::new(move |span| {
        Finding::error(FindingCode::InvalidSuppression, span, message.clone())
            .with_label("not suppressible")
            .with_help(
                "only warnings can be suppressed: an error means the runbook cannot run (or cannot \
                 even be loaded), so fix it instead",
            )
    }))
}
