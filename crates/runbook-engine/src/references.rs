//! Which step outputs the runbook's templates refer to (`{{steps.ID.outputs.NAME...}}`), anywhere,
//! and through which paths: so the run can let go of a large output nothing will ever read,
//! instead of keeping, say, six 10 MiB response bodies (each a parsed tree of some 200 MB) until
//! the run ends, and build only the parts of a body that are read (`steps/partial_json.rs`).
//!
//! Every reference is a [`runbook_dsl::RefPath::StepOutput`] somewhere in the checked model: in
//! conditions, in the fields of every step kind, in rollback steps, groups, `finally`. A walk over
//! those fields would have to grow with every field the DSL adds and would silently miss a new one,
//! dropping an output a step needs. The model's derived `Debug` prints every field, recursively,
//! so it is scanned instead; anything it cannot read makes the answer "keep everything" (and
//! "read it whole"). A string the author wrote cannot pass for a reference: `Debug` escapes its
//! quotes, so a look-alike inside one stops the scan, which is the conservative answer.

use std::collections::{BTreeSet, HashMap};

use std::sync::OnceLock;

use runbook_dsl::Runbook;

/// One way a template reads an output: the path after its name
/// (`{{steps.get.outputs.body.data.0.id}}` reads `["data", "0", "id"]`; the empty path reads the
/// whole output), and whether only the `length` of what is there is read
/// (`{{length steps.get.outputs.body.data}}`): then a list's items and a mapping's values are
/// never looked at, and a large body need not build them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Read {
    pub path: Vec<String>,
    pub only_length: bool,
}

/// Every way templates read one output.
pub type Paths = BTreeSet<Read>;

/// What `Debug` prints just before a reference that is the argument of `length` (which takes
/// exactly one): `{{length steps.get.outputs.body.data}}`.
const LENGTH_OF: &str = "Call { function: Length, args: [Ref(Reference { path: ";

/// Whether the reference whose mark starts at `at` in `rest` (a tail of `text`) is the argument of
/// `length`.
fn is_length_argument(text: &str, rest: &str, at: usize) -> bool {
    let start = text.len() - rest.len() + at;
    text.get(..start)
        .is_some_and(|before| before.ends_with(LENGTH_OF))
}

/// Every `(step id, output name)` some template refers to, with the paths it reads.
type Referenced = HashMap<(String, String), Paths>;

/// The runbook's references to step outputs, worked out the first time they are asked about (a
/// run without large outputs never pays for the scan).
pub(crate) struct References<'r> {
    runbook: &'r Runbook,
    found: OnceLock<Option<Referenced>>,
}

impl<'r> References<'r> {
    pub(crate) fn new(runbook: &'r Runbook) -> Self {
        References {
            runbook,
            found: OnceLock::new(),
        }
    }

    /// Whether some template may read `step`'s `output` (yes when that cannot be told).
    pub(crate) fn reads(&self, step: &str, output: &str) -> bool {
        match self.found() {
            Some(found) => found.contains_key(&(step.to_owned(), output.to_owned())),
            None => true,
        }
    }

    /// The paths through which templates read `step`'s `output` (empty: none do); `None` when
    /// that cannot be told.
    fn paths(&self, step: &str, output: &str) -> Option<Paths> {
        let found = self.found().as_ref()?;
        Some(
            found
                .get(&(step.to_owned(), output.to_owned()))
                .cloned()
                .unwrap_or_default(),
        )
    }

    fn found(&self) -> &Option<Referenced> {
        self.found.get_or_init(|| referenced_outputs(self.runbook))
    }
}

/// One step's view of [`References`]: what a step executor asks before it lets go of an output.
#[derive(Clone, Copy)]
pub struct OutputReaders<'a> {
    references: &'a References<'a>,
    step: &'a runbook_dsl::Step,
}

impl<'a> OutputReaders<'a> {
    pub(crate) fn new(references: &'a References<'a>, step: &'a runbook_dsl::Step) -> Self {
        OutputReaders { references, step }
    }

    /// Whether a template other than the step's own `assert` may read its `output`.
    pub fn later_read(&self, output: &str) -> bool {
        self.references.reads(&self.step.id, output)
    }

