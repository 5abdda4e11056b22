//! "Did you mean ...?" for every closed set of names.

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
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
    }
}
