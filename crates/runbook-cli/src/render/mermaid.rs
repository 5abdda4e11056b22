//! `runbook graph`: the flow as a Mermaid `flowchart`. Main steps run top to bottom; groups are
//! subgraphs; dotted edges are what happens off the happy path: polls and retries (loops on a
//! step), a repeat group's second chance, rollback and undo, the failure path and `finally`.
//! Built from the same [`Plan`] as `plan` and `render`, so the three views agree.

use std::fmt::Write as _;

use runbook_dsl::Runbook;

use super::effect::Effect;
use super::plan::{Plan, PlanInput, PlanStep, View, build_plan};

/// The Mermaid source for `runbook`.
pub fn render_graph(runbook: &Runbook) -> String {
    let inputs = runbook.inputs.iter().map(PlanInput::declared).collect();
    let plan = build_plan(runbook, inputs, View::AsWritten);
    let mut graph = Graph::default();
    graph.line(0, "flowchart TD");
    graph.line(1, &format!("start([\"{}\"])", label(&plan.title)));
    let mut previous = "start".to_owned();
    if !plan.preconditions.is_empty() {
        graph.line(
            1,
            &format!(
                "preconditions{{{{\"operator confirms {} precondition(s)\"}}}}",
                plan.preconditions.len()
            ),
        );
        graph.line(1, "start --> preconditions");
        previous = "preconditions".to_owned();
    }
    let last = graph.chain(&plan.steps, &previous, 1);
    graph.endings(&plan, &last);
    graph.line(1, "classDef irreversible stroke:#c00,stroke-width:3px");
    graph.line(1, "classDef commit stroke:#080,stroke-width:3px");
    graph.line(1, "classDef undo stroke-dasharray: 4 3");
    graph.out
}

#[derive(Default)]
struct Graph {
    out: String,
}

impl Graph {
    fn line(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.out, "{}{text}", "  ".repeat(depth));
    }

    /// Declares `steps` in order, linked from `from`; returns the node the flow leaves from.
    fn chain(&mut self, steps: &[PlanStep], from: &str, depth: usize) -> String {
        let mut previous = from.to_owned();
        for step in steps {
            let node = self.step(step, depth);
            self.line(depth, &format!("{previous} --> {node}"));
            previous = node;
        }
        previous
    }

    /// Declares one step (a node, or a subgraph for a group) with its loops and undo; returns its
    /// node id.
    fn step(&mut self, step: &PlanStep, depth: usize) -> String {
        let Some(group) = &step.group else {
            let node = node_id(step);
            self.line(depth, &format!("{node}[\"{}\"]", step_label(step)));
            self.classes(step, &node, depth);
            for line in &step.loops {
                self.line(depth, &format!("{node} -.->|\"{}\"| {node}", label(line)));
            }
            self.undo(&node, &step.rollback, "rollback", depth);
            return node;
        };
        let node = node_id(step);
        self.line(
            depth,
            &format!("subgraph {node}[\"{}\"]", label(&title(step))),
        );
        self.line(depth + 1, "direction TB");
        let first = group.steps.first().map(node_id);
        let mut last = String::new();
        for (index, inner) in group.steps.iter().enumerate() {
            let inner_node = self.step(inner, depth + 1);
            if index > 0 {
                self.line(depth + 1, &format!("{last} --> {inner_node}"));
            }
            last = inner_node;
        }
        if !group.finally.is_empty() {
            let finally = self.chain_nodes(&group.finally, depth + 1);
            if !last.is_empty() {
                self.line(depth + 1, &format!("{last} -->|\"always\"| {finally}"));
            }
        }
        self.line(depth, "end");
        if let (true, Some(first)) = (group.max_attempts > 1, first) {
            let decision = format!("repeat_{}", step.id);
            self.line(
                depth,
                &format!(
                    "{node} -.->|\"fails\"| {decision}{{\"operator: repeat? up to {} attempts\"}}",
                    group.max_attempts
                ),
            );
            self.line(depth, &format!("{decision} -.->|\"again\"| {first}"));
        }
        self.undo(&node, &group.undo, "undo", depth);
        node
    }

    /// Unnumbered steps (undo, finally) declared and linked in order; returns the first node.
    fn chain_nodes(&mut self, steps: &[PlanStep], depth: usize) -> String {
        let mut first = String::new();
        let mut previous = String::new();
        for step in steps {
            let node = self.step(step, depth);
            if previous.is_empty() {
                first.clone_from(&node);
            } else {
                self.line(depth, &format!("{previous} --> {node}"));
            }
            previous = node;
        }
        first
    }

    /// A rollback or group undo hanging off `node` with a dotted edge.
    fn undo(&mut self, node: &str, steps: &[PlanStep], what: &str, depth: usize) {
        if steps.is_empty() {
            return;
        }
        let first = self.chain_nodes(steps, depth);
        self.line(
            depth,
            &format!("{node} -.->|\"{what} if the run fails\"| {first}"),
        );
        for step in steps {
            self.line(depth, &format!("class {} undo", node_id(step)));
        }
    }

    fn classes(&mut self, step: &PlanStep, node: &str, depth: usize) {
        if step.commit {
            self.line(depth, &format!("class {node} commit"));
        } else if step.effect == Effect::Irreversible {
            self.line(depth, &format!("class {node} irreversible"));
        }
    }

    /// The end of the happy path, the failure path and `finally`.
    fn endings(&mut self, plan: &Plan, last: &str) {
        self.line(1, "done([\"done\"])");
        self.line(
            1,
            "failed([\"a step fails: registered rollback and undo run, newest first\"])",
        );
        let finally = if plan.finally.is_empty() {
            "done".to_owned()
        } else {
            self.chain_nodes(&plan.finally, 1)
        };
        let after_failure = if plan.on_failure.is_empty() {
            finally.clone()
        } else {
            let first = self.chain_nodes(&plan.on_failure, 1);
            let last_failure = plan.on_failure.last().map(node_id).unwrap_or_default();
            self.line(1, &format!("{last_failure} --> {finally}"));
            first
        };
        self.line(1, &format!("failed -.->|\"on_failure\"| {after_failure}"));
        self.line(1, &format!("{last} --> {finally}"));
        if let Some(last_finally) = plan.finally.last() {
            self.line(1, &format!("{} --> done", node_id(last_finally)));
        }
    }
}

/// A Mermaid node id. A fragment's step ids (`pause.kill`) have a dot, which Mermaid reads as
/// punctuation: it becomes `-`, which no step id of its own can have, so the id stays unique.
fn node_id(step: &PlanStep) -> String {
    let id = step.id.replace('.', "-");
    match step.group {
        Some(_) => format!("g_{id}"),
        None => format!("s_{id}"),
    }
}

fn title(step: &PlanStep) -> String {
    match &step.number {
        Some(number) => format!("{number}. {}", step.name),
        None => step.name.clone(),
    }
}

fn step_label(step: &PlanStep) -> String {
    let mut text = format!("{}<br/>{}", label(&title(step)), step.effect.tag(step.kind));
    if step.commit {
        text.push_str("<br/>COMMIT POINT");
    }
    if step.when.is_some() {
        text.push_str("<br/>(conditional)");
    }
    if let Some(failure) = super::plan_text::on_error_text(step.on_error) {
        text.push_str(&format!("<br/>if it fails: {}", label(failure)));
    }
    text
}

/// Text safe inside a quoted Mermaid label.
fn label(text: &str) -> String {
    text.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('{', "#123;")
        .replace('}', "#125;")
        .replace('\n', " ")
}
