//! How a rehearsal reads: a header per scenario, its verdict with the differences, the coverage
//! summary; or all of it as one JSON document (`--output json`).

use serde_json::{Value, json};

use super::coverage::Area;
use super::expect::Difference;
use super::scenario::Outcome;
use crate::render::progress::format_duration;
use crate::render::style::Style;

/// One scenario's result.
pub struct Verdict<'a> {
    pub name: &'a str,
    pub outcome: &'a Outcome,
    pub differences: Vec<Difference>,
}

impl Verdict<'_> {
    pub fn matched(&self) -> bool {
        self.differences.is_empty()
    }
}

pub fn scenario_header(style: &Style, name: &str, description: Option<&str>) {
    println!();
    println!("{}", style.bold(&format!("━━ scenario `{name}`")));
    if let Some(description) = description {
        println!("{}", style.dim(description.trim()));
    }
}

pub fn verdict(style: &Style, verdict: &Verdict<'_>) {
    let outcome = verdict.outcome;
    let report = &outcome.report;
    let failed = report
        .failed_step
        .as_ref()
        .map(|step| format!(" at `{step}`"))
        .unwrap_or_default();
    let facts = format!(
        "{}{failed}, exit {}, {} of virtual time",
        report.status.word(),
        outcome.exit_code,
        format_duration(u64::try_from(outcome.virtual_ms).unwrap_or(u64::MAX))
    );
    println!();
    for problem in &outcome.problems {
        println!("  {} {problem}", style.yellow("simulation:"));
    }
    if verdict.matched() {
        println!(
            "  {} {}",
            style.green(&format!("✓ `{}` matched its declaration:", verdict.name)),
            facts
        );
        return;
    }
    println!(
        "  {} {}",
        style.red(&format!(
            "✗ `{}` differs from its declaration:",
            verdict.name
        )),
        facts
    );
    for difference in &verdict.differences {
        println!("      {}", style.bold(&difference.what));
        println!(
            "        {} {}",
            style.green("expected:"),
            difference.expected
        );
        println!("        {}   {}", style.red("actual:"), difference.actual);
    }
}

pub fn summary(style: &Style, verdicts: &[Verdict<'_>], areas: &[Area]) {
    println!();
    println!("{}", style.bold("━━ scenarios"));
    let width = verdicts.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for verdict in verdicts {
        let mark = if verdict.matched() {
            style.green("✓ matched")
        } else {
            style.red("✗ differs")
        };
        println!(
            "  {:width$}  {mark}  {}",
            verdict.name,
            verdict.outcome.report.status.word()
        );
    }
    println!();
    println!(
        "{}",
        style.bold(&format!(
            "━━ coverage ({} scenario{})",
            verdicts.len(),
            if verdicts.len() == 1 { "" } else { "s" }
        ))
    );
    for area in areas {
        let total = area.exercised.len() + area.never.len();
        if total == 0 {
            println!("  {:16} {}", area.name, style.dim("none in this runbook"));
            continue;
        }
        let line = format!(
            "  {:16} {}/{total} exercised",
            area.name,
            area.exercised.len()
        );
        if area.never.is_empty() {
            println!("{line}");
        } else {
            println!(
                "{line}; {} {}",
                style.yellow("never:"),
                area.never.join(", ")
            );
        }
    }
    let differ = verdicts.iter().filter(|v| !v.matched()).count();
    println!();
    let line = format!(
        "{} scenario{}: {} matched, {differ} differ{}",
        verdicts.len(),
        if verdicts.len() == 1 { "" } else { "s" },
        verdicts.len() - differ,
        if differ == 1 { "s" } else { "" },
    );
    if differ == 0 {
        println!("{}", style.green(&line));
    } else {
        println!("{}", style.red(&line));
    }
}

pub fn json(runbook: &str, rehearsal: &str, verdicts: &[Verdict<'_>], areas: &[Area]) -> Value {
    let scenarios: Vec<Value> = verdicts
        .iter()
        .map(|verdict| {
            let report = &verdict.outcome.report;
            json!({
                "name": verdict.name,
                "verdict": if verdict.matched() { "matched" } else { "differs" },
                "status": report.status.word(),
                "exit_code": verdict.outcome.exit_code,
                "failed_step": report.failed_step,
                "killed_at": verdict.outcome.killed_at,
                "virtual_ms": verdict.outcome.virtual_ms,
                "differences": verdict.differences,
                "simulation_problems": verdict.outcome.problems,
            })
        })
        .collect();
    json!({
        "runbook": runbook,
        "rehearsal": rehearsal,
        "scenarios": scenarios,
        "coverage": areas,
        "matched": verdicts.iter().all(Verdict::matched),
    })
}