    /// Every path through which a template may read this step's `output`: later templates, and
    /// the step's own `assert` and `until` (`{{outputs.NAME...}}`). `None` when that cannot be
    /// told: then the output must be there whole.
    pub fn paths(&self, output: &str) -> Option<Paths> {
        let mut paths = self.references.paths(&self.step.id, output)?;
        paths.extend(own_paths(self.step, output)?);
        Some(paths)
    }
}

/// `(step id, output name)` pairs some template refers to, with the paths it reads; `None` when
/// that cannot be told (then every output must be kept, whole).
pub(crate) fn referenced_outputs(runbook: &Runbook) -> Option<Referenced> {
    const MARK: &str = "StepOutput { step: ";
    let text = format!(
        "{:?}",
        (&runbook.steps, &runbook.on_failure, &runbook.finally)
    );
    let mut found: Referenced = HashMap::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(MARK) {
        let only_length = is_length_argument(&text, rest, at);
        rest = rest.get(at + MARK.len()..)?;
        let (step, after) = debug_str(rest)?;
        let after = after.strip_prefix(", output: ")?;
        let (output, after) = debug_str(after)?;
        let after = after.strip_prefix(", rest: ")?;
        let (path, after) = debug_list(after)?;
        found
            .entry((step, output))
            .or_default()
            .insert(Read { path, only_length });
        rest = after;
    }
    Some(found)
}

/// The paths through which `step`'s own templates (`{{outputs.NAME...}}`, in its `assert` and
/// `until`) read its `output`. The whole step is scanned, rollback steps included: a path too many
/// only makes a partial tree larger.
fn own_paths(step: &runbook_dsl::Step, output: &str) -> Option<Paths> {
    const MARK: &str = "OwnOutput { output: ";
    let text = format!("{step:?}");
    let mut found = Paths::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(MARK) {
        let only_length = is_length_argument(&text, rest, at);
        rest = rest.get(at + MARK.len()..)?;
        let (name, after) = debug_str(rest)?;
        let after = after.strip_prefix(", rest: ")?;
        let (path, after) = debug_list(after)?;
        if name == output {
            found.insert(Read { path, only_length });
        }
        rest = after;
    }
    Some(found)
}

/// A list of strings as `Debug` prints it (`["a", "b"]`), at the start of `text`: its items and
/// what follows.
fn debug_list(text: &str) -> Option<(Vec<String>, &str)> {
    let mut rest = text.strip_prefix('[')?;
    let mut items = Vec::new();
    if let Some(after) = rest.strip_prefix(']') {
        return Some((items, after));
    }
    loop {
        let (item, after) = debug_str(rest)?;
        items.push(item);
        match after.strip_prefix(", ") {
            Some(next) => rest = next,
            None => return Some((items, after.strip_prefix(']')?)),
        }
    }
}

