use serde_json::json;

use super::*;

fn call(function: Function, args: &[Value]) -> Result<Value, FunctionError> {
    apply(function, args)
}

#[test]
fn integer_arithmetic_is_checked() {
    assert_eq!(call(Function::Add, &[json!(41), json!(1)]), Ok(json!(42)));
    assert_eq!(call(Function::Sub, &[json!(1), json!(3)]), Ok(json!(-2)));
    assert_eq!(
        call(Function::Add, &[json!(i64::MAX), json!(1)]),
        Err(FunctionError::Overflow)
    );
    assert_eq!(
        call(Function::Sub, &[json!(i64::MIN), json!(1)]),
        Err(FunctionError::Overflow)
    );
    assert_eq!(
        call(Function::Add, &[json!("3"), json!(1)]),
        Err(FunctionError::WrongType {
            argument: 0,
            found: "a string"
        })
    );
    assert_eq!(
        call(Function::Add, &[json!(1), json!(1.5)]),
        Err(FunctionError::WrongType {
            argument: 1,
            found: "a decimal number"
        })
    );
    let huge: Value = serde_json::from_str("100000000000000000000001").unwrap_or_default();
    assert!(matches!(
        call(Function::Add, &[huge, json!(1)]),
        Err(FunctionError::OutOfRange { argument: 0, .. })
    ));
}

#[test]
fn slicing_counts_characters_and_saturates() {
    let key = json!("AKIAé0123456789");
    assert_eq!(
        call(Function::Last, &[json!(4), key.clone()]),
        Ok(json!("6789"))
    );
    assert_eq!(
        call(Function::First, &[json!(5), key.clone()]),
        Ok(json!("AKIAé"))
    );
    assert_eq!(
        call(Function::First, &[json!(99), json!("ab")]),
        Ok(json!("ab"))
    );
    assert_eq!(
        call(Function::Last, &[json!(0), json!("ab")]),
        Ok(json!(""))
    );
    assert_eq!(
        call(Function::Slice, &[json!(4), json!(6), key.clone()]),
        Ok(json!("é0"))
    );
    assert_eq!(
        call(Function::Slice, &[json!(10), json!(99), json!("abc")]),
        Ok(json!(""))
    );
    assert_eq!(
        call(Function::Slice, &[json!(3), json!(2), json!("abcd")]),
        Err(FunctionError::SliceOrder)
    );
    assert_eq!(
        call(Function::Last, &[json!(2), json!([1, 2, 3])]),
        Ok(json!([2, 3]))
    );
    assert!(matches!(
        call(Function::First, &[json!(-1), json!("ab")]),
        Err(FunctionError::OutOfRange { argument: 0, .. })
    ));
    assert_eq!(
        call(Function::Last, &[json!(2), json!(1234)]),
        Err(FunctionError::WrongType {
            argument: 1,
            found: "a number"
        })
    );
}

#[test]
fn length_of_strings_lists_and_mappings() {
    assert_eq!(call(Function::Length, &[json!("é1")]), Ok(json!(2)));
    assert_eq!(call(Function::Length, &[json!([1, 2, 3])]), Ok(json!(3)));
    assert_eq!(call(Function::Length, &[json!({"a": 1})]), Ok(json!(1)));
    assert!(call(Function::Length, &[json!(null)]).is_err());
}

#[test]
fn case_trim_split_and_join() {
    assert_eq!(call(Function::Lower, &[json!("LiVe")]), Ok(json!("live")));
    assert_eq!(
        call(Function::Upper, &[json!("straße")]),
        Ok(json!("STRASSE"))
    );
    assert_eq!(call(Function::Trim, &[json!(" \tk\n")]), Ok(json!("k")));
    assert_eq!(
        call(Function::Split, &[json!(","), json!("a,,b")]),
        Ok(json!(["a", "", "b"]))
    );
    assert_eq!(
        call(Function::Split, &[json!(""), json!("ab")]),
        Err(FunctionError::EmptySeparator { argument: 0 })
    );
    assert_eq!(
        call(Function::Join, &[json!("-"), json!(["a", 1, true])]),
        Ok(json!("a-1-true"))
    );
    assert_eq!(
        call(Function::Join, &[json!("-"), json!(["a", null])]),
        Err(FunctionError::ListItem {
            item: 1,
            found: "null"
        })
    );
    assert_eq!(
        call(Function::Join, &[json!("-"), json!("ab")]),
        Err(FunctionError::WrongType {
            argument: 1,
            found: "a string"
        })
    );
}

#[test]
fn base64_and_sha256() {
    assert_eq!(
        call(Function::Base64, &[json!("user:pa ss")]),
        Ok(json!("dXNlcjpwYSBzcw=="))
    );
    assert_eq!(
        call(Function::Base64Decode, &[json!("dXNlcjpwYSBzcw==")]),
        Ok(json!("user:pa ss"))
    );
    assert_eq!(
        call(Function::Base64Decode, &[json!("dXNlcjpwYSBzcw")]),
        Ok(json!("user:pa ss"))
    );
    assert_eq!(
        call(Function::Base64Decode, &[json!("not base64!")]),
        Err(FunctionError::NotBase64)
    );
    assert_eq!(
        call(Function::Base64Decode, &[json!("/w==")]),
        Err(FunctionError::NotUtf8)
    );
    assert_eq!(
        call(Function::Sha256, &[json!("abc")]),
        Ok(json!(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ))
    );
}

#[test]
fn no_input_panics() {
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(1.5),
        json!(""),
        json!("a"),
        json!([]),
        json!([null]),
        json!({}),
    ];
    for function in Function::ALL {
        for a in &values {
            for b in &values {
                for c in &values {
                    let _ = apply(function, &[a.clone(), b.clone(), c.clone()]);
                }
            }
        }
    }
}
