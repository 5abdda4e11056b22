//! The partial tree against the whole one: every read path gets the same answer from
//! [`crate::render::resolve`] (the value, or the same "missing" error), over hand-picked and
//! generated documents.

use std::borrow::Cow;

use runbook_dsl::source::Span;
use runbook_dsl::template::{RefPath, Reference};
use serde_json::{Map, Value};

use super::*;
use crate::context::{RunContext, Scope, StepState};

/// What `resolve` says about `path` in `body` (as step `get`'s `body` output).
fn read(body: &Value, path: &[String]) -> Result<Value, crate::render::RenderError> {
    let mut run = RunContext::default();
    let mut outputs = Map::new();
    outputs.insert("body".into(), body.clone());
    run.steps
        .insert("get".into(), StepState::Completed(outputs));
    let reference = Reference {
        path: RefPath::StepOutput {
            step: "get".into(),
            output: "body".into(),
            rest: path.to_vec(),
        },
        text: format!("steps.get.outputs.body.{}", path.join(".")),
        span: Span::UNKNOWN,
    };
    crate::render::resolve(&reference, Scope::new(&run)).map(Cow::into_owned)
}

/// What `{{length ...}}` says about `path` in `body`: the reference's answer, then the function's.
fn length(body: &Value, path: &[String]) -> String {
    let value = read(body, path);
    let length = value
        .clone()
        .map(|value| crate::functions::apply(runbook_dsl::template::Function::Length, &[value]));
    format!("{length:?}")
}

/// Builds the partial tree of `document` for all of `reads` and checks every one of them gets the
/// same answer as from the whole tree: the value at its path, or that value's `length`. Returns
/// the partial tree.
fn same_answers(document: &str, reads: &[Read]) -> Value {
    let whole: Value =
        serde_json::from_str(document).unwrap_or_else(|error| panic!("{document}: {error}"));
    let wanted = Wanted::new(reads);
    let partial =
        build(document.as_bytes(), &wanted).unwrap_or_else(|error| panic!("{document}: {error}"));
    for Read { path, only_length } in reads {
        if *only_length {
            assert_eq!(
                length(&partial, path),
                length(&whole, path),
                "{document}\nlength of {path:?}\npartial {partial}"
            );
        } else {
            assert_eq!(
                read(&partial, path),
                read(&whole, path),
                "{document}\npath {path:?}\npartial {partial}"
            );
        }
    }
    partial
}

/// Reads of each of `paths`, whole.
fn wholes(paths: &[Vec<String>]) -> Vec<Read> {
    paths
        .iter()
        .map(|path| Read {
            path: path.clone(),
            only_length: false,
        })
        .collect()
}

/// Reads of the `length` of each of `paths`.
fn lengths(paths: &[Vec<String>]) -> Vec<Read> {
    paths
        .iter()
        .map(|path| Read {
            path: path.clone(),
            only_length: true,
        })
        .collect()
}

fn path(text: &str) -> Vec<String> {
    text.split('.')
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect()
}

const DOCUMENT: &str = r#"{
    "status": "ok", "none": null, "t": true, "n": 12345678901234567890123.4500,
    "small": -0, "exp": 1e400,
    "data": [{"id": "a", "v": [1, [2, [3]]]}, {"id": "b"}, 7, null, "s", [], {}],
    "dup": {"x": 1}, "dup": {"y": 2}, "dup2": 1, "dup2": {"z": [0]},
    "é\u0301": {"キー": "値", "\ud83d\ude00": 1}, "a.b": 1, "": {"": 2},
    "0": "zero", "obj": {"0": "key zero", "1": ["x"]},
    "$serde_json::private::Number": "a key, not a number here",
    "num": {"$serde_json::private::Number": "1.50"},
    "esc": "tab\tquote\"slash\/"
}"#;

