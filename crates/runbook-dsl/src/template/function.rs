//! The functions a template may call (`{{last 4 inputs.key_id}}`): a closed set with fixed
//! signatures, so lint checks every call (the name, the number of arguments, the type of each
//! literal argument and of each nested call's result) before a run starts.
//!
//! Functions are pure: they read their arguments and return a plain value, never a template, so a
//! function cannot bring back the re-parsing that single-pass rendering rules out. The engine
//! evaluates them (`runbook_engine::functions`), matching exhaustively on [`Function`]: a new
//! function fails to compile until it has an evaluator.

use serde_json::Value;

/// A function a template may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Add,
    Sub,
    First,
    Last,
    Slice,
    Length,
    Lower,
    Upper,
    Trim,
    Split,
    Join,
    Base64,
    Base64Decode,
    Sha256,
}

/// How deeply calls may nest: `{{a (b (c (d x)))}}` is four. Deeper chains are hard to read in a
/// runbook, and the cap bounds the parser's and the evaluator's recursion whatever a file holds.
pub const MAX_CALL_DEPTH: usize = 4;

/// The static type of an argument or a result, as far as lint can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    /// A whole number.
    Integer,
    /// A number with a fraction or an exponent.
    Decimal,
    Boolean,
    Null,
    List,
    Mapping,
    /// A reference: its type is known only when the run has the value.
    Unknown,
}

impl ValueType {
    /// The static type of a literal.
    pub fn of(value: &Value) -> ValueType {
        match value {
            Value::String(_) => ValueType::String,
            Value::Number(number) if number.is_i64() || number.is_u64() => ValueType::Integer,
            Value::Number(_) => ValueType::Decimal,
            Value::Bool(_) => ValueType::Boolean,
            Value::Null => ValueType::Null,
            Value::Array(_) => ValueType::List,
            Value::Object(_) => ValueType::Mapping,
        }
    }

    /// For messages: `a string`, `an integer`, ...
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::String => "a string",
            ValueType::Integer => "an integer",
            ValueType::Decimal => "a decimal number",
            ValueType::Boolean => "a boolean",
            ValueType::Null => "null",
            ValueType::List => "a list",
            ValueType::Mapping => "a mapping",
            ValueType::Unknown => "a value",
        }
    }
}

/// What a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// A whole number within 64 bits.
    Integer,
    /// A whole number, 0 or more.
    Count,
    String,
    /// A string that is not empty.
    Separator,
    /// A string (its characters) or a list (its items).
    StringOrList,
    /// A string, a list or a mapping.
    Sized,
    List,
}

impl Accepts {
    /// Whether a value of type `found` can be passed (an unknown type is checked at run time).
    pub fn admits(self, found: ValueType) -> bool {
        let admitted: &[ValueType] = match self {
            Accepts::Integer | Accepts::Count => &[ValueType::Integer],
            Accepts::String | Accepts::Separator => &[ValueType::String],
            Accepts::StringOrList => &[ValueType::String, ValueType::List],
            Accepts::Sized => &[ValueType::String, ValueType::List, ValueType::Mapping],
            Accepts::List => &[ValueType::List],
        };
        found == ValueType::Unknown || admitted.contains(&found)
    }

    /// For messages: what the parameter needs.
    pub fn describe(self) -> &'static str {
        match self {
            Accepts::Integer => "an integer",
            Accepts::Count => "a whole number (0 or more)",
            Accepts::String => "a string",
            Accepts::Separator => "a non-empty string",
            Accepts::StringOrList => "a string or a list",
            Accepts::Sized => "a string, a list or a mapping",
            Accepts::List => "a list",
        }
    }

    /// What is wrong with a literal of an admitted type, if anything (a negative count, an empty
    /// separator).
    pub fn literal_problem(self, value: &Value) -> Option<&'static str> {
        match (self, value) {
            (Accepts::Count, Value::Number(number)) if number.as_u64().is_none() => {
                Some("a count cannot be negative")
            }
            (Accepts::Separator, Value::String(text)) if text.is_empty() => {
                Some("the separator cannot be empty")
            }
            (Accepts::Integer, Value::Number(number))
                if number.as_i64().is_none() && number.is_u64() =>
            {
                Some("the integer is beyond the 64-bit range")
            }
            _ => None,
        }
    }
}

/// One parameter: its name in messages and what it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub accepts: Accepts,
}

/// What a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    Fixed(ValueType),
    /// The type of the last argument (slicing a string gives a string, a list a list).
    LikeLastArgument,
}

const fn param(name: &'static str, accepts: Accepts) -> Param {
    Param { name, accepts }
}

impl Function {
    pub const ALL: [Function; 14] = [
        Function::Add,
        Function::Sub,
        Function::First,
        Function::Last,
        Function::Slice,
        Function::Length,
        Function::Lower,
        Function::Upper,
        Function::Trim,
        Function::Split,
        Function::Join,
        Function::Base64,
        Function::Base64Decode,
        Function::Sha256,
    ];

