//! `http` steps end to end: the real binary against real wiremock servers. Every test checks what the
//! server received as well as what the binary printed and how it exited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod asserts;
mod captures;
mod helpers;
mod large_bodies;
mod limits;
mod redirects;
mod status;
