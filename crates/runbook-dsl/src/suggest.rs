//! "Did you mean ...?" for every closed set of names.
//!
//! The work is bounded so that no input makes lint superlinear: names and candidates longer than
//! [`MAX_NAME`] are not compared (a typo in a 200-character name is not what a suggestion fixes),
//! candidates whose length is far off are skipped before any distance is computed, and callers
//! that compare against sets as large as the file (step ids, inputs) share a per-file [`Budget`].

/// The longest name or candidate compared, in bytes.
pub const MAX_NAME: usize = 64;

/// How much suggestion work one file may cause: the sum over comparisons of the two lengths'
/// product (the cost of an edit distance). A few million is thousands of typical comparisons;
/// past it, findings simply come without a suggestion.
#[derive(Debug, Clone)]
pub struct Budget {
    left: usize,
}

impl Budget {
    pub const PER_FILE: usize = 4_000_000;

    pub fn new(work: usize) -> Self {
        Self { left: work }
    }

    /// Takes `cost` from the budget; false (and nothing taken) when it does not cover it.
    fn take(&mut self, cost: usize) -> bool {
        match self.left.checked_sub(cost) {
            Some(left) => {
                self.left = left;
                true
            }
            None => false,
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(Self::PER_FILE)
    }
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo. For small closed
/// sets (fields, methods, enum values); see [`did_you_mean_within`] for sets as large as a file.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean_within(name, candidates, &mut Budget::new(usize::MAX))
}

/// [`did_you_mean`], charging the comparisons to `budget`.
pub fn did_you_mean_within<'a, I>(name: &str, candidates: I, budget: &mut Budget) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    if name.is_empty() || name.len() > MAX_NAME {
        return None;
    }
    let lowered = name.to_ascii_lowercase();
    // Jaro-Winkler above 0.8 or a few edits: either way the lengths cannot be far apart.
    let slack = 2 + lowered.len() / 2;
    let mut best: Option<(usize, f64, &'a str)> = None;
    for candidate in candidates {
        if candidate.len() > MAX_NAME || candidate.len().abs_diff(lowered.len()) > slack {
            continue;
        }
        if !budget.take(lowered.len() * candidate.len().max(1)) {
            break;
        }
        let other = candidate.to_ascii_lowercase();
        let similarity = strsim::jaro_winkler(&lowered, &other);
        // Short words: one edit (a swap counts as one) is a typo, whatever Jaro-Winkler says.
        let edits = strsim::damerau_levenshtein(&lowered, &other);
        let close = similarity > 0.8 || (edits <= 1 + lowered.len() / 6 && edits < lowered.len());
        let better = best.is_none_or(|(best_edits, best_similarity, _)| {
            edits < best_edits || (edits == best_edits && similarity > best_similarity)
        });
        if close && better {
            best = Some((edits, similarity, candidate));
        }
    }
    best.map(|(_, _, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["base_url", "api_key", "api_secret"];
        assert_eq!(did_you_mean("bse_url", names), Some("base_url"));
        assert_eq!(did_you_mean("api_secrt", names), Some("api_secret"));
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("GTE", ["GET", "PUT", "POST"]), Some("GET"));
    }

    #[test]
    fn long_names_are_not_compared() {
        let long = "a".repeat(MAX_NAME + 1);
        assert_eq!(did_you_mean(&long, [long.as_str()]), None);
    }

    #[test]
    fn the_budget_bounds_the_work() {
        let mut candidates = vec!["qqqqqqqqq".to_owned(); 999];
        candidates.push("step_0999".to_owned());
        let mut budget = Budget::new(10 * 10 * 9);
        // Ten comparisons fit; the close candidate is the last of a thousand.
        let found = did_you_mean_within(
            "step_0999x",
            candidates.iter().map(String::as_str),
            &mut budget,
        );
        assert_eq!(found, None);
        let mut budget = Budget::default();
        let found = did_you_mean_within(
            "step_0999x",
            candidates.iter().map(String::as_str),
            &mut budget,
        );
        assert_eq!(found, Some("step_0999"));
    }
}
