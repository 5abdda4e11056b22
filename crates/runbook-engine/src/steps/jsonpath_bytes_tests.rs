//! JSONPath over the bytes against jsonpath_rust over the parsed tree: the same values in the same
//! order, on hand-picked and generated documents and queries.

use serde_json::Value;

use super::*;

/// What jsonpath_rust selects in the tree, and what [`select_each`] selects in the bytes.
fn both(document: &str, query: &str) -> (Vec<Value>, Vec<Value>) {
    let parsed = jsonpath_rust::parser::parse_json_path(query)
        .unwrap_or_else(|error| panic!("{query}: {error}"));
    assert!(answerable(&parsed), "{query}");
    let tree: Value =
        serde_json::from_str(document).unwrap_or_else(|error| panic!("{document}: {error}"));
    let theirs: Vec<Value> = jsonpath_rust::query::js_path_process(&parsed, &tree)
        .unwrap_or_else(|error| panic!("{query}: {error}"))
        .into_iter()
        .map(|found| found.val().clone())
        .collect();
    let mut ours = Vec::new();
    select_each(document.as_bytes(), &parsed, &mut |raw| {
        ours.push(
            serde_json::from_str::<Value>(raw)
                .unwrap_or_else(|error| panic!("{document} {query}: {raw} is not JSON: {error}")),
        );
    })
    .unwrap_or_else(|error| panic!("{document} {query}: {error}"));
    (theirs, ours)
}

fn same(document: &str, query: &str) -> usize {
    let (theirs, ours) = both(document, query);
    assert_eq!(ours, theirs, "{document}\n{query}");
    theirs.len()
}

const DOCUMENT: &str = r#"{
    "data": [{"i": 0, "s": "v0", "b": true}, {"i": 1, "s": "v1", "b": false},
             {"i": 2, "nested": {"deep": [1, [2, {"i": 3}]]}}, 7, null, "text", [], {}],
    "z": {"b": 1, "a": 2, "b": 3},
    "n": 12345678901234567890123.4500,
    "num": {"$serde_json::private::Number": "1.50"},
    "not_num": {"x": 1, "$serde_json::private::Number": "2"},
    "esc\"aped": {"\u00e9": "\ud83d\ude00", "a\/b": "c\nd"},
    "": {"": [0]},
    "bs\\":["\\" ,"\\\"",-1.5e-3 , 2E+2,{"k\\":[ ]},	true	,false]
}"#;

#[test]
fn hand_picked_queries_select_what_the_tree_selects() {
    for query in [
        "$",
        "$.data",
        "$..*",
        "$.*",
        "$.data[*]",
        "$.data[*].i",
        "$.data[0,1].s",
        "$.data[1,0]",
        "$['z','data'][0]",
        "$.data[-1]",
        "$.data[-8]",
        "$.data[-9]",
        "$.data[8]",
        "$.data[1:3]",
        "$.data[:2]",
        "$.data[5:]",
        "$.data[::2]",
        "$.data[::-1]",
        "$.data[5:1:-2]",
        "$.data[-2:]",
        "$.data[1:1]",
        "$.data[::0]",
        "$..i",
        "$..[0]",
        "$..[-1]",
        "$..[1:]",
        "$..['i','s']",
        "$..[0,'i']",
        "$..deep..*",
        "$.z.*",
        "$.z.b",
        "$.n",
        "$.n.*",
        "$.num",
        "$.num.*",
        "$..num",
        "$.not_num.*",
        "$['esc\"aped'].*",
        "$[''][''][0]",
        "$.missing..*",
        "$.data[0].i.*",
        "$['bs\\\\'][*]",
        "$['bs\\\\'][4]..*",
    ] {
        same(DOCUMENT, query);
    }
    // Not vacuous: these select what they should.
    assert_eq!(same(DOCUMENT, "$..*"), both(DOCUMENT, "$..*").0.len());
    assert!(same(DOCUMENT, "$..*") > 30);
    assert_eq!(same(DOCUMENT, "$.data[*].i"), 3);
    assert_eq!(same(DOCUMENT, "$['bs\\\\'][*]"), 7);
}