/// A string literal as `Debug` prints it, at the start of `text`: its value and what follows.
fn debug_str(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut value = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((value, text.get(at + 2..)?)),
            '\\' => match chars.next()?.1 {
                '"' => value.push('"'),
                '\\' => value.push('\\'),
                '\'' => value.push('\''),
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                '0' => value.push('\0'),
                // `\u{1b}`: a character `Debug` does not print as itself (a key of a response
                // body can hold one).
                'u' => {
                    if chars.next()?.1 != '{' {
                        return None;
                    }
                    let mut code = 0u32;
                    loop {
                        let digit = chars.next()?.1;
                        if digit == '}' {
                            break;
                        }
                        code = code.checked_mul(16)?.checked_add(digit.to_digit(16)?)?;
                    }
                    value.push(char::from_u32(code)?);
                }
                _ => return None,
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use runbook_dsl::Source;
    use std::collections::BTreeSet;

    fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(step, output)| ((*step).to_owned(), (*output).to_owned()))
            .collect()
    }

    fn checked(text: &str) -> Runbook {
        let source = Source::new("refs.yaml", text);
        runbook_dsl::load_and_check(&source).unwrap_or_else(|findings| panic!("{findings:#?}"))
    }

    fn paths(list: &[&[&str]]) -> Paths {
        list.iter().map(|path| whole(path)).collect()
    }

    fn whole(path: &[&str]) -> Read {
        Read {
            path: path.iter().map(|segment| (*segment).to_owned()).collect(),
            only_length: false,
        }
    }

    fn length_of(path: &[&str]) -> Read {
        Read {
            only_length: true,
            ..whole(path)
        }
    }

    #[test]
    fn finds_references_in_every_kind_of_place() {
        let text = r#"id: refs
title: References
steps:
  - {id: a, shell: {command: "echo a"}}
  - {id: b, shell: {command: "echo b"}}
  - {id: c, shell: {command: "echo c"}}
  - {id: d, shell: {command: "echo d"}}
  - {id: e, shell: {command: "echo e"}}
  - {id: f, shell: {command: "echo f"}}
  - {id: unused, shell: {command: "echo only the end reads me"}}
  - {id: nobody, shell: {command: "echo nobody reads me"}}
  - id: uses
    when: {that: "{{steps.a.outputs.stdout}}", equals: "a"}
    http:
      method: POST
      url: "http://127.0.0.1:1/{{steps.b.outputs.stdout}}"
      headers: {X-C: "{{steps.c.outputs.exit_code}}"}
      json: {nested: ["{{steps.d.outputs.stderr}}"]}
    rollback:
      - {id: undo, shell: {command: "echo {{steps.e.outputs.stdout}}"}}
  - id: grp
    group:
      steps:
        - {id: inner, assert: [{that: "1", equals: "1"}]}
      finally:
        - {id: fin, assert: [{that: "1", equals: "1", message: "{{steps.f.outputs.stdout}}"}]}
finally:
  - {id: last, assert: [{that: "{{steps.unused.outputs.exit_code}}", equals: "0"}]}
"#;
        let source = Source::new("refs.yaml", text);
        let runbook =
            runbook_dsl::load_and_check(&source).unwrap_or_else(|findings| panic!("{findings:#?}"));
        assert_eq!(
            referenced_outputs(&runbook).map(|found| found.into_keys().collect()),
            Some(pairs(&[
                ("a", "stdout"),
                ("b", "stdout"),
                ("c", "exit_code"),
                ("d", "stderr"),
                ("e", "stdout"),
                ("f", "stdout"),
                ("unused", "exit_code"),
            ]))
        );
    }

    #[test]
    fn reads_debug_strings_with_escapes() {
        assert_eq!(
            debug_str(r#""a\"b\\c", rest"#),
            Some(("a\"b\\c".to_owned(), ", rest"))
        );
        assert_eq!(
            debug_str(r#""\u{1b}é\u{10ffff}", x"#),
            Some(("\u{1b}é\u{10ffff}".to_owned(), ", x"))
        );
        for text in [
            r#""\u{110000}""#,
            r#""\u{zz}""#,
            r#""\u1b""#,
            r#""\x""#,
            "no quote",
        ] {
            assert_eq!(debug_str(text), None, "{text}");
        }
        assert_eq!(
            debug_list(r#"["a", "\"", "0"] }"#),
            Some((vec!["a".to_owned(), "\"".to_owned(), "0".to_owned()], " }"))
        );
        assert_eq!(debug_list("[] }"), Some((Vec::new(), " }")));
        assert_eq!(debug_list(r#"["a" "b"]"#), None);
    }

    #[test]
    fn every_path_a_template_reads_is_found_with_the_steps_own() {
        let runbook = checked(
            r#"id: paths
title: Paths
steps:
  - id: get
    http:
      url: "http://127.0.0.1:1/x"
      assert:
        - {that: "{{outputs.body.status}}", equals: "ok"}
        - {that: "{{outputs.status}}", equals: 200}
    until: {that: "{{outputs.body.state.[0]}}", equals: "done"}
    poll: {interval: 1s, timeout: 5s}
  - id: later
    when: {that: "{{steps.get.outputs.body.data.0.id}}", equals: "x"}
    shell: {command: "echo {{steps.get.outputs.body.[odd key].é}} {{length steps.get.outputs.body.list}}"}
  - id: whole
    shell: {command: "echo {{steps.later.outputs.stdout}}"}
"#,
        );
        let references = References::new(&runbook);
        let get = &runbook.steps[0];
        let readers = OutputReaders::new(&references, get);
        assert_eq!(
            readers.paths("body"),
            Some(Paths::from([
                whole(&["data", "0", "id"]),
                whole(&["odd key", "é"]),
                length_of(&["list"]),
                whole(&["status"]),
                whole(&["state", "0"]),
            ]))
        );
        assert_eq!(readers.paths("headers"), Some(Paths::new()));
        let later = OutputReaders::new(&references, &runbook.steps[1]);
        assert_eq!(later.paths("stdout"), Some(paths(&[&[]])));
    }
}
