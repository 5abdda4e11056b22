//! Fragments: a group of steps in its own file (`NAME.fragment.yaml`) with typed parameters, run
//! from a runbook by a step with `use: PATH` and `with:` arguments.
//!
//! The shape is GitHub Actions' composite action (`uses:` + `with:`, parameters declared with
//! types and defaults, nothing visible across the boundary but the arguments), not Ansible's
//! `include_tasks` (which shares every variable with the includer) nor just's `import` (textual
//! inclusion): a fragment can be checked alone, and what it reads is exactly what its `with:`
//! gives it. See docs/dsl.md, "Fragments".
//!
//! Loading puts the runbook and every fragment it uses into one address space (a [`SourceMap`]):
//! each fragment file is parsed at its own base offset, so every span the check pass makes is
//! unique across files and the check pass, which slices text by span, works on fragment steps
//! unchanged. Findings and run-time locations are mapped back to `file:line:column` in the right
//! file at the end.

mod load;
pub mod path;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::finding::{Finding, Note};
use crate::source::{Source, Span};

pub(crate) use load::{Expansion, expand};

/// Where fragment files are read from: the file system for the CLI, a map in tests.
pub trait FragmentFiles: Sync {
    /// The text of the file at `path`, or why it cannot be read.
    fn read(&self, path: &Path) -> Result<String, String>;
}

/// Fragments read from the file system (with `std::fs`: no async runtime is involved).
#[derive(Debug, Clone, Copy, Default)]
pub struct FsFragments;

impl FragmentFiles for FsFragments {
    fn read(&self, path: &Path) -> Result<String, String> {
        let metadata = std::fs::metadata(path).map_err(|error| error.to_string())?;
        if metadata.len() > crate::yaml::MAX_SOURCE_BYTES as u64 {
            return Err(format!(
                "the file is {} bytes; the limit is {} bytes",
                metadata.len(),
                crate::yaml::MAX_SOURCE_BYTES
            ));
        }
        std::fs::read_to_string(path).map_err(|error| error.to_string())
    }
}

/// No fragment can be read: for checking text that must not reach the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFragments;

impl FragmentFiles for NoFragments {
    fn read(&self, _path: &Path) -> Result<String, String> {
        Err("fragments are not read here".to_owned())
    }
}

/// The SHA-256 of a file's text, hex: the journal records it for the runbook and each fragment so
/// `runbook resume` notices a changed file.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A fragment file a runbook uses (once per file, however often it is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentFile {
    /// The file, as opened: the runbook's folder joined with the resolved `use:` path.
    pub path: PathBuf,
    /// [`content_hash`] of its text.
    pub sha256: String,
}

/// One fragment use's place in the address space.
#[derive(Debug, Clone)]
struct Region {
    /// Where the fragment's text starts.
    base: usize,
    /// The fragment file itself (spans local to it).
    source: Arc<Source>,
    /// The `use:` value that loaded it, in the address space.
    use_site: Span,
}

/// The runbook and the fragments it uses as one address space: a span past the runbook's text
/// points into a fragment.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// Ordered by base.
    regions: Vec<Region>,
}

/// A span, mapped to the file it is in.
#[derive(Debug, Clone)]
pub struct Located {
    /// The fragment file, or `None` for the runbook itself.
    pub file: Option<Arc<Source>>,
    pub span: Span,
}

impl SourceMap {
    fn region(&self, span: Span) -> Option<&Region> {
        if !span.is_known() {
            return None;
        }
        let index = self
            .regions
            .partition_point(|region| region.base <= span.start);
        index
            .checked_sub(1)
            .and_then(|index| self.regions.get(index))
    }

    /// The file and local span of a span of the address space.
    pub fn locate(&self, span: Span) -> Located {
        match self.region(span) {
            Some(region) => Located {
                file: Some(region.source.clone()),
                span: Span::new(span.start - region.base, span.end - region.base),
            },
            None => Located { file: None, span },
        }
    }

    /// Where the fragment holding `span` is used (itself in the address space), if it is in one.
    pub fn use_site(&self, span: Span) -> Option<Span> {
        self.region(span).map(|region| region.use_site)
    }

    /// A finding of the address space, pointed at its own file, with a note for each `use:` that
    /// led there (innermost first).
    pub fn attach(&self, mut finding: Finding) -> Finding {
        let mut at = finding.span;
        let located = self.locate(at);
        finding.file = located.file;
        finding.span = located.span;
        for note in &mut finding.notes {
            let located = self.locate(note.span);
            note.file = located.file;
            note.span = located.span;
        }
        while let Some(site) = self.use_site(at) {
            let located = self.locate(site);
            finding.notes.push(Note {
                file: located.file,
                span: located.span,
                message: "in the fragment used here".to_owned(),
            });
            at = site;
        }
        finding
    }
}

/// A fragment linted on its own, as a runbook: its parameters become inputs (of the same types,
/// secrets and defaults), and the frame binds `{{params.NAME}}` to them.
pub(crate) fn as_runbook(
    fragment: crate::raw::RawFragment,
) -> (crate::raw::RawRunbook, crate::check::StandaloneFrame) {
    use crate::raw::{RawInput, RawRunbook};
    let mut params = Vec::new();
    let mut inputs = indexmap::IndexMap::new();
    for (name, param) in fragment.params {
        let span = param.loc;
        params.push(name.clone());
        let param = param.value;
        inputs.insert(
            name,
            crate::Spanned {
                value: RawInput {
                    kind: param.kind,
                    default: param.default,
                    description: param.description,
                    env: None,
                    secret: param.secret,
                },
                loc: span,
            },
        );
    }
    let runbook = RawRunbook {
        id: fragment.fragment,
        title: fragment.title,
        description: fragment.description,
        version: None,
        mode: None,
        required_role: None,
        average_duration: None,
        applies_to: Vec::new(),
        when_to_run: None,
        prerequisites: Vec::new(),
        references: Vec::new(),
        gotchas: Vec::new(),
        preconditions: Vec::new(),
        inputs,
        steps: fragment.steps,
        on_failure: Vec::new(),
        finally: fragment.finally,
    };
    (runbook, crate::check::StandaloneFrame::new(params))
}

/// A finding about an input of a fragment linted alone is about one of its parameters (they stand
/// in as inputs): said so, with `{{params.NAME}}` for `{{inputs.NAME}}`.
pub(crate) fn as_parameter_finding(mut finding: Finding) -> Finding {
    use crate::finding::FindingCode;
    let about_inputs = matches!(
        finding.code,
        FindingCode::UnusedInput | FindingCode::InvalidInput
    );
    if about_inputs && finding.file.is_none() {
        finding.message = said_of_parameters(&finding.message);
        finding.help = finding.help.as_deref().map(said_of_parameters);
        finding.label = finding.label.as_deref().map(said_of_parameters);
    }
    finding
}

fn said_of_parameters(text: &str) -> String {
    text.replace("input `", "parameter `")
        .replace("{{inputs.", "{{params.")
        .replace(
            "; pass it with `env:` or `--input`",
            "; the runbook passes it",
        )
}

#[cfg(test)]
mod tests;
