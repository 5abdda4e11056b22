//! The steps a run never reached, as one line of the end-of-run summary: top-level steps by their
//! `[i/N]` position, consecutive ones as a range, and steps inside a group that did run counted
//! under that group. A list of twenty names, one per line, under whatever heading happened to
//! print last (`finally`), hid what mattered: where the run stopped.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runbook_dsl::Step;

/// Where each main-list step sits: top-level steps by position, nested ones by their top-level
/// ancestor.
#[derive(Debug, Default)]
pub struct StepPositions {
    top_level: Vec<String>,
    ancestor: HashMap<String, usize>,
}

impl StepPositions {
    pub fn of(steps: &[Step]) -> StepPositions {
        let mut positions = StepPositions::default();
        for (index, step) in steps.iter().enumerate() {
            positions.top_level.push(step.id.clone());
            positions.record_nested(step, index);
        }
        positions
    }

    fn record_nested(&mut self, step: &Step, top: usize) {
        self.ancestor.insert(step.id.clone(), top);
        if let Some(group) = step.kind.group() {
            for inner in group.steps.iter().chain(&group.finally) {
                self.record_nested(inner, top);
            }
        }
    }

    /// `[3/6] `a` … [6/6] `d`, 2 steps inside `rotate``, or none when every step ran.
    pub fn describe_not_run<'a>(
        &self,
        not_run: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        let total = self.top_level.len();
        let mut top = BTreeSet::new();
        let mut nested: Vec<(Option<usize>, &str)> = Vec::new();
        for id in not_run {
            match self.top_level.iter().position(|top_id| top_id == id) {
                Some(index) => {
                    top.insert(index);
                }
                None => nested.push((self.ancestor.get(id).copied(), id)),
            }
        }
        let mut parts: Vec<String> = ranges(&top)
            .into_iter()
            .map(|(first, last)| {
                let at =
                    |index: usize| format!("[{}/{total}] `{}`", index + 1, self.top_level[index]);
                match last - first {
                    0 => at(first),
                    1 => format!("{}, {}", at(first), at(last)),
                    _ => format!("{} … {}", at(first), at(last)),
                }
            })
            .collect();
        // A step inside a group that never started is already said by the group's position.
        let mut inside: BTreeMap<usize, usize> = BTreeMap::new();
        for (ancestor, id) in nested {
            match ancestor {
                Some(index) if top.contains(&index) => {}
                Some(index) => *inside.entry(index).or_default() += 1,
                None => parts.push(format!("`{id}`")),
            }
        }
        for (index, count) in inside {
            parts.push(format!(
                "{count} step{} inside `{}`",
                if count == 1 { "" } else { "s" },
                self.top_level[index]
            ));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Consecutive indices as `(first, last)` pairs.
fn ranges(indices: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &index in indices {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == index => *last = index,
            Some(_) | None => out.push((index, index)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::StepPositions;

    fn positions(top: &[&str], nested: &[(&str, usize)]) -> StepPositions {
        StepPositions {
            top_level: top.iter().map(|id| (*id).to_owned()).collect(),
            ancestor: top
                .iter()
                .enumerate()
                .map(|(index, id)| ((*id).to_owned(), index))
                .chain(nested.iter().map(|(id, index)| ((*id).to_owned(), *index)))
                .collect(),
        }
    }

    #[test]
    fn consecutive_steps_are_one_range() {
        let steps = positions(&["a", "b", "c", "d", "e", "f"], &[]);
        assert_eq!(
            steps.describe_not_run(["c", "d", "e", "f"]).as_deref(),
            Some("[3/6] `c` … [6/6] `f`")
        );
        assert_eq!(
            steps.describe_not_run(["b", "c", "f"]).as_deref(),
            Some("[2/6] `b`, [3/6] `c`, [6/6] `f`")
        );
        assert_eq!(steps.describe_not_run(["f"]).as_deref(), Some("[6/6] `f`"));
        assert_eq!(steps.describe_not_run([]), None);
    }

    #[test]
    fn steps_inside_a_group_that_ran_are_counted_under_it() {
        let steps = positions(
            &["pause", "rotate", "resume"],
            &[("store", 1), ("check", 1)],
        );
        assert_eq!(
            steps
                .describe_not_run(["store", "check", "resume"])
                .as_deref(),
            Some("[3/3] `resume`, 2 steps inside `rotate`")
        );
    }

    #[test]
    fn steps_inside_a_group_that_never_started_are_the_group() {
        let steps = positions(&["pause", "rotate", "resume"], &[("store", 1)]);
        assert_eq!(
            steps
                .describe_not_run(["rotate", "store", "resume"])
                .as_deref(),
            Some("[2/3] `rotate`, [3/3] `resume`")
        );
    }
}
