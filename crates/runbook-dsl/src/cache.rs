//! The map type of the per-thread caches (templates, regexes, JSONPaths), keyed by the text.
//!
//! foldhash rather than the standard SipHash: a lookup hashes a template or pattern text, and
//! SipHash was most of the cost of a cache hit (about 9 M instructions on 100 corpus files). Its
//! seed is random per process, and the caches are bounded in size, so no input can make them slow.

/// A cache from a text to what it parsed or compiled to.
pub(crate) type CacheMap<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;
