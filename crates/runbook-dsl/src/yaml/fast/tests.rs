//! Differential tests: wherever the fast path answers, it answers exactly granit's events with
//! exactly granit's spans (and granit finds no error in the file). Run on every YAML file of the
//! repository, on generated corpus runbooks, and on mutated runbooks.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_saphyr::granit_parser::{Event, Parser, Span};

/// Granit's events, or `None` when it reports an error anywhere.
fn granit(text: &str) -> Option<Vec<(Event<'_>, Span)>> {
    Parser::new_from_str(text)
        .collect::<Result<Vec<_>, _>>()
        .ok()
}

/// The fast path's events, or `None` when it declines.
fn fast(text: &str) -> Option<Vec<(Event<'_>, Span)>> {
    let mut events = Vec::new();
    super::parse(text, |event, span| {
        events.push((event, *span));
        true
    })
    .ok()
    .map(|()| events)
}

/// Panics unless the fast path declines `text` or agrees with granit; returns whether it answered.
fn agrees(name: &str, text: &str) -> bool {
    let Some(fast) = fast(text) else {
        return false;
    };
    let Some(granit) = granit(text) else {
        panic!("{name}: the fast path answered where granit reports an error:\n{text}");
    };
    if let Some(at) = (0..fast.len().max(granit.len())).find(|&i| fast.get(i) != granit.get(i)) {
        panic!(
            "{name}: event {at} differs\n  fast:   {:?}\n  granit: {:?}\n{text}",
            fast.get(at),
            granit.get(at)
        );
    }
    true
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// Every YAML file of the repository, and every YAML block of the docs, as (name, text).
fn repository_yaml() -> Vec<(String, String)> {
    let root = repo();
    let mut paths = Vec::new();
    for dir in [
        "runbooks", "examples", "crates", "docs", "benches", "schemas",
    ] {
        yaml_files(&root.join(dir), &mut paths);
    }
    let mut texts: Vec<(String, String)> = paths
        .iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
        .collect();
    let docs = std::fs::read_dir(root.join("docs")).into_iter().flatten();
    for doc in docs.flatten() {
        let Ok(text) = std::fs::read_to_string(doc.path()) else {
            continue;
        };
        // A block's info string names what it is (```yaml runbook): its text starts on the
        // next line.
        for (i, block) in text.split("```yaml").skip(1).enumerate() {
            let Some((_, body)) = block.split_once('\n') else {
                continue;
            };
            if let Some((snippet, _)) = body.split_once("```") {
                let name = format!("{} block {i}", doc.path().display());
                texts.push((name, snippet.into()));
            }
        }
    }
    let blocks = texts
        .iter()
        .filter(|(name, _)| name.contains(" block "))
        .count();
    assert!(blocks > 20, "only {blocks} YAML blocks found in docs/");
    texts.extend(corpus());
    texts
}

/// Runbooks of the lint corpus (`benches/gen_lint_corpus.py`, kept as test data).
fn corpus() -> Vec<(String, String)> {
    [
        ("corpus-0.yaml", include_str!("testdata/corpus-0.yaml")),
        ("corpus-1.yaml", include_str!("testdata/corpus-1.yaml")),
    ]
    .iter()
    .map(|(name, text)| (name.to_string(), text.to_string()))
    .collect()
}

#[test]
fn agrees_with_granit_on_every_yaml_file_of_the_repository() {
    let texts = repository_yaml();
    assert!(texts.len() > 150, "only {} YAML texts found", texts.len());
    let answered = texts
        .iter()
        .filter(|(name, text)| agrees(name, text))
        .count();
    // Most real runbooks are in the subset; if this falls, the fast path stopped paying.
    assert!(
        answered * 10 >= texts.len() * 6,
        "the fast path answered {answered} of {}",
        texts.len()
    );
}

#[test]
fn answers_the_lint_corpus() {
    for (name, text) in corpus() {
        assert!(agrees(&name, &text), "{name} was declined");
    }
}

/// `LINT_CORPUS=DIR cargo test -p runbook-dsl --lib fast -- --ignored`: a whole generated corpus.
#[test]
#[ignore = "needs a generated corpus in LINT_CORPUS"]
fn agrees_on_a_generated_corpus() {
    let dir = std::env::var("LINT_CORPUS").unwrap_or_else(|_| "/tmp/lint-corpus".into());
    let mut paths = Vec::new();
    yaml_files(Path::new(&dir), &mut paths);
    assert!(!paths.is_empty(), "no corpus in {dir}");
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            agrees(&path.display().to_string(), &text),
            "{} declined",
            path.display()
        );
    }
}

#[test]
fn declines_what_it_does_not_read_with_certainty() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "---\na: 1\n",
        "a: 1\n...\n",
        "a: b\n  c\n",
        "a: \"b\n  c\"\n",
        "a:\tb\n",
        "\u{feff}a: 1\n",
        "a: 1",
        "a: \"\\x41\"\n",
        "a: |+\n  b\n",
        "a: >\n  b\n    c\n",
        "? a\n: b\n",
        "a: {{x}}\n",
        "a: b: c\n",
        "- - a\n",
        "a: [b, ]\n",
        "",
        "# only a comment\n",
    ] {
        assert!(fast(text).is_none(), "answered {text:?}");
    }
}

#[test]
fn answers_the_common_shapes_like_granit() {
    for text in [
        "a: 1\nb:\n  - x\n  - y: \"q\"\n    z: |\n      hi\n      there\n# c\nc: [1, {d: e}]\nf:\n- g\n",
        "\"q k\": v # c\nempty:\nn2: # com\n  x: 1\nl:\n- id: a\n  nm: b\n- c\nk3: 'it''s'\n",
        "lit: |-\n  a\n    b\n\n\nfold: >\n  one\n  two\n\nk: v\n",
        "a: \"x\\\"y\\n\"\nb: caf\u{e9} cr\u{e8}me\nc: [\u{e9}, 'd']\n",
        "a:\n  b:\n    c: 1\n  d: {}\ne: []\n",
    ] {
        assert!(agrees("shape", text), "declined {text:?}");
    }
}

/// A text to insert into a runbook: YAML's indicators, and what the fast path declines.
fn insertion() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ":", ": ", "#", " #", "'", "\"", "-", "- ", " ", "  ", "\t", "{", "}", "[", "]", ",",
        "&a ", "*a", "!", "!!str ", "\n", "\n  ", "\n- ", "|", ">", "|-\n", "\\", "\\n", "---\n",
        "?", "%", "@", "`", "~", "\u{e9}", "\u{feff}", "\r", "x: y\n", "{{a}}", "''", "...",
    ])
}

/// A few lines of a repository YAML text with a few insertions and deletions.
fn mutated() -> impl Strategy<Value = String> {
    let texts: Vec<String> = repository_yaml()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    (
        prop::sample::select(texts),
        any::<prop::sample::Index>(),
        1usize..40,
        prop::collection::vec(
            (any::<prop::sample::Index>(), insertion(), any::<bool>()),
            0..6,
        ),
    )
        .prop_map(|(text, start, len, edits)| {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let first = start.index(lines.len().max(1));
            let mut text: String = lines.iter().skip(first).take(len).copied().collect();
            for (at, insert, delete) in edits {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if delete && at < text.len() {
                    text.remove(at);
                } else {
                    text.insert_str(at, insert);
                }
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_granit_on_mutated_runbooks(text in mutated()) {
        agrees("mutated", &text);
    }
}
