//! Every step of a checked runbook in the order the check pass numbers them, with where it sits:
//! which list, which enclosing group or rollback owner. The rules ask "may this step have been
//! skipped before that one runs?" and "does this step run in the main phase?" through it.

use std::collections::BTreeMap;

use crate::model::{Step, StepKind};
use crate::raw::{RawRunbook, RawStep};
use crate::spanned::Spanned;

/// Which list a step is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::check) enum Area {
    /// The runbook's `steps`, or a group's `steps` (at any depth).
    Main,
    /// A group's `finally`: runs after the group's steps, whether they passed or not.
    GroupFinally,
    /// A step's `rollback`: runs only if that step passed and a later one failed.
    Rollback,
    /// The runbook's `on_failure`.
    OnFailure,
    /// The runbook's `finally`.
    Finally,
}

impl Area {
    /// Cleanup lists run every step even when an earlier one fails, and register no compensation.
    pub(in crate::check) fn is_cleanup(self) -> bool {
        match self {
            Area::Main | Area::GroupFinally => false,
            Area::Rollback | Area::OnFailure | Area::Finally => true,
        }
    }
}

/// One step and its place.
#[derive(Debug, Clone, Copy)]
pub(in crate::check) struct Node<'a> {
    pub(in crate::check) step: &'a Step,
    /// The same step as written, for the spans the checked model does not keep.
    pub(in crate::check) raw: Option<&'a RawStep>,
    /// The group whose `steps`/`finally` holds it, or the step whose `rollback` holds it.
    pub(in crate::check) parent: Option<usize>,
    pub(in crate::check) area: Area,
    /// The list the step is in, and its position there.
    pub(in crate::check) siblings: &'a [Step],
    pub(in crate::check) position: usize,
}

pub(in crate::check) struct StepIndex<'a> {
    pub(in crate::check) nodes: Vec<Node<'a>>,
    by_id: BTreeMap<&'a str, usize>,
}

impl<'a> StepIndex<'a> {
    pub(in crate::check) fn new(lists: [&'a [Step]; 3], raw: &'a RawRunbook) -> Self {
        let mut raw_steps = BTreeMap::new();
        for list in [&raw.steps, &raw.on_failure, &raw.finally] {
            collect_raw(list, &mut raw_steps);
        }
        let mut index = StepIndex {
            nodes: Vec::new(),
            by_id: BTreeMap::new(),
        };
        let [steps, on_failure, finally] = lists;
        index.add_list(steps, None, Area::Main, &raw_steps);
        index.add_list(on_failure, None, Area::OnFailure, &raw_steps);
        index.add_list(finally, None, Area::Finally, &raw_steps);
        index
    }

    fn add_list(
        &mut self,
        steps: &'a [Step],
        parent: Option<usize>,
        area: Area,
        raw: &BTreeMap<&'a str, &'a RawStep>,
    ) {
        for (position, step) in steps.iter().enumerate() {
            let at = self.nodes.len();
            self.nodes.push(Node {
                step,
                raw: raw.get(step.id.as_str()).copied(),
                parent,
                area,
                siblings: steps,
                position,
            });
            self.by_id.entry(step.id.as_str()).or_insert(at);
            if let StepKind::Group(group) = &step.kind {
                self.add_list(&group.steps, Some(at), area_within(area, Area::Main), raw);
                self.add_list(
                    &group.finally,
                    Some(at),
                    area_within(area, Area::GroupFinally),
                    raw,
                );
            }
            self.add_list(&step.rollback, Some(at), Area::Rollback, raw);
        }
    }

    pub(in crate::check) fn get(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(in crate::check) fn node(&self, at: usize) -> &Node<'a> {
        &self.nodes[at]
    }

    /// `at`, its parent, its parent's parent, ...
    pub(in crate::check) fn chain(&self, at: usize) -> Vec<usize> {
        let mut chain = vec![at];
        let mut current = at;
        while let Some(parent) = self.nodes[current].parent {
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// Whether the step runs in the main phase (where failures stop the run and passing steps
    /// register their rollback).
    pub(in crate::check) fn in_main_phase(&self, at: usize) -> bool {
        self.chain(at)
            .iter()
            .all(|&node| !self.nodes[node].area.is_cleanup())
    }
}

/// A group's lists inherit a cleanup area from the group: a group inside `on_failure` is cleanup.
fn area_within(outer: Area, inner: Area) -> Area {
    if outer.is_cleanup() { outer } else { inner }
}

fn collect_raw<'a>(steps: &'a [Spanned<RawStep>], out: &mut BTreeMap<&'a str, &'a RawStep>) {
    for step in steps {
        out.entry(step.value.id.value.as_str())
            .or_insert(&step.value);
        if let Some(group) = &step.value.group {
            collect_raw(&group.value.steps, out);
            collect_raw(&group.value.finally, out);
        }
        collect_raw(&step.value.rollback, out);
    }
}
