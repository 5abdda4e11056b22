//! The typed pass: a serde deserializer over the YAML [`Node`] tree that keeps going after an error.
//!
//! The raw types (`crate::raw`) stay the one definition of a runbook's shape; this deserializer
//! feeds them and records every problem as a finding instead of stopping at the first:
//!
//! - an unknown field is reported and skipped (the struct still loads);
//! - a broken step in a step list, or a broken input, is reported and left out; the check pass runs
//!   on the rest, and knows the ids left out so references to them do not cascade ([`Dropped`]);
//! - a [`Spanned`](crate::Spanned) mapping whose field fails is deserialized again without that
//!   field, only to find the node's other problems (a "probe": its value is never used, so a
//!   repaired node cannot make the check pass report consequences of the repair).
//!
//! Probes re-read a node at most once per broken field, and a file has a budget of probes, so the
//! work stays linear in the size of the file.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use serde::de::{self, IntoDeserializer, Visitor};

use super::access::{MapAccess, SeqAccess, SpannedAccess, SpannedState};
use super::error::{DeError, DeErrorKind};
use super::scalar::{Resolved, resolve};
use super::tree::{Node, NodeKind};
use super::{Dropped, recover};
use crate::finding::Finding;
use crate::source::{Source, Span};
use crate::spanned;

/// Re-reads of broken nodes allowed per file: far more than any real file needs, and a bound on the
/// work a hostile one can cause.
const MAX_PROBES: usize = 10_000;

/// What the typed pass shares: the findings so far and what was left out.
pub(crate) struct Ctx<'s> {
    source: &'s Source,
    findings: RefCell<Vec<Finding>>,
    /// A probe reads a node again: the same problem must not be reported twice.
    seen: RefCell<HashSet<(usize, usize, String)>>,
    probes: Cell<usize>,
    pub dropped: RefCell<Dropped>,
}

impl<'s> Ctx<'s> {
    pub fn new(source: &'s Source) -> Self {
        Self {
            source,
            findings: RefCell::new(Vec::new()),
            seen: RefCell::new(HashSet::new()),
            probes: Cell::new(0),
            dropped: RefCell::new(Dropped::default()),
        }
    }

    pub fn into_findings(self) -> (Vec<Finding>, Dropped) {
        (self.findings.into_inner(), self.dropped.into_inner())
    }

    pub fn report(&self, finding: Finding) {
        let key = (
            finding.span.start,
            finding.span.end,
            finding.message.clone(),
        );
        if self.seen.borrow_mut().insert(key) {
            self.findings.borrow_mut().push(finding);
        }
    }

    /// Records `error` (a failure of the node at `span`, under the key at `key`) as a finding,
    /// unless it already is one; what travels on is [`DeErrorKind::Recorded`].
    pub fn record(&self, error: DeError, span: Span, key: Option<Span>) -> DeError {
        if let Some(finding) = error.to_finding(span, key) {
            self.report(finding);
        }
        DeError {
            kind: DeErrorKind::Recorded,
            failed_key: error.failed_key,
        }
    }

    pub fn take_probe(&self) -> bool {
        let used = self.probes.get();
        self.probes.set(used + 1);
        used < MAX_PROBES
    }

    /// Remembers the step ids inside a part that was left out, so references to them are not
    /// reported as unknown.
    pub fn drop_steps(&self, node: &Node<'_>) {
        let mut dropped = self.dropped.borrow_mut();
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            match &node.kind {
                NodeKind::Map { entries, .. } => {
                    if let Some(id) = node.get("id").and_then(Node::scalar) {
                        dropped.steps.insert(id.to_owned());
                    }
                    pending.extend(entries.iter().map(|entry| &entry.value));
                }
                NodeKind::Seq(items) => pending.extend(items),
                NodeKind::Scalar { .. } => {}
            }
        }
    }
}

pub(crate) fn address(node: &Node<'_>) -> usize {
    std::ptr::from_ref(node) as usize
}

/// Deserializes one node. `removed` lists entries of this (mapping) node to act as if absent.
pub(crate) struct NodeDe<'n, 'a> {
    pub node: &'n Node<'a>,
    /// The key this node is the value of, where a missing field is reported.
    pub key: Option<Span>,
    pub removed: &'n [usize],
    pub ctx: &'n Ctx<'n>,
}