#[test]
fn plain_paths_read_the_same_in_the_partial_tree() {
    let paths: Vec<Vec<String>> = [
        "status",
        "none",
        "none.x",
        "t",
        "t.x",
        "n",
        "n.x",
        "small",
        "exp",
        "data.0.id",
        "data.0.v.1.1.0",
        "data.0.v.1.1.0.x",
        "data.0.v.9",
        "data.1",
        "data.1.id.x",
        "data.2",
        "data.2.x",
        "data.3",
        "data.3.x",
        "data.4.0",
        "data.5.0",
        "data.6.0",
        "data.7",
        "data.99",
        "data.-1",
        "data.01.id",
        "data.+1.id",
        "data.id",
        "data.1e0",
        "dup.x",
        "dup.y",
        "dup2.z.0",
        "dup2.x",
        "é\u{301}.キー",
        "é\u{301}.😀",
        "é.キー",
        "a.b",
        "0",
        "obj.0",
        "obj.1.0",
        "obj.2",
        "$serde_json::private::Number",
        "num",
        "num.$serde_json::private::Number",
        "esc",
        "missing",
        "missing.deeper",
    ]
    .iter()
    .map(|text| path(text))
    .chain([
        vec![String::new(), String::new()],
        vec!["a.b".to_owned()],
        vec!["data".to_owned(), "18446744073709551616".to_owned()],
    ])
    .collect();
    let partial = same_answers(DOCUMENT, &wholes(&paths));
    // Each path alone, too, and its length alone: no read leans on another.
    for one in &paths {
        same_answers(DOCUMENT, &wholes(std::slice::from_ref(one)));
        same_answers(DOCUMENT, &lengths(std::slice::from_ref(one)));
    }
    // Every length with every path.
    let mut both = wholes(&paths);
    both.extend(lengths(&paths));
    both.extend(lengths(&[Vec::new()]));
    same_answers(DOCUMENT, &both);
    // Only what is read is kept.
    assert!(partial.get("esc").is_some());
    let Some(Value::Array(data)) = partial.get("data") else {
        panic!("{partial}");
    };
    assert_eq!(data.len(), 7, "{partial}");
    assert_eq!(
        data[0].get("v").map(|v| v.to_string()).as_deref(),
        Some("[null,[null,[3]]]")
    );
}

#[test]
fn a_path_to_a_value_keeps_all_of_it() {
    let document = r#"{"keep": {"a": [1, {"b": 2}], "c": "d"}, "drop": {"x": 1}}"#;
    let partial = same_answers(document, &wholes(&[path("keep"), path("keep.a.1.b")]));
    assert_eq!(
        partial,
        serde_json::json!({"keep": {"a": [1, {"b": 2}], "c": "d"}})
    );
}

#[test]
fn a_length_alone_keeps_every_item_and_key_but_no_value() {
    let document = r#"{"list": [{"a": 1}, [2], "three", 4], "map": {"x": [1], "y": 2, "x": 3},
        "text": "héllo", "n": 5}"#;
    let partial = same_answers(
        document,
        &lengths(&[path("list"), path("map"), path("text"), path("n")]),
    );
    assert_eq!(
        partial,
        serde_json::json!({"list": [null, null, null, null], "map": {"x": null, "y": null},
            "text": "héllo", "n": 5})
    );
    // With a path on through the list, that item is built and the others still counted.
    let mut reads = lengths(&[path("list")]);
    reads.extend(wholes(&[path("list.1.0")]));
    let partial = same_answers(document, &reads);
    assert_eq!(
        partial,
        serde_json::json!({"list": [null, [2], null, null]})
    );
    // A whole read of the same path wins: the value is built whole.
    let mut reads = lengths(&[path("map")]);
    reads.extend(wholes(&[path("map")]));
    let partial = same_answers(document, &reads);
    assert_eq!(partial, serde_json::json!({"map": {"x": 3, "y": 2}}));
}

#[test]
fn bytes_that_are_not_json_are_refused_as_a_parse_would() {
    let wanted = Wanted::new(&wholes(&[path("a")]));
    for text in [
        r#"{"a": 1"#,
        r#"{"a": 1} x"#,
        "",
        "nope",
        r#"{"a": [1,]}"#,
        r#"{"b": [1,]}"#,
        r#"{"a": 1, "b": tru}"#,
        "\u{feff}{}",
        &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
    ] {
        assert!(build(text.as_bytes(), &wanted).is_err(), "{text}");
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
    }
    // Bytes that are not UTF-8, in a string the path skips.
    let not_utf8: &[u8] = b"{\"b\": \"\xff\", \"a\": 1}";
    assert!(serde_json::from_slice::<Value>(not_utf8).is_err());
    assert!(build(not_utf8, &wanted).is_err());
    assert!(
        super::super::lazy_json::select(not_utf8, &[super::super::lazy_json::Step::Name("a")])
            .is_err()
    );
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(120), "]".repeat(120));
    assert!(serde_json::from_str::<Value>(&deep).is_ok());
    assert!(build(deep.as_bytes(), &wanted).is_ok());
}

