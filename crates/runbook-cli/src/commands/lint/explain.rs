//! `runbook lint --explain RULE` and `--list-rules`: the rule catalog, with each rule's section of
//! `docs/lint-rules.md` embedded in the binary, so the docs and `--explain` cannot drift.

use std::io::Write;

use runbook_dsl::FindingCode;
use runbook_dsl::suggest::did_you_mean;

use crate::failure::Failure;

/// The rule documentation, compiled in.
pub const LINT_RULES_MD: &str = include_str!("../../../../../docs/lint-rules.md");

/// The section of docs/lint-rules.md about `code`: from its `### \`name\`` heading to the next
/// heading of the same or a higher level. Empty when the docs lack it (a test forbids that).
pub fn rule_section(code: FindingCode) -> &'static str {
    let heading = format!("### `{}`\n", code.name());
    let Some(start) = LINT_RULES_MD.find(&heading) else {
        return "";
    };
    let body_start = start + heading.len();
    let rest = &LINT_RULES_MD[body_start..];
    let end = rest
        .match_indices("\n#")
        .map(|(at, _)| at)
        .find(|&at| {
            let line = &rest[at + 1..];
            line.starts_with("## ") || line.starts_with("### ")
        })
        .map_or(LINT_RULES_MD.len(), |at| body_start + at + 1);
    LINT_RULES_MD[start..end].trim_end()
}

/// The first paragraph after a rule's code line: what it catches.
pub fn rule_description(code: FindingCode) -> &'static str {
    rule_section(code)
        .split("\n\n")
        .nth(2)
        .map_or("", str::trim)
}

/// The rule `name` names, or a usage error with a did-you-mean.
pub fn find_rule(name: &str) -> Result<FindingCode, Failure> {
    FindingCode::from_name(name).ok_or_else(|| {
        let short = name.rsplit("::").next().unwrap_or(name);
        let hint = did_you_mean(short, FindingCode::ALL.iter().map(|code| code.name()))
            .map(|candidate| format!("; did you mean `{candidate}`?"))
            .unwrap_or_default();
        Failure::usage(format!(
            "unknown rule `{name}`{hint} (`runbook lint --list-rules` lists them)"
        ))
    })
}

pub fn explain(name: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let code = find_rule(name)?;
    writeln!(out, "{}", rule_section(code))?;
    Ok(())
}

/// One line per rule: name, severity, code, summary, in aligned columns.
pub fn list_rules(out: &mut impl Write) -> anyhow::Result<()> {
    let width = FindingCode::ALL
        .iter()
        .map(|code| code.name().len())
        .max()
        .unwrap_or(0);
    let code_width = FindingCode::ALL
        .iter()
        .map(|code| code.as_str().len())
        .max()
        .unwrap_or(0);
    for code in FindingCode::ALL {
        writeln!(
            out,
            "{:width$}  {:7}  {:code_width$}  {}",
            code.name(),
            code.default_severity().as_str(),
            code.as_str(),
            code.summary()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_section_that_stops_at_the_next_rule() {
        for &code in FindingCode::ALL {
            let section = rule_section(code);
            assert!(
                section.starts_with(&format!("### `{}`", code.name())),
                "{code:?}"
            );
            assert_eq!(section.matches("\n### ").count(), 0, "{code:?}");
            assert!(section.contains("**Good**"), "{code:?}");
            assert!(!rule_description(code).is_empty(), "{code:?}");
        }
    }

    #[test]
    fn unknown_rules_get_a_suggestion() {
        let error = find_rule("unknown_stpe").err().map(|f| f.message);
        assert_eq!(
            error.as_deref(),
            Some(
                "unknown rule `unknown_stpe`; did you mean `unknown_step`? (`runbook lint \
                 --list-rules` lists them)"
            )
        );
        assert!(find_rule("runbook::check::unknown_step").is_ok());
    }
}
