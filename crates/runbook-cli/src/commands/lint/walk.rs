//! Which files `runbook lint` reads: every file named on the command line, and the runbooks found by
//! walking directories the way ripgrep does (the `ignore` crate: `.gitignore`, `.ignore`,
//! `.git/info/exclude`, hidden files and folders skipped), in sorted order.
//!
//! A file found in a directory is a runbook when it is a `.yaml`/`.yml` file, not an answers or
//! rehearsal file (`*.answers.yaml`, `*.rehearsal.yaml`), and one of:
//! 1. its name ends with `.runbook.yaml` / `.runbook.yml`;
//! 2. its leading comments carry a schema modeline naming a runbook schema
//!    (`# yaml-language-server: $schema=...runbook...`);
//! 3. it has a top-level `steps:` whose first item is a mapping with an `id:` (a cheap look at the
//!    text, not a parse).
//!
//! A fragment (`*.fragment.yaml`, `*.fragment.yml`) is always linted, on its own (its parameters
//! standing in for inputs).
//!
//! `--all-yaml` drops the sniff (every YAML file but answers and rehearsal files), and
//! `--include-glob` adds paths matching a glob. Documented in docs/ci.md.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};

use crate::failure::Failure;

/// A file to lint, and whether it was named on the command line (then it is linted whatever it
/// looks like).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub path: PathBuf,
    pub explicit: bool,
    /// Matched `--include-glob` or `--all-yaml`: linted without the sniff.
    pub included: bool,
}

/// How directories are searched.
#[derive(Debug, Default)]
pub struct Selection {
    pub all_yaml: bool,
    /// `--include-glob` patterns, one matcher per walked directory root.
    pub include_globs: Vec<String>,
}

/// Every candidate under `paths`, in the order given (each directory's files sorted by path).
pub fn collect(paths: &[PathBuf], selection: &Selection) -> Result<Vec<Candidate>, Failure> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
        if !metadata.is_dir() {
            candidates.push(Candidate {
                path: path.clone(),
                explicit: true,
                included: true,
            });
            continue;
        }
        let include = include_matcher(path, &selection.include_globs)?;
        let walker = WalkBuilder::new(path)
            // .gitignore applies in a tree that is not (yet) a git repository too: an exported
            // tarball of a repository lints as its checkout does.
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = entry.map_err(|error| {
                Failure::usage(format!("cannot walk {}: {error}", path.display()))
            })?;
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            let file = entry.into_path();
            let globbed = include
                .as_ref()
                .is_some_and(|matcher| matcher.matched(&file, false).is_whitelist());
            if globbed || (is_yaml(&file) && !is_excluded(&file)) {
                candidates.push(Candidate {
                    included: globbed || selection.all_yaml,
                    path: file,
                    explicit: false,
                });
            }
        }
    }
    // The same file given twice (or inside a directory also given) is linted once.
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|candidate| seen.insert(candidate.path.clone()));
    Ok(candidates)
}

fn include_matcher(root: &Path, globs: &[String]) -> Result<Option<Override>, Failure> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = OverrideBuilder::new(root);
    for glob in globs {
        builder
            .add(glob)
            .map_err(|error| Failure::usage(format!("--include-glob {glob}: {error}")))?;
    }
    builder
        .build()
        .map(Some)
        .map_err(|error| Failure::usage(format!("--include-glob: {error}")))
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("")
}

fn is_yaml(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Answers files hold prompt answers: never linted. (Rehearsal files are linted as rehearsals,
/// against their runbook.)
fn is_excluded(path: &Path) -> bool {
    file_name(path).contains(".answers.")
}

/// Rule 1: `*.runbook.yaml` / `*.runbook.yml`.
pub fn named_as_runbook(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".runbook.yaml") || name.ends_with(".runbook.yml")
}

/// Whether a file found in a directory is a runbook (rules 1 to 3 in the module docs).
pub fn looks_like_runbook(path: &Path, text: &str) -> bool {
    named_as_runbook(path) || has_runbook_modeline(text) || has_steps_with_ids(text)
}

fn has_runbook_modeline(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .take_while(|line| line.is_empty() || line.starts_with('#'))
        .filter_map(|line| {
            line.trim_start_matches('#')
                .trim()
                .strip_prefix("yaml-language-server:")
        })
        .any(|setting| setting.contains("$schema=") && setting.contains("runbook"))
}

/// A top-level `steps:` followed by a sequence whose first item has an `id:` key.
fn has_steps_with_ids(text: &str) -> bool {
    let mut lines = text.lines();
    if !lines.any(|line| line.trim_end() == "steps:" || line.starts_with("steps: ")) {
        return false;
    }
    let mut item_indent = None;
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        match item_indent {
            None => {
                let Some(first) = trimmed.strip_prefix("- ") else {
                    return false;
                };
                if is_id_key(first) {
                    return true;
                }
                item_indent = Some(indent);
            }
            Some(dash) => {
                if indent <= dash {
                    return false;
                }
                if indent == dash + 2 && is_id_key(trimmed) {
                    return true;
                }
            }
        }
    }
    false
}

fn is_id_key(text: &str) -> bool {
    text.strip_prefix("id:")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbooks_are_told_from_other_yaml() {
        let path = Path::new("x.yaml");
        assert!(looks_like_runbook(
            path,
            "id: a\nsteps:\n  - id: one\n    shell: {command: x}\n"
        ));
        assert!(looks_like_runbook(
            path,
            "steps:\n- name: first\n  id: one\n"
        ));
        assert!(looks_like_runbook(
            path,
            "# yaml-language-server: $schema=../schemas/runbook.schema.json\nfoo: 1\n"
        ));
        assert!(looks_like_runbook(Path::new("a.runbook.yml"), "x: 1\n"));
        // A GitHub workflow: steps are nested under a job, and have no ids.
        let workflow = "on: push\njobs:\n  build:\n    steps:\n      - uses: actions/checkout@v4\n";
        assert!(!looks_like_runbook(path, workflow));
        let compose = "services:\n  db:\n    image: postgres\n";
        assert!(!looks_like_runbook(
            Path::new("docker-compose.yml"),
            compose
        ));
        assert!(!looks_like_runbook(
            path,
            "steps:\n  - run: make\n  - id: x\n"
        ));
        assert!(!looks_like_runbook(path, "steps: []\n"));
    }

    #[test]
    fn answers_files_are_excluded_and_rehearsal_files_are_not() {
        assert!(is_excluded(Path::new("a/op.answers.yaml")));
        assert!(!is_excluded(Path::new("a/op.rehearsal.yml")));
        assert!(!is_excluded(Path::new("a/op.yaml")));
    }
}
