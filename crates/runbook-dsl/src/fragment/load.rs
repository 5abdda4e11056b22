//! Reading the fragments a runbook uses, each into its place in the address space, refusing
//! cycles, escapes and unbounded expansion.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::path::{PathError, resolve};
use super::{FragmentFile, FragmentFiles, Region, SourceMap, content_hash};
use crate::finding::{Finding, FindingCode};
use crate::raw::{RawFragment, RawStep};
use crate::source::{Source, Span};
use crate::spanned::Spanned;

/// How deep fragments may use fragments.
pub const MAX_DEPTH: usize = 8;

/// How many fragment uses one runbook may expand to in all: a fragment that uses another twice,
/// nested, would otherwise grow exponentially.
pub const MAX_USES: usize = 256;

/// The runbook with its fragments loaded.
#[derive(Debug)]
pub(crate) struct Expansion {
    /// The runbook's text followed by each fragment's: what the check pass slices spans of.
    pub(crate) combined: Source,
    /// Each loaded fragment, by the byte offset of the `use:` value that loaded it.
    pub(crate) uses: HashMap<u64, UsedFragment>,
    /// Every `use:` that loading looked at (loaded, or reported why not), by the same offset.
    pub(crate) tried: HashSet<u64>,
    pub(crate) map: SourceMap,
    /// Problems found while loading, in the address space.
    pub(crate) findings: Vec<Finding>,
    /// Each fragment file once, in the order first used.
    pub(crate) files: Vec<FragmentFile>,
}

/// A fragment as one `use:` loaded it.
#[derive(Debug)]
pub(crate) struct UsedFragment {
    pub(crate) raw: RawFragment,
    /// Relative to the runbook's folder, as shown to people.
    pub(crate) path: PathBuf,
}

/// Loads every fragment that `lists` (the steps of the file `source`) use, at any depth.
pub(crate) fn expand(
    source: &Source,
    lists: &[&[Spanned<RawStep>]],
    files: &dyn FragmentFiles,
) -> Expansion {
    let root = source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut combined = source.text.clone();
    if combined.is_empty() {
        // A fragment's base must leave room for the padding line (see `load_one`).
        combined.push('\n');
    }
    let mut loader = Loader {
        root,
        files,
        combined,
        uses: HashMap::new(),
        tried: HashSet::new(),
        regions: Vec::new(),
        findings: Vec::new(),
        fragment_files: Vec::new(),
        total: 0,
    };
    let mut stack = Vec::new();
    for list in lists {
        loader.walk(list, Path::new(""), &mut stack);
    }
    let combined = Source::new(&source.path, loader.combined);
    Expansion {
        combined,
        uses: loader.uses,
        tried: loader.tried,
        map: SourceMap {
            regions: loader.regions,
        },
        findings: loader.findings,
        files: loader.fragment_files,
    }
}

struct Loader<'f> {
    root: PathBuf,
    files: &'f dyn FragmentFiles,
    combined: String,
    uses: HashMap<u64, UsedFragment>,
    tried: HashSet<u64>,
    regions: Vec<Region>,
    findings: Vec<Finding>,
    fragment_files: Vec<FragmentFile>,
    total: usize,
}

fn span_of<T>(spanned: &Spanned<T>) -> Option<(u64, Span)> {
    spanned
        .loc
        .bytes
        .map(|(offset, len)| (offset, Span::new(offset as usize, (offset + len) as usize)))
}

