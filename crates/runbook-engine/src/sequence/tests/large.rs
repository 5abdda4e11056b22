//! Large outputs: the report keeps an excerpt and names them; a later step that refers to one
//! still reads it whole.

use super::support::{Fixture, step_report};
use crate::kept::KEPT_BYTES;
use crate::report::RunStatus;

#[tokio::test]
async fn a_large_output_is_an_excerpt_in_the_report_and_whole_for_a_later_step() {
    let fx = Fixture::new();
    let bytes = KEPT_BYTES + 5000;
    let rb = fx.runbook(&format!(
        r#"
id: large
title: Large
steps:
  - id: big
    shell: {{command: "yes a | head -c {bytes}"}}
  - id: unread
    shell: {{command: "yes b | head -c {bytes}"}}
  - id: measure
    shell: {{command: "printf %s {{{{steps.big.outputs.stdout}}}} | wc -c"}}
"#
    ));
    let (report, _) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    for id in ["big", "unread"] {
        let big = step_report(&report, id);
        assert_eq!(big.large_outputs, ["stdout"]);
        let shown = big.outputs["stdout"].as_str().unwrap_or_default();
        assert!(shown.len() < KEPT_BYTES + 200, "{}", shown.len());
        assert!(shown.contains("excerpt: the whole value is"), "{shown}");
    }
    // The later step read all of it (the shell trims the last newline).
    let measured = &step_report(&report, "measure").outputs["stdout"];
    assert_eq!(
        measured.as_str().map(str::trim),
        Some((bytes - 1).to_string().as_str())
    );
}