    /// The name a template calls it by.
    pub fn name(self) -> &'static str {
        match self {
            Function::Add => "add",
            Function::Sub => "sub",
            Function::First => "first",
            Function::Last => "last",
            Function::Slice => "slice",
            Function::Length => "length",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Trim => "trim",
            Function::Split => "split",
            Function::Join => "join",
            Function::Base64 => "base64",
            Function::Base64Decode => "base64_decode",
            Function::Sha256 => "sha256",
        }
    }

    pub fn parse(name: &str) -> Option<Function> {
        Function::ALL
            .into_iter()
            .find(|function| function.name() == name)
    }

    /// The parameters, in order. The value a function works on comes last, so calls read left to
    /// right like handlebars helpers: `{{last 4 inputs.key_id}}`, `{{join "," (split ";" x)}}`.
    pub fn params(self) -> &'static [Param] {
        const A: Param = param("A", Accepts::Integer);
        const B: Param = param("B", Accepts::Integer);
        const COUNT: Param = param("COUNT", Accepts::Count);
        const FROM: Param = param("FROM", Accepts::Count);
        const TO: Param = param("TO", Accepts::Count);
        const SLICEABLE: Param = param("VALUE", Accepts::StringOrList);
        const SIZED: Param = param("VALUE", Accepts::Sized);
        const STRING: Param = param("VALUE", Accepts::String);
        const SPLIT_SEPARATOR: Param = param("SEPARATOR", Accepts::Separator);
        const JOIN_SEPARATOR: Param = param("SEPARATOR", Accepts::String);
        const LIST: Param = param("LIST", Accepts::List);
        match self {
            Function::Add | Function::Sub => &[A, B],
            Function::First | Function::Last => &[COUNT, SLICEABLE],
            Function::Slice => &[FROM, TO, SLICEABLE],
            Function::Length => &[SIZED],
            Function::Lower
            | Function::Upper
            | Function::Trim
            | Function::Base64
            | Function::Base64Decode
            | Function::Sha256 => &[STRING],
            Function::Split => &[SPLIT_SEPARATOR, STRING],
            Function::Join => &[JOIN_SEPARATOR, LIST],
        }
    }

    pub fn returns(self) -> Returns {
        match self {
            Function::Add | Function::Sub | Function::Length => Returns::Fixed(ValueType::Integer),
            Function::First | Function::Last | Function::Slice => Returns::LikeLastArgument,
            Function::Lower
            | Function::Upper
            | Function::Trim
            | Function::Join
            | Function::Base64
            | Function::Base64Decode
            | Function::Sha256 => Returns::Fixed(ValueType::String),
            Function::Split => Returns::Fixed(ValueType::List),
        }
    }

    /// Whether the result of applying it to a secret is itself a secret. Every function but
    /// `length` keeps (part of) the secret or a stand-in for it: a slice is part of it, a case
    /// change or an encoding is the secret in another spelling, and a SHA-256 fingerprint lets
    /// anyone who sees it confirm a guess offline. A length says nothing about which secret it is
    /// (key formats publish it), and masking a small number everywhere would hide unrelated text.
    pub fn derives_secret(self) -> bool {
        match self {
            Function::Length => false,
            Function::Add
            | Function::Sub
            | Function::First
            | Function::Last
            | Function::Slice
            | Function::Lower
            | Function::Upper
            | Function::Trim
            | Function::Split
            | Function::Join
            | Function::Base64
            | Function::Base64Decode
            | Function::Sha256 => true,
        }
    }

    /// How a call is written, for help text: `last COUNT VALUE`.
    pub fn usage(self) -> String {
        let mut usage = self.name().to_owned();
        for param in self.params() {
            usage.push(' ');
            usage.push_str(param.name);
        }
        usage
    }

    /// A call as an example, for help text.
    pub fn example(self) -> &'static str {
        match self {
            Function::Add => "{{add steps.vault.outputs.version 1}}",
            Function::Sub => "{{sub steps.count.outputs.total 1}}",
            Function::First => "{{first 8 steps.roll.outputs.key_id}}",
            Function::Last => "{{last 4 inputs.key_id}}",
            Function::Slice => "{{slice 0 7 steps.build.outputs.commit}}",
            Function::Length => "{{length steps.orders.outputs.body}}",
            Function::Lower => "{{lower inputs.environment}}",
            Function::Upper => "{{upper inputs.region}}",
            Function::Trim => "{{trim steps.read.outputs.stdout}}",
            Function::Split => "{{split \",\" inputs.hosts}}",
            Function::Join => "{{join \",\" steps.list.outputs.body.ids}}",
            Function::Base64 => "{{base64 inputs.username}}",
            Function::Base64Decode => "{{base64_decode steps.get.outputs.body.data}}",
            Function::Sha256 => "{{sha256 (trim steps.roll.outputs.key)}}",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for function in Function::ALL {
            assert_eq!(Function::parse(function.name()), Some(function));
            assert!(function.example().contains(function.name()));
        }
        assert_eq!(Function::parse("upcase"), None);
    }

    #[test]
    fn literal_types_and_problems() {
        assert_eq!(ValueType::of(&Value::from(3)), ValueType::Integer);
        assert_eq!(ValueType::of(&serde_json::json!(1.5)), ValueType::Decimal);
        assert!(Accepts::Count.admits(ValueType::Integer));
        assert!(!Accepts::Count.admits(ValueType::String));
        assert!(Accepts::Sized.admits(ValueType::Unknown));
        assert_eq!(
            Accepts::Count.literal_problem(&Value::from(-1)),
            Some("a count cannot be negative")
        );
        assert_eq!(
            Accepts::Separator.literal_problem(&Value::from("")),
            Some("the separator cannot be empty")
        );
        assert_eq!(Accepts::Count.literal_problem(&Value::from(2)), None);
        assert_eq!(Function::Last.usage(), "last COUNT VALUE");
    }
}