impl Loader<'_> {
    /// Every `use:` in a step list, at any depth, from a file in folder `from`.
    fn walk(&mut self, steps: &[Spanned<RawStep>], from: &Path, stack: &mut Vec<PathBuf>) {
        for step in steps {
            let step = &step.value;
            if let Some(path) = &step.use_fragment {
                self.load_use(path, from, stack);
            }
            if let Some(group) = &step.group {
                self.walk(&group.value.steps, from, stack);
                self.walk(&group.value.finally, from, stack);
                self.walk(&group.value.undo, from, stack);
            }
            self.walk(&step.rollback, from, stack);
        }
    }

    fn load_use(&mut self, written: &Spanned<String>, from: &Path, stack: &mut Vec<PathBuf>) {
        let Some((key, at)) = span_of(written) else {
            return;
        };
        self.tried.insert(key);
        let resolved = match resolve(from, &written.value) {
            Ok(resolved) => resolved,
            Err(error) => {
                let (code, help) = match &error {
                    PathError::Empty | PathError::NotAFragmentName(_) => (
                        FindingCode::FragmentNotFound,
                        "name the fragment file `NAME.fragment.yaml`, e.g. \
                         `fragments/pause-trading.fragment.yaml`",
                    ),
                    PathError::Absolute(_) | PathError::Escapes(_) => (
                        FindingCode::FragmentPath,
                        "keep fragments in the runbook's folder (e.g. `fragments/`) and name them \
                         by a relative path",
                    ),
                };
                self.findings.push(
                    Finding::error(code, at, error.to_string())
                        .with_label("not a fragment this runbook can use")
                        .with_help(help),
                );
                return;
            }
        };
        if let Some(first) = stack.iter().position(|path| *path == resolved) {
            let chain: Vec<String> = stack[first..]
                .iter()
                .chain(std::iter::once(&resolved))
                .map(|path| path.display().to_string())
                .collect();
            self.findings.push(
                Finding::error(
                    FindingCode::FragmentCycle,
                    at,
                    format!("fragments use each other in a cycle: {}", chain.join(" → ")),
                )
                .with_label("uses a fragment that is already being used")
                .with_help("a fragment cannot use itself, directly or through others"),
            );
            return;
        }
        if stack.len() >= MAX_DEPTH || self.total >= MAX_USES {
            self.findings.push(
                Finding::error(
                    FindingCode::FragmentCycle,
                    at,
                    format!(
                        "too many fragments: at most {MAX_DEPTH} deep and {MAX_USES} uses in one \
                         runbook"
                    ),
                )
                .with_label("one fragment use too many"),
            );
            return;
        }
        self.total += 1;
        let full = self.root.join(&resolved);
        let text = match self.files.read(&full) {
            Ok(text) => text,
            Err(error) => {
                self.findings.push(
                    Finding::error(
                        FindingCode::FragmentNotFound,
                        at,
                        format!("cannot read fragment {}: {error}", full.display()),
                    )
                    .with_label("no fragment here")
                    .with_help("the path is relative to the file that has this `use:`"),
                );
                return;
            }
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
        if self.combined.len() + text.len() + 1 > crate::yaml::MAX_SOURCE_BYTES {
            self.findings.push(
                Finding::error(
                    FindingCode::FragmentCycle,
                    at,
                    format!(
                        "the runbook and its fragments exceed {} bytes",
                        crate::yaml::MAX_SOURCE_BYTES
                    ),
                )
                .with_label("one fragment too many"),
            );
            return;
        }
        let raw = self.load_one(&full, &text, at);
        if !self.fragment_files.iter().any(|file| file.path == full) {
            self.fragment_files.push(FragmentFile {
                path: full.clone(),
                sha256: content_hash(&text),
            });
        }
        let Some(raw) = raw else {
            return;
        };
        let dir = resolved.parent().map(Path::to_path_buf).unwrap_or_default();
        stack.push(resolved.clone());
        self.walk(&raw.steps, &dir, stack);
        self.walk(&raw.finally, &dir, stack);
        stack.pop();
        self.uses.insert(
            key,
            UsedFragment {
                raw,
                path: resolved,
            },
        );
    }

    /// Parses one fragment at the end of the address space. The parser counts offsets from the
    /// start of the text it is given, so it is given a comment line as long as everything before
    /// the fragment: YAML ignores it, and every span comes out at the fragment's place.
    fn load_one(&mut self, full: &Path, text: &str, use_site: Span) -> Option<RawFragment> {
        self.combined.push('\n');
        let base = self.combined.len();
        self.combined.push_str(text);
        let mut padded = String::with_capacity(base + text.len());
        padded.push('#');
        padded.extend(std::iter::repeat_n(' ', base.saturating_sub(2)));
        padded.push('\n');
        padded.push_str(text);
        let padded = Source::new(full, padded);
        self.regions.push(Region {
            base,
            source: Arc::new(Source::new(full, text)),
            use_site,
        });
        let (raw, findings, _dropped) = crate::yaml::load_raw_as::<RawFragment>(&padded);
        for mut finding in findings {
            // "The file holds no document" and the like point at the start: the fragment's.
            if finding.span.start < base {
                finding.span = Span::new(base, base);
            }
            self.findings.push(finding);
        }
        raw
    }
}
