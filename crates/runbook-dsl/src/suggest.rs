//! "Did you mean ...?" for every closed set of names.

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lowered = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let other = candidate.to_ascii_lowercase();
            let similarity = strsim::jaro_winkler(&lowered, &other);
            // Short words: one edit (a swap counts as one) is a typo, whatever Jaro-Winkler says.
            let edits = strsim::damerau_levenshtein(&lowered, &other);
            let close =
                similarity > 0.8 || (edits <= 1 + lowered.len() / 6 && edits < lowered.len());
            close.then_some((edits, -similarity, candidate))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, candidate)| candidate)
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
}