#[test]
fn the_secret_scan_finds_what_the_tree_scan_finds() {
    let mut redactor = Redactor::default();
    redactor.add("s3cret-token-value");
    redactor.add("987654321987654321");
    for (document, expected) in [
        (r#"{"a": "s3cret-token-value"}"#, true),
        (
            r#"{"a": ["x", {"b": "pre s3cret-token-value post"}]}"#,
            true,
        ),
        (r#"{"s3cret-token-value": 1}"#, true),
        (r#"{"a": "s3cret-token-\u0076alue"}"#, true),
        (r#"{"a": 987654321987654321}"#, true),
        (r#"{"a": "s3cret-token-valu", "b": "e"}"#, false),
        (r#"{"a": 1, "b": [true, null, 2.5]}"#, false),
    ] {
        let whole: Value = serde_json::from_str(document).unwrap_or_default();
        assert_eq!(
            redactor.finds_secret_in_value(&whole),
            expected,
            "{document}"
        );
        assert_eq!(
            holds_secret(document.as_bytes(), &redactor),
            expected,
            "{document}"
        );
    }
    assert!(!holds_secret(
        br#"{"a": "s3cret-token-value"}"#,
        &Redactor::default()
    ));
}

use crate::steps::tests_support::Rng;

const KEYS: [&str; 8] = [
    "a",
    "b",
    "0",
    "1",
    "01",
    "é",
    "$serde_json::private::Number",
    "",
];
const SCALARS: [&str; 10] = [
    "null",
    "true",
    "false",
    "0",
    "-12.50",
    "123456789012345678901234567890",
    "1e-7",
    r#""text""#,
    r#""\u00e9\n""#,
    r#""""#,
];

/// A JSON text (repeated keys allowed: they are text, not a map).
fn document(rng: &mut Rng, depth: u32) -> String {
    match (depth, rng.below(4)) {
        (0, _) | (_, 0) => SCALARS[rng.below(SCALARS.len() as u64)].to_owned(),
        (_, 1) => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| document(rng, depth - 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let fields: Vec<String> = (0..rng.below(4))
                .map(|_| {
                    let key = serde_json::to_string(KEYS[rng.below(KEYS.len() as u64)])
                        .unwrap_or_default();
                    format!("{key}:{}", document(rng, depth - 1))
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

fn random_path(rng: &mut Rng) -> Vec<String> {
    (0..=rng.below(4))
        .map(|_| match rng.below(5) {
            0 => "2".to_owned(),
            1 => "+1".to_owned(),
            _ => KEYS[rng.below(KEYS.len() as u64)].to_owned(),
        })
        .collect()
}

/// A path that follows `value` for a while (a key it has, an index in range, written as `"1"`,
/// `"01"` or `"+1"`), then maybe goes one step beyond it.
fn walk(rng: &mut Rng, mut value: &Value) -> Vec<String> {
    let mut path = Vec::new();
    loop {
        let next = match value {
            Value::Object(fields) if !fields.is_empty() && rng.below(5) > 0 => fields
                .iter()
                .nth(rng.below(fields.len() as u64))
                .map(|(key, item)| (key.clone(), item)),
            Value::Array(items) if !items.is_empty() && rng.below(5) > 0 => {
                let at = rng.below(items.len() as u64);
                let written = match rng.below(4) {
                    0 => format!("0{at}"),
                    1 => format!("+{at}"),
                    _ => at.to_string(),
                };
                items.get(at).map(|item| (written, item))
            }
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_)
            | Value::Object(_) => None,
        };
        match next {
            Some((segment, item)) => {
                path.push(segment);
                value = item;
            }
            None => break,
        }
    }
    if path.is_empty() || rng.below(3) == 0 {
        path.push(KEYS[rng.below(KEYS.len() as u64)].to_owned());
    }
    path
}

#[test]
fn generated_documents_and_paths_read_the_same() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut read_something = 0;
    for _ in 0..3000 {
        let text = document(&mut rng, 4);
        if serde_json::from_str::<Value>(&text).is_err() {
            // A number's private key with a value that is not a number's text: refused by both.
            assert!(
                build(text.as_bytes(), &Wanted::new(&wholes(&[path("a")]))).is_err(),
                "{text}"
            );
            continue;
        }
        let whole: Value = serde_json::from_str(&text).unwrap_or_default();
        let reads: Vec<Read> = (0..=rng.below(5))
            .map(|_| Read {
                path: match rng.below(3) {
                    0 => random_path(&mut rng),
                    _ => walk(&mut rng, &whole),
                },
                only_length: rng.below(3) == 0,
            })
            .collect();
        read_something += reads
            .iter()
            .filter(|r| read(&whole, &r.path).is_ok())
            .count();
        same_answers(&text, &reads);
    }
    // The generator is not so random that every path misses.
    assert!(read_something > 1000, "{read_something}");
}
