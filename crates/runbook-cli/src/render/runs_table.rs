//! `runbook runs` as a table that fits the terminal: run ids, start times and states are never
//! shortened (an id is what `show` and `resume` take); runbook ids, actors and last steps give up
//! width, each cut to one line with `…`. `--wide` (or output to a pipe) prints every cell whole.
//!
//! comfy-table lays the columns out: it measures cells by display width (so `…` and non-ASCII
//! names line up) and shares the width between columns, which hand-written `{:<24}` padding did
//! not: a long runbook id pushed every later column out of line.

use comfy_table::{Cell, ColumnConstraint, ContentArrangement, Row, Table, Width, presets};

use runbook_engine::journal::RunSummary;

const HEADER: [&str; 6] = ["RUN", "RUNBOOK", "STARTED", "ACTOR", "STATE", "LAST STEP"];
/// Spaces after each column (none before: the first column starts at the margin).
const PADDING_RIGHT: u16 = 2;
/// Columns that keep their whole content however narrow the terminal.
const WHOLE: [usize; 3] = [0, 2, 4];

/// The table for `summaries`, without trailing spaces; `width` none or `wide` keeps every cell
/// whole.
pub fn render_runs(summaries: &[RunSummary], width: Option<usize>, wide: bool) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    let mut header = Row::from(HEADER);
    header.max_height(1);
    table.set_header(header);
    for run in summaries {
        let started = run.started_at.map_or_else(
            || "-".to_owned(),
            |at| at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        );
        let mut row = Row::from(vec![
            Cell::new(&run.run_id),
            Cell::new(&run.runbook),
            Cell::new(started),
            Cell::new(&run.actor),
            Cell::new(run.state.as_str()),
            Cell::new(run.last_step.as_deref().unwrap_or("-")),
        ]);
        row.max_height(1);
        table.add_row(row);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, PADDING_RIGHT));
    }
    match width.filter(|_| !wide) {
        Some(width) => {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_truncation_indicator("…")
                .set_width(u16::try_from(width).unwrap_or(u16::MAX));
            for (index, title) in HEADER.iter().enumerate() {
                let constraint = if WHOLE.contains(&index) {
                    ColumnConstraint::ContentWidth
                } else {
                    // Never narrower than its title: a column squeezed to two characters says
                    // nothing, and a title wrapped letter by letter fills the screen. On a
                    // terminal too narrow for that, the table is wider than the terminal.
                    // The boundary counts the column's padding too.
                    let title =
                        u16::try_from(title.len() + usize::from(PADDING_RIGHT)).unwrap_or(u16::MAX);
                    ColumnConstraint::LowerBoundary(Width::Fixed(title))
                };
                if let Some(column) = table.column_mut(index) {
                    column.set_constraint(constraint);
                }
            }
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use runbook_engine::journal::{Resumability, RunState, RunSummary};

    use super::render_runs;

    fn summary(run_id: &str, runbook: &str, last_step: &str) -> RunSummary {
        RunSummary {
            run_id: run_id.to_owned(),
            runbook: runbook.to_owned(),
            title: String::new(),
            path: String::new(),
            started_at: "2026-11-30T21:00:00Z".parse().ok(),
            actor: "alice".to_owned(),
            state: RunState::Empty,
            last_step: Some(last_step.to_owned()),
            steps_done: 0,
            resumable: Resumability::NoStart,
        }
    }

    fn runs() -> Vec<RunSummary> {
        vec![
            summary("20261130T210000Z-4c7613", "hello", "greet (passed)"),
            summary(
                "20261130T210500Z-9a01bc",
                "alpaca-live-key-rotation-with-a-very-long-identifier",
                "propagate_the_new_key_to_every_downstream_service_and_wait (failed)",
            ),
        ]
    }

    #[test]
    fn long_cells_are_cut_to_the_width_and_ids_never_are() {
        let table = render_runs(&runs(), Some(100), false);
        for line in table.lines() {
            assert!(
                line.chars().count() <= 100,
                "wider than 100: {line:?}\n{table}"
            );
        }
        assert!(table.contains("20261130T210000Z-4c7613"), "{table}");
        assert!(table.contains("20261130T210500Z-9a01bc"), "{table}");
        assert!(table.contains("2026-11-30 21:00:00"), "{table}");
        assert!(table.contains('…'), "something was cut:\n{table}");
        assert!(
            !table.contains("alpaca-live-key-rotation-with-a-very-long-identifier"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3, "one line per run:\n{table}");
    }

    #[test]
    fn on_a_narrow_terminal_titles_stay_whole_and_on_one_line() {
        let table = render_runs(&runs(), Some(70), false);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines.len(),
            3,
            "one line per run and one for the titles:\n{table}"
        );
        for title in ["RUNBOOK", "ACTOR", "LAST STEP"] {
            assert!(lines[0].contains(title), "{title} cut:\n{table}");
        }
        assert!(lines[2].starts_with("20261130T210500Z-9a01bc  "), "{table}");
    }

    #[test]
    fn wide_or_no_width_keeps_every_cell_whole() {
        for table in [
            render_runs(&runs(), Some(60), true),
            render_runs(&runs(), None, false),
        ] {
            assert!(
                table.contains("alpaca-live-key-rotation-with-a-very-long-identifier")
                    && table.contains(
                        "propagate_the_new_key_to_every_downstream_service_and_wait (failed)"
                    )
                    && !table.contains('…'),
                "{table}"
            );
            assert_eq!(table.lines().count(), 3, "{table}");
        }
    }

    #[test]
    fn columns_line_up() {
        let table = render_runs(&runs(), None, false);
        let starts: Vec<usize> = table
            .lines()
            .map(|line| line.find("2026-11-30").unwrap_or(usize::MAX))
            .skip(1)
            .collect();
        let header = table.lines().next().unwrap_or_default();
        let started = header.find("STARTED").unwrap_or_default();
        assert!(starts.iter().all(|at| *at == started), "{table}");
        assert!(header.starts_with("RUN  "), "{table}");
    }
}
