//! `runbooks/alpaca-live.yaml` end to end (issue 5): the real binary runs the real runbook file with
//! an answers file standing in for the operator, against stand-ins for every service it touches:
//!
//! - Alpaca (wiremock): `/v2/account` answers per key pair (the CURRENT pair, the NEW pair, a BAD
//!   pair), `/v2/orders?status=open`; 401 bodies in both shapes Alpaca has used. The current pair is
//!   revoked once a regenerated pair is used. A second server stands in for the paper API.
//! - the Raxx API (wiremock): `/health/trading` reports the kill switch the running dynos use, which
//!   follows a Heroku config change only after a few polls (a dyno restart); the Raptor runtime's
//!   `/api/trading/account` works only once its dynos run with the NEW pair (optionally a few
//!   requests after the config change); check orders are placed and cancelled.
//! - the Heroku Platform API (wiremock): `PATCH /apps/{app}/config-vars` merges and answers with all
//!   of the app's config vars, as Heroku does; it checks the token and the API version header.
//! - `infisical`: a shell script that logs its argv, refuses to run without `--env=prod`, stores
//!   `secrets set --file F` and answers `secrets get K --plain`; optionally, the first N `secrets
//!   set` calls fail (counted in a file, so across `runbook run` and `runbook resume`).
//!
//! Every stand-in appends what it received (and answered) to one timeline file, so each test can
//! assert the whole story in order: what happened, and what did not. Each test also reads the audit
//! log and the journal from its own state directory, checks the exit code, and searches every output
//! and every file for the new secret (and the other secrets).
//!
//! One module per theme; the rig (`cast`, `world`, `services`, `rig`, `story`) is shared by all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cast;
mod rig;
mod services;
mod story;
mod world;

mod happy_path;
mod misrotation;
mod open_orders;
mod pause_and_resume;
mod preflight;
mod private_data;
mod regeneration;
mod resume;
mod verification;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Output, Sandbox, finish, runbook, workspace_root};

use cast::*;
use rig::*;
use services::*;
use story::*;
use world::*;