impl<'n, 'a> NodeDe<'n, 'a> {
    /// The plain scalar's resolved type, or `None` for quoted text and collections.
    fn plain(&self) -> Option<(Resolved, &'n str)> {
        match &self.node.kind {
            NodeKind::Scalar { text, plain: true } => Some((resolve(text), text)),
            NodeKind::Scalar { .. } | NodeKind::Seq(_) | NodeKind::Map { .. } => None,
        }
    }

    /// A wrong-type error that says what was written, for values that are not what a field wants.
    fn wrong(&self, expected: &str) -> DeError {
        if let Some(error) = self.flow_template() {
            return error;
        }
        let help = match &self.node.kind {
            NodeKind::Scalar { plain: false, .. } if expected.contains("number") => {
                Some("a quoted value is text: remove the quotes".to_owned())
            }
            NodeKind::Scalar { text, plain: true }
                if expected == "true or false"
                    && matches!(
                        text.to_ascii_lowercase().as_str(),
                        "yes" | "no" | "on" | "off" | "y" | "n"
                    ) =>
            {
                Some(format!(
                    "`{text}` is text in a runbook (YAML 1.2); write `true` or `false`"
                ))
            }
            NodeKind::Scalar { .. } | NodeKind::Seq(_) | NodeKind::Map { .. } => None,
        };
        DeErrorKind::WrongType {
            expected: expected.to_owned(),
            help,
        }
        .into()
    }

    /// An unquoted `{{...}}`: YAML reads `{` as the start of a flow mapping, so the template became
    /// a mapping. Said plainly, since "expected text" alone is a riddle.
    fn flow_template(&self) -> Option<DeError> {
        let NodeKind::Map { .. } = self.node.kind else {
            return None;
        };
        let text = self.ctx.source.text.get(self.node.span.start..)?;
        text.starts_with("{{").then(|| {
            DeErrorKind::WrongType {
                expected: "text, but an unquoted `{{` starts a YAML flow mapping".to_owned(),
                help: Some(super::classify::QUOTE_TEMPLATE.to_owned()),
            }
            .into()
        })
    }

