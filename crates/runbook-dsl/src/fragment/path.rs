//! Where a `use:` path leads: relative to the file that says it, and never out of the folder of
//! the runbook being run (a runbook is reviewed with the folder it sits in; a path that climbs out
//! of it could reach any file on the machine of whoever runs it).

use std::path::{Component, Path, PathBuf};

/// Why a `use:` path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("`{0}` is absolute; a fragment is named by a path relative to the file that uses it")]
    Absolute(String),
    #[error("`{0}` leaves the runbook's folder")]
    Escapes(String),
    #[error("`{0}` is not named `NAME.fragment.yaml`")]
    NotAFragmentName(String),
}

/// Whether a file is named as a fragment: `NAME.fragment.yaml` (or `.yml`).
pub fn is_fragment(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.ends_with(".fragment.yaml") || name.ends_with(".fragment.yml"))
}

/// The fragment `written` names, from a file in folder `from` (relative to `root`, the runbook's
/// folder), as a path relative to `root`. Resolved lexically: `..` may climb back towards
/// `root` but not past it. A symbolic link inside the folder is followed when the file is read.
pub fn resolve(from: &Path, written: &str) -> Result<PathBuf, PathError> {
    if written.trim().is_empty() {
        return Err(PathError::Empty);
    }
    let path = Path::new(written);
    if path.is_absolute() || path.has_root() {
        return Err(PathError::Absolute(written.to_owned()));
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in from.components().chain(path.components()) {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes(written.to_owned()));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::Absolute(written.to_owned()));
            }
        }
    }
    let resolved: PathBuf = parts.iter().collect();
    if !is_fragment(&resolved) {
        return Err(PathError::NotAFragmentName(written.to_owned()));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_to_the_using_file_inside_the_root() {
        let got = resolve(Path::new(""), "fragments/pause.fragment.yaml");
        assert_eq!(got, Ok(PathBuf::from("fragments/pause.fragment.yaml")));
        let got = resolve(Path::new("fragments"), "../shared/x.fragment.yaml");
        assert_eq!(got, Ok(PathBuf::from("shared/x.fragment.yaml")));
        let got = resolve(Path::new("fragments"), "./y.fragment.yml");
        assert_eq!(got, Ok(PathBuf::from("fragments/y.fragment.yml")));
    }

    #[test]
    fn refuses_escapes_absolute_paths_and_other_names() {
        assert_eq!(
            resolve(Path::new(""), "../x.fragment.yaml"),
            Err(PathError::Escapes("../x.fragment.yaml".into()))
        );
        assert_eq!(
            resolve(Path::new("a"), "../../x.fragment.yaml"),
            Err(PathError::Escapes("../../x.fragment.yaml".into()))
        );
        assert_eq!(
            resolve(Path::new(""), "/etc/x.fragment.yaml"),
            Err(PathError::Absolute("/etc/x.fragment.yaml".into()))
        );
        assert_eq!(resolve(Path::new(""), " "), Err(PathError::Empty));
        assert_eq!(
            resolve(Path::new(""), "x.yaml"),
            Err(PathError::NotAFragmentName("x.yaml".into()))
        );
    }
}
