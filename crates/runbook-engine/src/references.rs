//! Which step outputs the runbook's templates refer to (`{{steps.ID.outputs.NAME...}}`), anywhere:
//! so the run can let go of a large output nothing will ever read, instead of keeping, say, six
//! 10 MiB response bodies (each a parsed tree of some 200 MB) until the run ends.
//!
//! Every reference is a [`runbook_dsl::RefPath::StepOutput`] somewhere in the checked model: in
//! conditions, in the fields of every step kind, in rollback steps, groups, `finally`. A walk over
//! those fields would have to grow with every field the DSL adds and would silently miss a new one,
//! dropping an output a step needs. The model's derived `Debug` prints every field, recursively,
//! so it is scanned instead; anything it cannot read makes the answer "keep everything".

use std::collections::HashSet;

use std::sync::OnceLock;

use runbook_dsl::Runbook;

/// The runbook's references to step outputs, worked out the first time they are asked about (a
/// run without large outputs never pays for the scan).
pub(crate) struct References<'r> {
    runbook: &'r Runbook,
    found: OnceLock<Option<HashSet<(String, String)>>>,
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
        match self.found.get_or_init(|| referenced_outputs(self.runbook)) {
            Some(found) => found.contains(&(step.to_owned(), output.to_owned())),
            None => true,
        }
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
}

/// `(step id, output name)` pairs some template refers to; `None` when that cannot be told (then
/// every output must be kept).
pub(crate) fn referenced_outputs(runbook: &Runbook) -> Option<HashSet<(String, String)>> {
    const MARK: &str = "StepOutput { step: ";
    let text = format!(
        "{:?}",
        (&runbook.steps, &runbook.on_failure, &runbook.finally)
    );
    let mut found = HashSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(MARK) {
        rest = rest.get(at + MARK.len()..)?;
        let (step, after) = debug_str(rest)?;
        let after = after.strip_prefix(", output: ")?;
        let (output, after) = debug_str(after)?;
        found.insert((step, output));
        rest = after;
    }
    Some(found)
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
                // `\u{...}`: not a character an id or output name can hold.
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

    fn pairs(list: &[(&str, &str)]) -> HashSet<(String, String)> {
        list.iter()
            .map(|(step, output)| ((*step).to_owned(), (*output).to_owned()))
            .collect()
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
            referenced_outputs(&runbook),
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
        assert_eq!(debug_str(r#""\u{1b}""#), None);
        assert_eq!(debug_str("no quote"), None);
    }
}