    fn unsigned<'de, V: Visitor<'de>>(self, max: u64, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Int(value), _)) if value >= 0 && value <= i128::from(max) => {
                visitor.visit_u64(value as u64)
            }
            Some((Resolved::Int(_), _)) => {
                Err(self.wrong(&format!("a whole number from 0 to {max}")))
            }
            _ => Err(self.wrong("a whole number (0 or more)")),
        }
    }

    fn signed<'de, V: Visitor<'de>>(
        self,
        min: i64,
        max: i64,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Int(value), _))
                if value >= i128::from(min) && value <= i128::from(max) =>
            {
                visitor.visit_i64(value as i64)
            }
            Some((Resolved::Int(_), _)) => {
                Err(self.wrong(&format!("a whole number from {min} to {max}")))
            }
            _ => Err(self.wrong("a whole number")),
        }
    }

    fn map_access(
        &self,
        fields: Option<&'static [&'static str]>,
    ) -> Result<MapAccess<'n, 'a>, DeError> {
        match &self.node.kind {
            NodeKind::Map { poisoned: true, .. } => Err(DeError::recorded()),
            NodeKind::Map { entries, .. } => Ok(MapAccess {
                map: self.node,
                entries,
                fields,
                removed: self.removed,
                next: 0,
                current: 0,
                recover_inputs: false,
                ctx: self.ctx,
            }),
            NodeKind::Scalar { .. } | NodeKind::Seq(_) => Err(self.wrong("a mapping")),
        }
    }

    fn seq_access(&self, recover_steps: bool) -> Result<SeqAccess<'n, 'a>, DeError> {
        match &self.node.kind {
            NodeKind::Seq(items) => Ok(SeqAccess {
                items,
                next: 0,
                recover_steps,
                ctx: self.ctx,
            }),
            NodeKind::Scalar { .. } | NodeKind::Map { .. } => Err(self.wrong("a list")),
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(error) = self.flow_template() {
            return Err(error);
        }
        match &self.node.kind {
            NodeKind::Scalar { text, plain: true } => match resolve(text) {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(value) => visitor.visit_bool(value),
                Resolved::Int(value) if value < 0 => visitor.visit_i64(value as i64),
                Resolved::Int(value) => visitor.visit_u64(value as u64),
                Resolved::Float(value) => visitor.visit_f64(value),
                Resolved::Text => visitor.visit_str(text),
            },
            NodeKind::Scalar { text, plain: false } => visitor.visit_str(text),
            NodeKind::Seq(_) => visitor.visit_seq(self.seq_access(false)?),
            NodeKind::Map { .. } => visitor.visit_map(self.map_access(None)?),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Bool(value), _)) => visitor.visit_bool(value),
            _ => Err(self.wrong("true or false")),
        }
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u8::MAX), visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u16::MAX), visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u32::MAX), visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::MAX, visitor)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i8::MIN), i64::from(i8::MAX), visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i16::MIN), i64::from(i16::MAX), visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i32::MIN), i64::from(i32::MAX), visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::MIN, i64::MAX, visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Int(value), _)) => visitor.visit_f64(value as f64),
            Some((Resolved::Float(value), _)) => visitor.visit_f64(value),
            _ => Err(self.wrong("a number")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { text, plain: true } if resolve(text) == Resolved::Null => {
                Err(self.wrong("text, but the value is empty"))
            }
            NodeKind::Scalar { text, .. } => visitor.visit_str(text),
            NodeKind::Map { .. } => Err(self.wrong(
                "text here; a plain value containing `: ` is read as a mapping, so quote it",
            )),
            NodeKind::Seq(_) => Err(self.wrong("text, not a list")),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.wrong("text"))
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.wrong("text"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Null, _)) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some((Resolved::Null, _)) => visitor.visit_unit(),
            _ => Err(self.wrong("nothing (null)")),
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match name {
            recover::STEPS => visitor.visit_seq(self.seq_access(true)?),
            recover::INPUTS => {
                let mut access = self.map_access(None)?;
                access.recover_inputs = true;
                visitor.visit_map(access)
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(self.seq_access(false)?)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(error) = self.flow_template() {
            return Err(error);
        }
        visitor.visit_map(self.map_access(None)?)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == spanned::NAME {
            return visitor.visit_map(SpannedAccess {
                node: self.node,
                key: self.key,
                state: SpannedState::Loc,
                removed: Vec::new(),
                probing: false,
                ctx: self.ctx,
            });
        }
        if let Some(error) = self.flow_template() {
            return Err(error);
        }
        let NodeKind::Map { entries, .. } = &self.node.kind else {
            return Err(self.wrong("a mapping (`key: value` lines)"));
        };
        let access = self.map_access(Some(fields))?;
        visitor.visit_map(access).map_err(|error| match error.kind {
            // A field that a probe left out is missing on purpose: not a finding.
            DeErrorKind::MissingField(field)
                if self
                    .removed
                    .iter()
                    .any(|index| entries[*index].key.scalar() == Some(field)) =>
            {
                DeError::recorded()
            }
            // `comand:` was reported as an unknown field with "did you mean `command`?": saying
            // that `command` is missing as well adds nothing.
            DeErrorKind::MissingField(field)
                if entries
                    .iter()
                    .filter_map(|entry| entry.key.scalar())
                    .any(|key| {
                        !fields.contains(&key)
                            && crate::suggest::did_you_mean(key, fields.iter().copied())
                                == Some(field)
                    }) =>
            {
                DeError::recorded()
            }
            DeErrorKind::Recorded
            | DeErrorKind::MissingField(_)
            | DeErrorKind::UnknownVariant { .. }
            | DeErrorKind::WrongType { .. }
            | DeErrorKind::Custom(_) => error,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { text, .. } => {
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(&**text))
            }
            NodeKind::Seq(_) | NodeKind::Map { .. } => {
                let list: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
                Err(self.wrong(&format!("one of {}", list.join(", "))))
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}
