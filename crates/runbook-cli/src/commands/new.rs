//! `runbook new NAME`: writes NAME.yaml, a commented skeleton (schema modeline, SOP header, one
//! input, one step of each common kind) that lints clean with `--deny warnings`, and beside it
//! NAME.rehearsal.yaml, whose scenarios (happy, unhealthy, service down, operator says no) all
//! match: an author starts from a runbook that is rehearsed, and keeps it so. It never
//! overwrites a file: the skeleton is a start, and a start must not cost anyone their work.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::args::NewArgs;
use crate::failure::Failure;

/// The skeleton, with `__ID__`, `__TITLE__`, `__FILE__` and `__SCHEMA__` to fill in.
const SKELETON: &str = include_str!("new_skeleton.yaml");

/// Its rehearsal, with `__RUNBOOK__` (the runbook's file name), `__FILE__` and `__SCHEMA__`. It
/// names the skeleton's step ids and host: a test rehearses what `new` writes, so the two cannot
/// drift apart.
const REHEARSAL: &str = include_str!("new_rehearsal.yaml");

/// Where the schemas live in this repository layout (`runbook schema --out` writes them
/// elsewhere).
const SCHEMA_IN_REPO: &str = "schemas/runbook.schema.json";
const REHEARSAL_SCHEMA_IN_REPO: &str = "schemas/rehearsal.schema.json";

pub fn run(args: &NewArgs) -> anyhow::Result<()> {
    let path = target_path(&args.name);
    let id = runbook_id(&path)?;
    let rehearsal_path = runbook_dsl::rehearsal::rehearsal_path_for(&path);
    // Both files or neither: refuse before writing the first if the second is there.
    if rehearsal_path.exists() {
        return Err(exists(&rehearsal_path).into());
    }
    let text = skeleton(&id, &path, &schema_reference(&path, SCHEMA_IN_REPO));
    create(&path, &text)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rehearsal = REHEARSAL
        .replace(
            "__SCHEMA__",
            &schema_reference(&path, REHEARSAL_SCHEMA_IN_REPO),
        )
        .replace("__RUNBOOK__", &file_name)
        .replace("__FILE__", &path.display().to_string());
    create(&rehearsal_path, &rehearsal)?;
    println!(
        "wrote {} and {}; next: `runbook lint {} --deny warnings`, then `runbook rehearse {}`",
        path.display(),
        rehearsal_path.display(),
        path.display(),
        path.display()
    );
    Ok(())
}

fn exists(path: &Path) -> Failure {
    Failure::usage(format!(
        "{} already exists; `runbook new` never overwrites a file: choose another name or remove \
         it first",
        path.display()
    ))
}

/// Writes a file that must not exist yet.
fn create(path: &Path, text: &str) -> Result<(), Failure> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::AlreadyExists {
                exists(path)
            } else {
                Failure::usage(format!("cannot create {}: {error}", path.display()))
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|error| Failure::environment(format!("cannot write {}: {error}", path.display())))
}

/// `NAME` or `NAME.yaml` (or `.yml`) -> the file to write.
fn target_path(name: &str) -> PathBuf {
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.yaml"))
    }
}

/// The file's stem is the runbook id, so it must be one.
fn runbook_id(path: &Path) -> Result<String, Failure> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let valid = stem.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(Failure::usage(format!(
            "`{stem}` cannot be a runbook id (the file name becomes the id): use lowercase letters, \
             digits, `-` and `_`, starting with a letter, e.g. `rotate-db-password`"
        )));
    }
    Ok(stem.to_owned())
}

/// The modeline's schema path: the repository's schema (`in_repo`) when the file is inside a
/// checkout that has one, else its file name next to the file (`runbook schema --out` writes it).
fn schema_reference(path: &Path, in_repo: &str) -> String {
    let fallback = Path::new(in_repo)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        Some(_) | None => PathBuf::from("."),
    };
    let Ok(start) = std::path::absolute(&parent) else {
        return fallback;
    };
    for (depth, dir) in start.ancestors().enumerate() {
        if dir.join(in_repo).is_file() {
            return format!("{}{in_repo}", "../".repeat(depth));
        }
    }
    fallback
}

fn skeleton(id: &str, path: &Path, schema: &str) -> String {
    let title = id.replace(['-', '_'], " ");
    let title = match title.chars().next() {
        Some(first) => format!(
            "{}{}",
            first.to_ascii_uppercase(),
            &title[first.len_utf8()..]
        ),
        None => title,
    };
    SKELETON
        .replace("__SCHEMA__", schema)
        .replace("__ID__", id)
        .replace("__TITLE__", &title)
        .replace("__FILE__", &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_files_and_ids() {
        assert_eq!(target_path("rotate-db"), PathBuf::from("rotate-db.yaml"));
        assert_eq!(target_path("ops/x.yml"), PathBuf::from("ops/x.yml"));
        assert_eq!(
            runbook_id(Path::new("ops/rotate_db.yaml")).ok(),
            Some("rotate_db".into())
        );
        assert!(runbook_id(Path::new("Rotate DB.yaml")).is_err());
        assert!(runbook_id(Path::new(".yaml")).is_err());
    }
}
