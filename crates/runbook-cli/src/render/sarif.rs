//! `runbook lint --output sarif`: one SARIF 2.1.0 log (serde-sarif's types, generated from the
//! official schema), for GitHub code scanning and other SARIF viewers.
//!
//! `tool.driver.rules` is the whole rule catalog (id = the stable code, name, short and full
//! descriptions, help from docs/lint-rules.md, a help URI to the rule's section, default level).
//! Suppressed findings are results too, with an in-source suppression and its reason, so a viewer
//! shows them as dismissed rather than losing them.

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Suppression, Tool, ToolComponent,
};

use runbook_dsl::suppress::Filtered;
use runbook_dsl::{Finding, FindingCode, Severity, Source};

use super::diagnostic::{message_with_help, region};
use crate::commands::lint::explain::{rule_description, rule_section};

/// Where docs/lint-rules.md is published: the repository in the workspace's Cargo.toml.
const RULES_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/main/docs/lint-rules.md"
);
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The whole log for every linted file, pretty-printed, with a trailing newline.
pub fn render_sarif(files: &[(&Source, &Filtered)]) -> String {
    let mut results = Vec::new();
    for (source, filtered) in files {
        for finding in &filtered.findings {
            results.push(result(source, finding, None));
        }
        for suppressed in &filtered.suppressed {
            let reason = filtered
                .suppressions
                .get(suppressed.by)
                .map(|suppression| suppression.reason.as_str());
            results.push(result(source, &suppressed.finding, reason));
        }
    }
    let driver = ToolComponent::builder()
        .name("runbook")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(
            FindingCode::ALL
                .iter()
                .map(|&code| rule(code))
                .collect::<Vec<_>>(),
        )
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        // Our columns count characters (Unicode scalar values), not UTF-16 code units.
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .results(results)
        .build();
    let log = Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn rule(code: FindingCode) -> ReportingDescriptor {
    let text = |text: &str| MultiformatMessageString::builder().text(text).build();
    let help = MultiformatMessageString::builder()
        .text(rule_description(code))
        .markdown(rule_section(code))
        .build();
    ReportingDescriptor::builder()
        .id(code.as_str())
        .name(code.name())
        .short_description(text(code.summary()))
        .full_description(text(rule_description(code)))
        .help(help)
        .help_uri(format!("{RULES_URL}#{}", code.name()))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!(level_name(code.default_severity())))
                .build(),
        )
        .build()
}

fn level_name(severity: Severity) -> &'static str {
    severity.as_str()
}

fn result(linted: &Source, finding: &Finding, suppressed_because: Option<&str>) -> SarifResult {
    let source = finding.source(linted);
    let at = region(source, finding.span);
    let number = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
    let sarif_region = Region::builder()
        .start_line(number(at.start_line))
        .start_column(number(at.start_column))
        .end_line(number(at.end_line))
        .end_column(number(at.end_column))
        .char_offset(number(source.text[..at.start_offset].chars().count()))
        .char_length(number(
            source.text[at.start_offset..at.end_offset].chars().count(),
        ))
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(file_uri(source)).build())
                .region(sarif_region)
                .build(),
        )
        .build();
    let level = match finding.severity() {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
    };
    let rule_index = FindingCode::ALL
        .iter()
        .position(|&code| code == finding.code)
        .map_or(-1, number);
    let result = SarifResult::builder()
        .rule_id(finding.code.as_str())
        .rule_index(rule_index)
        .level(level)
        .message(Message::builder().text(message_with_help(finding)).build())
        .locations(vec![location]);
    match suppressed_because {
        Some(reason) => result
            .suppressions(vec![
                Suppression::builder()
                    .kind(serde_json::json!("inSource"))
                    .justification(reason)
                    .build(),
            ])
            .build(),
        None => result.build(),
    }
}

/// The file as a relative URI reference (forward slashes, percent-encoded), as code scanning
/// expects paths relative to the repository root.
fn file_uri(source: &Source) -> String {
    let path = source.path.to_string_lossy().replace('\\', "/");
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte);
        if keep {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    if path.starts_with('/') {
        format!("file://{uri}")
    } else {
        uri
    }
}
