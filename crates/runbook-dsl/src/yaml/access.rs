//! The serde access types of the typed pass: a mapping's entries, a sequence's items, and the
//! location-then-value protocol of [`Spanned`](crate::Spanned). Where an error is recorded and where
//! loading goes on past it is decided here (see [`super::de`]).

use serde::de::value::{SeqDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed};

use super::de::{Ctx, NodeDe, address};
use super::error::DeError;
use super::tree::{Entry, Node};
use crate::finding::{Finding, FindingCode};
use crate::source::Span;
use crate::spanned;

/// The entries of a mapping; for a struct (`fields` known), unknown keys are reported and skipped.
pub(super) struct MapAccess<'n, 'a> {
    pub(super) map: &'n Node<'a>,
    pub(super) entries: &'n [Entry<'a>],
    pub(super) fields: Option<&'static [&'static str]>,
    pub(super) removed: &'n [usize],
    pub(super) next: usize,
    pub(super) current: usize,
    /// `inputs:`: an input that fails is left out and the others load.
    pub(super) recover_inputs: bool,
    pub(super) ctx: &'n Ctx<'n>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some(entry) = self.entries.get(self.next) {
            let index = self.next;
            self.next += 1;
            if self.removed.contains(&index) {
                continue;
            }
            self.current = index;
            let Some(fields) = self.fields else {
                let key = NodeDe {
                    node: &entry.key,
                    key: None,
                    removed: &[],
                    ctx: self.ctx,
                };
                return seed
                    .deserialize(key)
                    .map(Some)
                    .map_err(|error| self.ctx.record(error, entry.key.span, None));
            };
            let Some(name) = entry.key.scalar() else {
                self.ctx.report(
                    Finding::error(
                        FindingCode::InvalidValue,
                        entry.key.span,
                        "a key must be a name, not a list or mapping",
                    )
                    .with_label("not a name"),
                );
                continue;
            };
            if !fields.contains(&name) {
                self.ctx
                    .report(super::classify::unknown_field(name, fields, entry.key.span));
                continue;
            }
            return seed
                .deserialize(StrDeserializer::<DeError>::new(name))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let Some(entry) = self.entries.get(self.current) else {
            return Err(DeError::recorded());
        };
        let value = NodeDe {
            node: &entry.value,
            key: Some(entry.key.span),
            removed: &[],
            ctx: self.ctx,
        };
        seed.deserialize(value).map_err(|error| {
            let mut error = self
                .ctx
                .record(error, entry.value.span, Some(entry.key.span));
            if self.recover_inputs
                && let Some(name) = entry.key.scalar()
            {
                self.ctx.dropped.borrow_mut().inputs.insert(name.to_owned());
            }
            error.failed_key = Some((address(self.map), self.current));
            error
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len().saturating_sub(self.next))
    }
}

pub(super) struct SeqAccess<'n, 'a> {
    pub(super) items: &'n [Node<'a>],
    pub(super) next: usize,
    /// A step list: a step that fails is left out (its id remembered) and the others load.
    pub(super) recover_steps: bool,
    pub(super) ctx: &'n Ctx<'n>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let element = NodeDe {
            node: item,
            key: None,
            removed: &[],
            ctx: self.ctx,
        };
        seed.deserialize(element).map(Some).map_err(|error| {
            let mut error = self.ctx.record(error, item.span, None);
            if self.recover_steps {
                self.ctx.drop_steps(item);
            }
            // The failed key, if any, was the element's; the mapping above names its own.
            error.failed_key = None;
            error
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len().saturating_sub(self.next))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SpannedState {
    Loc,
    Value,
    Done,
}

/// What a [`Spanned`](crate::Spanned) sees: the node's location, then its value, offered again
/// (without the failed field) while a probe can find more problems in it.
pub(super) struct SpannedAccess<'n, 'a> {
    pub(super) node: &'n Node<'a>,
    pub(super) key: Option<Span>,
    pub(super) state: SpannedState,
    pub(super) removed: Vec<usize>,
    pub(super) probing: bool,
    pub(super) ctx: &'n Ctx<'n>,
}

impl<'de> de::MapAccess<'de> for SpannedAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let name = match self.state {
            SpannedState::Loc => spanned::LOC,
            SpannedState::Value => spanned::VALUE,
            SpannedState::Done => return Ok(None),
        };
        seed.deserialize(StrDeserializer::<DeError>::new(name))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        match self.state {
            SpannedState::Loc => {
                self.state = SpannedState::Value;
                let span = self.node.span;
                let loc = [
                    u64::from(self.node.line),
                    u64::from(self.node.column),
                    span.start as u64,
                    (span.end - span.start) as u64,
                ];
                seed.deserialize(SeqDeserializer::<_, DeError>::new(loc.into_iter()))
            }
            SpannedState::Value | SpannedState::Done => {
                let value = NodeDe {
                    node: self.node,
                    key: self.key,
                    removed: &self.removed,
                    ctx: self.ctx,
                };
                match seed.deserialize(value) {
                    Ok(value) if !self.probing => {
                        self.state = SpannedState::Done;
                        Ok(value)
                    }
                    Ok(_) => {
                        // A probe: the node is broken, so what it gave without the broken
                        // fields must not be used.
                        self.state = SpannedState::Done;
                        Err(DeError::recorded())
                    }
                    Err(error) => {
                        let error = self.ctx.record(error, self.node.span, self.key);
                        self.state = SpannedState::Done;
                        if let Some((map, index)) = error.failed_key
                            && map == address(self.node)
                            && !self.removed.contains(&index)
                            && self.ctx.take_probe()
                        {
                            self.removed.push(index);
                            self.probing = true;
                            self.state = SpannedState::Value;
                        }
                        Err(DeError::recorded())
                    }
                }
            }
        }
    }
}