#[test]
fn a_deep_document_is_read_once_per_level_not_once_per_ancestor() {
    // 121 levels (serde_json's limit is 128) with 64 KiB of text at the bottom: `..` used to
    // open each level by reading its whole text, so a body nested deep cost its size times its
    // depth.
    let leaf = "x".repeat(65_536);
    let document = format!(
        "{}{{\"x\": \"{leaf}\"}}{}",
        "{\"a\": [1, ".repeat(60),
        "]}".repeat(60)
    );
    let before = SCANNED.with(std::cell::Cell::get);
    assert_eq!(same(&document, "$..x"), 1);
    assert_eq!(same(&document, "$..*"), 3 * 60 + 1);
    let read = SCANNED.with(std::cell::Cell::get) - before;
    assert!(
        read <= 8 * document.len(),
        "{read} bytes read for two queries over a document of {}",
        document.len()
    );
}

#[test]
fn a_filter_is_not_answered_from_the_bytes() {
    for query in ["$.data[?@.i > 0]", "$..[?@.i]", "$[0, ?@.x]"] {
        let parsed = jsonpath_rust::parser::parse_json_path(query)
            .unwrap_or_else(|error| panic!("{query}: {error}"));
        assert!(!answerable(&parsed), "{query}");
    }
}

use crate::steps::tests_support::Rng;

const KEYS: [&str; 6] = ["a", "b", "c", "é", "a b", "q\"\\"];

/// Space between tokens, as a server may write it.
fn space(rng: &mut Rng) -> &'static str {
    ["", "", " ", "\n\t", "\r\n "][rng.below(5)]
}

/// A key as a JSONPath name selector writes it.
fn quoted(key: &str) -> String {
    format!("'{}'", key.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn document(rng: &mut Rng, depth: u32) -> String {
    let pick = if depth == 0 {
        rng.below(4)
    } else {
        3 + rng.below(5)
    };
    match pick {
        0 => rng.below(100).to_string(),
        1 => ["\"s\"", "\"q\\\"\\\\\"", "\"\\u00e9\\/\""][rng.below(3)].to_owned(),
        2 => ["true", "null", "-1.50e3"][rng.below(3)].to_owned(),
        3 => "[]".to_owned(),
        4 | 5 => {
            let items: Vec<String> = (0..rng.below(5))
                .map(|_| document(rng, depth - 1))
                .collect();
            let comma = format!("{},{}", space(rng), space(rng));
            format!("[{}{}{}]", space(rng), items.join(&comma), space(rng))
        }
        _ => {
            // Repeated keys on purpose: the last one wins.
            let members: Vec<String> = (0..rng.below(5))
                .map(|_| {
                    let key = KEYS[rng.below(KEYS.len() as u64)];
                    let key = serde_json::to_string(key).unwrap_or_default();
                    let colon = format!("{}:{}", space(rng), space(rng));
                    format!("{key}{colon}{}", document(rng, depth - 1))
                })
                .collect();
            format!("{{{}{}{}}}", space(rng), members.join(", "), space(rng))
        }
    }
}

fn selector(rng: &mut Rng) -> String {
    let index = |rng: &mut Rng| rng.below(9) as i64 - 4;
    match rng.below(6) {
        0 => quoted(KEYS[rng.below(KEYS.len() as u64)]),
        1 => "*".to_owned(),
        2 => index(rng).to_string(),
        3 => {
            let bound = |rng: &mut Rng| {
                if rng.below(3) == 0 {
                    String::new()
                } else {
                    index(rng).to_string()
                }
            };
            let (start, end) = (bound(rng), bound(rng));
            match rng.below(3) {
                0 => format!("{start}:{end}"),
                1 => format!("{start}:{end}:{}", index(rng)),
                _ => format!("{start}:{end}:"),
            }
        }
        _ => {
            let first = quoted(KEYS[rng.below(KEYS.len() as u64)]);
            format!("{first},{}", index(rng))
        }
    }
}

fn query(rng: &mut Rng) -> String {
    let mut query = "$".to_owned();
    for _ in 0..=rng.below(3) {
        if rng.below(3) == 0 {
            query.push_str("..");
        }
        query.push_str(&format!("[{}]", selector(rng)));
    }
    query
}

#[test]
fn generated_documents_and_queries_select_what_the_tree_selects() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut selected = 0;
    let mut asked = 0;
    while asked < 6_000 {
        let text = document(&mut rng, 4);
        let query = query(&mut rng);
        if jsonpath_rust::parser::parse_json_path(&query).is_err() {
            continue;
        }
        asked += 1;
        selected += same(&text, &query);
    }
    // The generator is not so random that nothing is ever selected.
    assert!(selected > 4_000, "{selected}");
}
