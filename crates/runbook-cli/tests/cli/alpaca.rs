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

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Output, Sandbox, finish, runbook, workspace_root};

// ---------------------------------------------------------------------------------------------
// The cast: keys, secrets, accounts.

/// The current (soon old) pair, from the environment.
const CURRENT_KEY_ID: &str = "AKCURRENT0000000001";
const CURRENT_SECRET: &str = "CURRENT-SECRET-3b8d20";
/// The new pair, typed at the masked prompt (answers file).
const NEW_KEY_ID: &str = "AKNEWKEY00000000002";
const NEW_SECRET: &str = "NEW-SECRET-7c41e9";
/// A pair Alpaca rejects (a mistyped or superseded regeneration).
const BAD_KEY_ID: &str = "AKBADKEY00000000003";
const BAD_SECRET: &str = "BAD-SECRET-5e0f44";
/// A pair regenerated with the dashboard on Paper.
const PAPER_KEY_ID: &str = "PKPAPERKEY000000004";
const PAPER_SECRET: &str = "PAPER-SECRET-a91c07";
const HEROKU_TOKEN: &str = "HRKU-token-2f6a9d81";
/// Another production secret among the app's config vars (Heroku answers a PATCH with all of them).
const DATABASE_URL: &str = "postgres://raxx:DB-PASSWORD-c3d4e5@db.internal:5432/raxx";

const ACCOUNT_ID: &str = "904837e3-3b76-47ec-b432-046db621571b";
const ACCOUNT_NUMBER: &str = "123456789";
const PAPER_ACCOUNT_NUMBER: &str = "PA3KQ9Z1X2Y3";
const OTHER_ACCOUNT_NUMBER: &str = "987654321";
const ORDER_ID: &str = "61e69015-8549-4bfd-b9c3-01e75843f47d";
const OPEN_ORDER_ID: &str = "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415";

const PROD_APP: &str = "raxx-api-prod";
const MQA_APP: &str = "raxx-mqa-prod";
/// A production app whose name happens to contain "ci" (pri-ci-ng).
const MQA_PRICING_APP: &str = "mqa-pricing-prod";
const ACTOR: &str = "superadmin-jdoe";

/// Every secret of the story; none may appear in any output or file the run writes. The key ids
/// too: the current one is a secret input, and the new one is typed at a masked prompt, so it is
/// masked like the current one (issue 13 item 8).
const SECRETS: [(&str, &str); 8] = [
    ("NEW_KEY_ID", NEW_KEY_ID),
    ("CURRENT_KEY_ID", CURRENT_KEY_ID),
    ("NEW_SECRET", NEW_SECRET),
    ("CURRENT_SECRET", CURRENT_SECRET),
    ("BAD_SECRET", BAD_SECRET),
    ("PAPER_SECRET", PAPER_SECRET),
    ("HEROKU_TOKEN", HEROKU_TOKEN),
    ("DATABASE_URL", DATABASE_URL),
];

/// Known values by name, so the timeline reads `ALPACA_LIVE_API_KEY_ID=NEW_KEY_ID`.
fn name_of(value: &str) -> String {
    let known = [
        ("CURRENT_KEY_ID", CURRENT_KEY_ID),
        ("CURRENT_SECRET", CURRENT_SECRET),
        ("NEW_KEY_ID", NEW_KEY_ID),
        ("NEW_SECRET", NEW_SECRET),
        ("BAD_KEY_ID", BAD_KEY_ID),
        ("BAD_SECRET", BAD_SECRET),
        ("PAPER_KEY_ID", PAPER_KEY_ID),
        ("PAPER_SECRET", PAPER_SECRET),
        ("ORDER_ID", ORDER_ID),
    ];
    known
        .iter()
        .find(|(_, known)| *known == value)
        .map_or_else(|| value.to_owned(), |(name, _)| (*name).to_owned())
}

/// An Alpaca account as `/v2/account` returns it: money fields are strings.
fn account(account_number: &str, id: &str, equity: &str) -> Value {
    json!({
        "id": id,
        "account_number": account_number,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "buying_power": "10000.20",
        "regt_buying_power": "10000.20",
        "daytrading_buying_power": "0",
        "cash": "5000.10",
        "portfolio_value": "123346.11",
        "equity": equity,
        "last_equity": "123001.54",
        "long_market_value": "118346.01",
        "short_market_value": "0",
        "initial_margin": "59173.00",
        "maintenance_margin": "35503.80",
        "multiplier": "2",
        "pattern_day_trader": false,
        "trading_blocked": false,
        "transfers_blocked": false,
        "account_blocked": false,
        "trade_suspended_by_user": false,
        "shorting_enabled": true,
        "created_at": "2021-03-02T15:04:05.123456Z"
    })
}

fn live_account() -> Value {
    account(ACCOUNT_NUMBER, ACCOUNT_ID, "123346.11")
}

fn paper_account() -> Value {
    account(
        PAPER_ACCOUNT_NUMBER,
        "e6fe16f3-64a4-4921-8928-cadf02f92f98",
        "100000",
    )
}

/// An open order as `/v2/orders` lists it.
fn open_order() -> Value {
    json!({
        "id": OPEN_ORDER_ID,
        "client_order_id": "raptor-7731",
        "created_at": "2026-04-24T14:02:11.504Z",
        "symbol": "MSFT",
        "asset_class": "us_equity",
        "qty": "10",
        "filled_qty": "0",
        "type": "limit",
        "side": "buy",
        "time_in_force": "day",
        "limit_price": "401.25",
        "status": "new"
    })
}

// ---------------------------------------------------------------------------------------------
// The stand-ins.

/// What the stand-in world does in this test.
#[derive(Clone)]
struct Scenario {
    /// The account the current pair sees.
    current_account: Value,
    /// What `/v2/orders?status=open` lists.
    open_orders: Value,
    /// Key pairs Alpaca accepts besides the current one, and the account each sees.
    new_keys: Vec<(&'static str, &'static str, Value)>,
    /// Key pairs only the paper API accepts, and the (paper) account each sees.
    paper_keys: Vec<(&'static str, &'static str, Value)>,
    /// The current pair is revoked once a regenerated pair has been used (the dashboard's
    /// regeneration revokes the old pair); false: it stays accepted.
    old_key_revoked: bool,
    /// Polls of `/health/trading` after a kill-switch change before the dynos run with it.
    restart_polls: u32,
    /// Whether the dynos ever pick up TRADING_LIVE_DISABLED=1 / =0.
    pause_applies: bool,
    resume_applies: bool,
    /// The account number the Raptor runtime reports.
    downstream_account_number: &'static str,
    /// What DELETE of the check order answers.
    cancel_status: u16,
    /// The operator cancelled the check order in the dashboard: DELETE answers `cancel_status`
    /// (422) but the order reads `canceled`.
    cancelled_by_hand: bool,
    /// Requests to the Raptor runtime after a key change that are still served by the old
    /// release (old dynos, old pair) while Heroku restarts the dynos.
    runtime_restart_requests: u32,
    /// How many `infisical secrets set` calls fail (exit 1, nothing stored) before one works;
    /// counted in a file, so the count carries across `runbook run` and `runbook resume`.
    infisical_store_failures: u32,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            current_account: live_account(),
            open_orders: json!([]),
            new_keys: vec![(NEW_KEY_ID, NEW_SECRET, live_account())],
            paper_keys: Vec::new(),
            old_key_revoked: true,
            restart_polls: 2,
            pause_applies: true,
            resume_applies: true,
            downstream_account_number: ACCOUNT_NUMBER,
            cancel_status: 204,
            cancelled_by_hand: false,
            runtime_restart_requests: 0,
            infisical_store_failures: 0,
        }
    }
}

/// The state every stand-in shares.
struct World {
    scenario: Scenario,
    timeline: PathBuf,
    /// App name to its config vars.
    heroku: BTreeMap<String, Map<String, Value>>,
    /// TRADING_LIVE_DISABLED as the running dynos see it.
    live_disabled: bool,
    /// A kill-switch change on its way: the new value and the polls left until it shows.
    pending: Option<(bool, u32)>,
    /// A key other than the current one was used: the dashboard regenerated the pair.
    regenerated: bool,
    /// Bodies of the check orders placed.
    orders: Vec<Value>,
    /// The check order's status as Alpaca reports it (after a 204 DELETE: canceled).
    order_status: String,
    /// The pair the running Raptor dynos use, and the requests left until a pending pair shows.
    runtime_pair: (String, String),
    runtime_pending: Option<((String, String), u32)>,
}

type Shared = Arc<Mutex<World>>;

impl World {
    fn log(&self, line: String) {
        append_line(&self.timeline, &line);
    }
}

fn append_line(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(format!("{line}\n").as_bytes()).unwrap();
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn with_query(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

fn unauthorized_code_shape() -> ResponseTemplate {
    ResponseTemplate::new(401)
        .set_body_json(json!({"code": 40110000, "message": "request is not authorized"}))
}

fn unauthorized_message_shape() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({"message": "unauthorized."}))
}

/// Alpaca's trading API: the live one, or (`paper: true`) the paper one, each accepting only
/// its own environment's keys (Alpaca: "you cannot use your live account's credentials with the
/// paper API, or vice versa").
struct Alpaca {
    world: Shared,
    paper: bool,
}

impl Respond for Alpaca {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut world = self.world.lock().unwrap();
        let key = header(request, "APCA-API-KEY-ID").unwrap_or("").to_owned();
        let secret = header(request, "APCA-API-SECRET-KEY").unwrap_or("");
        let is_paper_key = world
            .scenario
            .paper_keys
            .iter()
            .any(|(id, _, _)| *id == key);
        let current = !self.paper && key == CURRENT_KEY_ID && secret == CURRENT_SECRET;
        if key != CURRENT_KEY_ID && !key.is_empty() && !is_paper_key {
            // Regenerating the live pair revokes the current one.
            world.regenerated = true;
        }
        let keys = if self.paper {
            &world.scenario.paper_keys
        } else {
            &world.scenario.new_keys
        };
        let known = keys
            .iter()
            .find(|(id, pair_secret, _)| *id == key && *pair_secret == secret)
            .map(|(_, _, account)| account.clone());
        let revoked = world.regenerated && world.scenario.old_key_revoked;
        let (status, response) = match (request.method.as_str(), request.url.path()) {
            (_, _) if current && revoked => (401, unauthorized_code_shape()),
            ("GET", "/v2/account") if current => (
                200,
                ResponseTemplate::new(200).set_body_json(world.scenario.current_account.clone()),
            ),
            ("GET", "/v2/account") => match known {
                Some(account) => (200, ResponseTemplate::new(200).set_body_json(account)),
                None => (401, unauthorized_message_shape()),
            },
            ("GET", "/v2/orders") if current && request.url.query() == Some("status=open") => (
                200,
                ResponseTemplate::new(200).set_body_json(world.scenario.open_orders.clone()),
            ),
            ("GET", "/v2/orders") if current => (
                400,
                ResponseTemplate::new(400).set_body_json(json!({"message": "unexpected query"})),
            ),
            _ if !current && known.is_none() => (401, unauthorized_message_shape()),
            _ => (
                404,
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            ),
        };
        world.log(format!(
            "{} {} {} as {} -> {status}",
            if self.paper { "alpaca-paper" } else { "alpaca" },
            request.method,
            with_query(request),
            name_of(&key)
        ));
        response
    }
}

/// The Raxx API: health (the kill switch as the dynos see it) and the Raptor trading endpoints.
struct Raxx(Shared);

impl Respond for Raxx {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut world = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        let (line, response) = match (request.method.as_str(), path.as_str()) {
            ("GET", "/health/trading") => {
                if let Some((value, left)) = world.pending {
                    if left == 0 {
                        world.live_disabled = value;
                        world.pending = None;
                    } else {
                        world.pending = Some((value, left - 1));
                    }
                }
                let live_enabled = !world.live_disabled;
                // The paper kill switch, as the runtime reads it from its config.
                let paper_enabled = world.heroku[PROD_APP]
                    .get("TRADING_PAPER_DISABLED")
                    .is_none_or(|disabled| disabled != "1");
                (
                    format!("raxx GET /health/trading -> live_enabled={live_enabled}"),
                    ResponseTemplate::new(200).set_body_json(json!({
                        "status": "ok",
                        "live_enabled": live_enabled,
                        "paper_enabled": paper_enabled,
                        "checked_at": "2026-04-24T14:00:00Z"
                    })),
                )
            }
            ("GET", "/api/trading/account") => {
                // The runtime talks to Alpaca with the pair its running dynos were started with.
                if let Some((pair, left)) = world.runtime_pending.clone() {
                    if left == 0 {
                        world.runtime_pair = pair;
                        world.runtime_pending = None;
                    } else {
                        world.runtime_pending = Some((pair, left - 1));
                    }
                }
                let pair = (
                    Some(world.runtime_pair.0.as_str()),
                    Some(world.runtime_pair.1.as_str()),
                );
                let works = world
                    .scenario
                    .new_keys
                    .iter()
                    .any(|(id, secret, _)| pair == (Some(*id), Some(*secret)));
                if works && request.url.query() == Some("mode=live") {
                    (
                        format!(
                            "raxx GET {} -> 200 {}",
                            with_query(request),
                            world.scenario.downstream_account_number
                        ),
                        ResponseTemplate::new(200).set_body_json(json!({
                            "mode": "live",
                            "status": "ACTIVE",
                            "account_number": world.scenario.downstream_account_number,
                            "equity": "123346.11",
                            "cash": "5000.10"
                        })),
                    )
                } else {
                    (
                        format!("raxx GET {} -> 401", with_query(request)),
                        ResponseTemplate::new(401)
                            .set_body_json(json!({"error": "alpaca: request is not authorized"})),
                    )
                }
            }
            ("POST", "/api/trading/orders") => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                world.orders.push(body.clone());
                world.order_status = "accepted".to_owned();
                (
                    format!(
                        "raxx POST /api/trading/orders {} {} -> 200 ORDER_ID",
                        body["symbol"], body["limit_price"]
                    ),
                    ResponseTemplate::new(200).set_body_json(json!({
                        "id": ORDER_ID,
                        "client_order_id": "raxx-check-0001",
                        "symbol": body["symbol"],
                        "qty": "1",
                        "side": "buy",
                        "type": "limit",
                        "limit_price": "1",
                        "time_in_force": "day",
                        "status": "accepted"
                    })),
                )
            }
            ("DELETE", path) if path.starts_with("/api/trading/orders/") => {
                let id = path.trim_start_matches("/api/trading/orders/");
                let status = if id == ORDER_ID {
                    world.scenario.cancel_status
                } else {
                    404
                };
                if status == 204 || (id == ORDER_ID && world.scenario.cancelled_by_hand) {
                    world.order_status = "canceled".to_owned();
                }
                let response = match status {
                    204 => ResponseTemplate::new(204),
                    422 => ResponseTemplate::new(422).set_body_json(
                        json!({"code": 42210000, "message": "order is not cancelable"}),
                    ),
                    other => ResponseTemplate::new(other)
                        .set_body_json(json!({"message": "order not found"})),
                };
                (
                    format!(
                        "raxx DELETE /api/trading/orders/{} -> {status}",
                        name_of(id)
                    ),
                    response,
                )
            }
            ("GET", path) if path.starts_with("/api/trading/orders/") => {
                let id = path.trim_start_matches("/api/trading/orders/");
                if id == ORDER_ID && !world.order_status.is_empty() {
                    (
                        format!(
                            "raxx GET /api/trading/orders/{} -> 200 {}",
                            name_of(id),
                            world.order_status
                        ),
                        ResponseTemplate::new(200).set_body_json(json!({
                            "id": ORDER_ID,
                            "symbol": "AAPL",
                            "status": world.order_status,
                        })),
                    )
                } else {
                    (
                        format!("raxx GET /api/trading/orders/{} -> 404", name_of(id)),
                        ResponseTemplate::new(404)
                            .set_body_json(json!({"message": "order not found"})),
                    )
                }
            }
            _ => (
                format!("raxx {} {} -> 404", request.method, with_query(request)),
                ResponseTemplate::new(404),
            ),
        };
        world.log(line);
        response
    }
}

/// The Heroku Platform API: `PATCH /apps/{app}/config-vars`.
struct Heroku(Shared);

impl Respond for Heroku {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut world = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        // `GET /apps/{app}` (app info, no config vars: the runbook's pre-flight) or
        // `PATCH /apps/{app}/config-vars`.
        let app_info = request.method.as_str() == "GET"
            && path
                .strip_prefix("/apps/")
                .is_some_and(|app| !app.contains('/'));
        let app = path
            .strip_prefix("/apps/")
            .map(|rest| rest.strip_suffix("/config-vars").unwrap_or(rest))
            .unwrap_or("")
            .to_owned();
        let body: Map<String, Value> = serde_json::from_slice(&request.body).unwrap_or_default();
        let described = body
            .iter()
            .map(|(name, value)| format!("{name}={}", name_of(value.as_str().unwrap_or("?"))))
            .collect::<Vec<_>>()
            .join(" ");
        let (status, response) = if header(request, "Authorization")
            != Some(&format!("Bearer {HEROKU_TOKEN}"))
        {
            (
                401,
                ResponseTemplate::new(401).set_body_json(json!({
                    "id": "unauthorized",
                    "message": "Invalid credentials provided."
                })),
            )
        } else if !header(request, "Accept").is_some_and(|a| a.contains("version=3")) {
            (
                400,
                ResponseTemplate::new(400)
                    .set_body_json(json!({"id": "bad_request", "message": "no API version"})),
            )
        } else if app_info && world.heroku.contains_key(&app) {
            (
                200,
                ResponseTemplate::new(200)
                    .set_body_json(json!({"name": app, "maintenance": false})),
            )
        } else if request.method.as_str() != "PATCH" || !world.heroku.contains_key(&app) {
            (
                404,
                ResponseTemplate::new(404).set_body_json(json!({
                    "id": "not_found",
                    "message": "Couldn't find that app."
                })),
            )
        } else {
            let config = world.heroku.get_mut(&app).unwrap();
            for (name, value) in &body {
                if value.is_null() {
                    config.remove(name);
                } else {
                    config.insert(name.clone(), value.clone());
                }
            }
            // Heroku answers with all of the app's config vars.
            let all = Value::Object(config.clone());
            let pair = (
                config
                    .get("ALPACA_LIVE_API_KEY_ID")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                config
                    .get("ALPACA_LIVE_API_SECRET_KEY")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            );
            if app == PROD_APP && body.contains_key("ALPACA_LIVE_API_KEY_ID") {
                world.runtime_pending = Some((pair, world.scenario.runtime_restart_requests));
            }
            if app == PROD_APP
                && let Some(disabled) = body.get("TRADING_LIVE_DISABLED").and_then(Value::as_str)
            {
                let disabled = disabled == "1";
                let applies = if disabled {
                    world.scenario.pause_applies
                } else {
                    world.scenario.resume_applies
                };
                if applies && disabled != world.live_disabled {
                    world.pending = Some((disabled, world.scenario.restart_polls));
                }
            }
            (200, ResponseTemplate::new(200).set_body_json(all))
        };
        let line = if app_info {
            format!("heroku GET {app} -> {status}")
        } else {
            format!("heroku {} {app} {described} -> {status}", request.method)
        };
        world.log(line);
        response
    }
}

/// The `infisical` stand-in: logs its argv (one line per call) and the mode of the `--file` it is
/// given, refuses to run without `--env=prod`, keeps `secrets set --file` in a store file. The
/// first `set_failures` calls of `secrets set` fail (counted in `set_failures_count`).
fn infisical_script(
    log: &Path,
    store: &Path,
    timeline: &Path,
    set_failures: u32,
    set_failures_count: &Path,
) -> String {
    format!(
        r#"#!/bin/sh
LOG='{log}'
STORE='{store}'
TIMELINE='{timeline}'
SET_FAILURES={set_failures}
SET_FAILURES_COUNT='{set_failures_count}'
printf '%s\n' "$*" >> "$LOG"
printf 'infisical %s %s\n' "$1" "$2" >> "$TIMELINE"
case " $* " in
  *" --env=prod "*) ;;
  *) echo "stand-in: --env=prod missing (the real CLI silently uses dev)" >&2; exit 1 ;;
esac
case " $* " in
  *" --projectId=proj-123 "*) ;;
  *) echo "stand-in: wrong or missing --projectId" >&2; exit 1 ;;
esac
if [ "$1" = secrets ] && [ "$2" = set ]; then
  failed=$(cat "$SET_FAILURES_COUNT" 2>/dev/null || echo 0)
  if [ "$failed" -lt "$SET_FAILURES" ]; then
    echo $((failed + 1)) > "$SET_FAILURES_COUNT"
    printf 'infisical secrets set -> failed\n' >> "$TIMELINE"
    echo "stand-in: Infisical is unavailable (failure $((failed + 1)) of $SET_FAILURES)" >&2
    exit 1
  fi
  shift 2
  file=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --file) file="$2"; shift 2 ;;
      --file=*) file="${{1#--file=}}"; shift ;;
      -*) shift ;;
      *=*) echo "stand-in: a secret on argv" >&2; exit 1 ;;
      *) shift ;;
    esac
  done
  [ -n "$file" ] && [ -f "$file" ] || {{ echo "stand-in: no --file" >&2; exit 1; }}
  printf 'file %s %s %s\n' "$(stat -c %a "$file")" "$(stat -c %a "$(dirname "$file")")" "$file" >> "$LOG"
  touch "$STORE"
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    key="${{line%%=*}}"
    grep -v "^$key=" "$STORE" > "$STORE.tmp"
    printf '%s\n' "$line" >> "$STORE.tmp"
    mv "$STORE.tmp" "$STORE"
  done < "$file"
  exit 0
fi
if [ "$1" = secrets ] && [ "$2" = get ]; then
  key="$3"
  line=$(grep "^$key=" "$STORE" 2>/dev/null | tail -n 1)
  [ -n "$line" ] && printf '%s\n' "${{line#*=}}"
  exit 0
fi
echo "stand-in: unsupported command" >&2
exit 1
"#,
        log = log.display(),
        store = store.display(),
        timeline = timeline.display(),
        set_failures_count = set_failures_count.display(),
    )
}

/// A test's world: the sandbox, the three servers, the infisical stand-in, the state directory.
struct Rig {
    sandbox: Sandbox,
    world: Shared,
    alpaca: MockServer,
    alpaca_paper: MockServer,
    raxx: MockServer,
    heroku: MockServer,
    state_dir: PathBuf,
    infisical_bin: PathBuf,
    infisical_log: PathBuf,
    infisical_store: PathBuf,
    timeline: PathBuf,
    /// `--input name=value` overrides.
    inputs: Vec<(String, String)>,
}

async fn rig(scenario: Scenario) -> Rig {
    let sandbox = Sandbox::new();
    let timeline = sandbox.path().join("timeline.log");
    let infisical_log = sandbox.path().join("infisical-argv.log");
    let infisical_store = sandbox.path().join("infisical-store.env");
    let script = infisical_script(
        &infisical_log,
        &infisical_store,
        &timeline,
        scenario.infisical_store_failures,
        &sandbox.path().join("infisical-set-failures.count"),
    );
    let infisical_bin = sandbox.write("bin/infisical", &script);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&infisical_bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = |extra: &[(&str, &str)]| {
        let mut config = Map::new();
        for (name, value) in [
            ("DATABASE_URL", DATABASE_URL),
            ("TRADING_LIVE_DISABLED", "0"),
            ("TRADING_PAPER_DISABLED", "0"),
            ("ALPACA_LIVE_API_KEY_ID", CURRENT_KEY_ID),
            ("ALPACA_LIVE_API_SECRET_KEY", CURRENT_SECRET),
        ]
        .iter()
        .chain(extra)
        {
            config.insert((*name).to_owned(), Value::from(*value));
        }
        config
    };
    let mut heroku_apps = BTreeMap::new();
    heroku_apps.insert(PROD_APP.to_owned(), config(&[]));
    heroku_apps.insert(MQA_APP.to_owned(), config(&[("MQA_MODE", "live")]));
    heroku_apps.insert("raxx-api-staging".to_owned(), config(&[]));
    heroku_apps.insert(MQA_PRICING_APP.to_owned(), config(&[("MQA_MODE", "live")]));
    let world = Arc::new(Mutex::new(World {
        scenario,
        timeline: timeline.clone(),
        heroku: heroku_apps,
        live_disabled: false,
        pending: None,
        regenerated: false,
        orders: Vec::new(),
        order_status: String::new(),
        runtime_pair: (CURRENT_KEY_ID.to_owned(), CURRENT_SECRET.to_owned()),
        runtime_pending: None,
    }));
    let alpaca = MockServer::start().await;
    Mock::given(any())
        .respond_with(Alpaca {
            world: world.clone(),
            paper: false,
        })
        .mount(&alpaca)
        .await;
    let alpaca_paper = MockServer::start().await;
    Mock::given(any())
        .respond_with(Alpaca {
            world: world.clone(),
            paper: true,
        })
        .mount(&alpaca_paper)
        .await;
    let raxx = MockServer::start().await;
    Mock::given(any())
        .respond_with(Raxx(world.clone()))
        .mount(&raxx)
        .await;
    let heroku = MockServer::start().await;
    Mock::given(any())
        .respond_with(Heroku(world.clone()))
        .mount(&heroku)
        .await;
    let state_dir = sandbox.path().join("state");
    Rig {
        sandbox,
        world,
        alpaca,
        alpaca_paper,
        raxx,
        heroku,
        state_dir,
        infisical_bin,
        infisical_log,
        infisical_store,
        timeline,
        inputs: Vec::new(),
    }
}

impl Rig {
    fn input(mut self, name: &str, value: &str) -> Self {
        self.inputs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `run runbooks/alpaca-live.yaml --input ...`: the stand-ins' addresses, short timings, and
    /// this test's overrides.
    fn run_args(&self) -> Vec<String> {
        let runbook_file = workspace_root().join("runbooks/alpaca-live.yaml");
        let mut inputs = vec![
            ("alpaca_base_url".to_owned(), self.alpaca.uri()),
            ("raxx_base_url".to_owned(), self.raxx.uri()),
            ("heroku_api_url".to_owned(), self.heroku.uri()),
            ("heroku_app".to_owned(), PROD_APP.to_owned()),
            ("infisical_project_id".to_owned(), "proj-123".to_owned()),
            (
                "infisical_bin".to_owned(),
                self.infisical_bin.display().to_string(),
            ),
            ("health_poll_interval".to_owned(), "100ms".to_owned()),
            ("health_timeout".to_owned(), "2s".to_owned()),
        ];
        for (name, value) in &self.inputs {
            inputs.retain(|(existing, _)| existing != name);
            inputs.push((name.clone(), value.clone()));
        }
        let mut args = vec!["run".to_owned(), runbook_file.display().to_string()];
        for (name, value) in inputs {
            args.push("--input".to_owned());
            args.push(format!("{name}={value}"));
        }
        args
    }

    /// The environment of a run: the current pair and the Heroku token (never on the command
    /// line), the actor, this test's state directory.
    fn run_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("RUNBOOK_STATE_DIR", self.state_dir.display().to_string()),
            ("RUNBOOK_ACTOR", ACTOR.to_owned()),
            ("ALPACA_LIVE_API_KEY_ID", CURRENT_KEY_ID.to_owned()),
            ("ALPACA_LIVE_API_SECRET_KEY", CURRENT_SECRET.to_owned()),
            ("HEROKU_API_KEY", HEROKU_TOKEN.to_owned()),
        ]
    }

    /// Runs the runbook with `answers` as the answers file standing in for the operator.
    fn run(&self, answers: &str) -> Output {
        self.sandbox.write("answers.yaml", answers);
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env_remove("INFISICAL_PROJECT_ID")
            .args(self.run_args())
            .args([
                "--answers",
                "answers.yaml",
                "--allow-answers-file-on-live-run",
            ]);
        for (name, value) in self.run_env() {
            command.env(name, value);
        }
        let output = finish(command);
        eprintln!(
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- timeline\n{}",
            output.code,
            output.stdout,
            output.stderr,
            self.timeline().join("\n")
        );
        output
    }

    /// `runbook resume RUN_ID --output json` with `answers` as the answers file (it replaces the
    /// first run's): the same state directory and environment; the inputs come from the journal.
    fn resume(&self, run_id: &str, answers: &str) -> Output {
        self.sandbox.write("answers.yaml", answers);
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env_remove("INFISICAL_PROJECT_ID")
            .args([
                "resume",
                run_id,
                "--output",
                "json",
                "--answers",
                "answers.yaml",
                "--allow-answers-file-on-live-run",
            ]);
        for (name, value) in self.run_env() {
            command.env(name, value);
        }
        let output = finish(command);
        eprintln!(
            "--- resume: exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- timeline\n{}",
            output.code,
            output.stdout,
            output.stderr,
            self.timeline().join("\n")
        );
        output
    }

    /// The id of the (only) run in the state directory.
    fn run_id(&self) -> String {
        let runs: Vec<String> = std::fs::read_dir(self.state_dir.join("runs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(runs.len(), 1, "{runs:?}");
        runs.into_iter().next().unwrap()
    }

    /// Where the snapshot goes by default: `snapshots/` in the run's folder of the state
    /// directory (issue 13 item 9). A path that does not exist when no run started.
    fn snapshot_dir(&self) -> PathBuf {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.state_dir.join("runs"))
            .into_iter()
            .flatten()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(runs.len() <= 1, "{runs:?}");
        runs.into_iter()
            .next()
            .unwrap_or_else(|| self.state_dir.join("runs/none"))
            .join("snapshots")
    }

    /// What the stand-ins received, in order.
    fn timeline(&self) -> Vec<String> {
        std::fs::read_to_string(&self.timeline)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The timeline with runs of the same line collapsed to `line (xN)`.
    fn story(&self) -> Vec<String> {
        let mut story: Vec<(String, usize)> = Vec::new();
        for line in self.timeline() {
            match story.last_mut() {
                Some((last, n)) if *last == line => *n += 1,
                _ => story.push((line, 1)),
            }
        }
        story
            .into_iter()
            .map(|(line, n)| {
                if n == 1 {
                    line
                } else {
                    format!("{line} (x{n})")
                }
            })
            .collect()
    }

    fn infisical_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.infisical_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn infisical_store(&self) -> String {
        std::fs::read_to_string(&self.infisical_store).unwrap_or_default()
    }

    fn heroku_config(&self, app: &str) -> Map<String, Value> {
        self.world.lock().unwrap().heroku[app].clone()
    }

    fn orders_placed(&self) -> Vec<Value> {
        self.world.lock().unwrap().orders.clone()
    }

    /// The audit log's records.
    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.state_dir.join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The `type: event` records of the audit log (from audit steps).
    fn audit_events(&self) -> Vec<Value> {
        self.audit()
            .into_iter()
            .filter(|record| record["type"] == "event")
            .collect()
    }

    fn event_actions(&self) -> Vec<String> {
        self.audit_events()
            .iter()
            .map(|event| event["action"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// The journal of the (only) run.
    fn journal(&self) -> Vec<Value> {
        let runs = self.state_dir.join("runs");
        let mut journals: Vec<PathBuf> = std::fs::read_dir(&runs)
            .unwrap_or_else(|e| panic!("no runs in {}: {e}", runs.display()))
            .map(|entry| entry.unwrap().path().join("journal.jsonl"))
            .filter(|path| path.is_file())
            .collect();
        assert_eq!(journals.len(), 1, "{journals:?}");
        std::fs::read_to_string(journals.remove(0))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Step outcomes from the journal, in order: `id outcome`.
    fn journal_outcomes(&self) -> Vec<String> {
        self.journal()
            .iter()
            .filter(|record| record["type"] == "step_finished")
            .map(|record| {
                format!(
                    "{} {}",
                    record["step"]
                        .as_str()
                        .or(record["id"].as_str())
                        .unwrap_or("?"),
                    record["outcome"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// Every file the run could have written (the state directory, the snapshots, the stand-in's
    /// argv log, the sandbox), except the test's own inputs and the infisical stand-in's storage.
    fn files_written(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        collect_files(self.sandbox.path(), &mut files);
        files.retain(|path| {
            path != &self.sandbox.path().join("answers.yaml")
                && path != &self.infisical_store
                && path != &self.infisical_bin
        });
        files
    }

    /// No secret in stdout, stderr or any file written (journal, audit log, snapshots, infisical argv
    /// log, timeline); and the private file handed to `infisical --file` is gone.
    fn assert_no_secret_anywhere(&self, output: &Output) {
        for (name, secret) in SECRETS {
            assert!(
                !output.stdout.contains(secret),
                "{name} in stdout:\n{}",
                output.stdout
            );
            assert!(
                !output.stderr.contains(secret),
                "{name} in stderr:\n{}",
                output.stderr
            );
        }
        let files = self.files_written();
        assert!(
            files.iter().any(|f| f.ends_with("audit.jsonl")),
            "the audit log exists: {files:?}"
        );
        assert!(
            files.iter().any(|f| f.ends_with("journal.jsonl")),
            "the journal exists: {files:?}"
        );
        for file in &files {
            let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
            for (name, secret) in SECRETS {
                if name == "DATABASE_URL" {
                    continue; // checked by its own test
                }
                assert!(
                    !text.contains(secret),
                    "{name} in {}:\n{text}",
                    file.display()
                );
            }
        }
        for line in self.infisical_calls() {
            if let Some(rest) = line.strip_prefix("file ") {
                let path = rest.splitn(3, ' ').nth(2).unwrap();
                assert!(
                    !Path::new(path).exists(),
                    "the secrets file {path} was left behind"
                );
            }
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout, output.stderr
    );
}

/// The answers of the happy path: the preconditions confirmed, LIVE typed, the new pair entered.
fn answers(new_keys: &[(&str, &str)]) -> String {
    answers_mqa(new_keys, "no")
}

/// The answers, with `holds_keys` as the operator's answer about MQ-A.
fn answers_mqa(new_keys: &[(&str, &str)], holds_keys: &str) -> String {
    let mut text = format!(
        "preconditions:\n  confirm: true\nmqa_holds_keys:\n  holds_keys: \"{holds_keys}\"\n\
         confirm_live_dashboard:\n  phrase: LIVE\nnew_key:\n",
    );
    for (key_id, secret) in new_keys {
        text.push_str(&format!("  - {{key_id: {key_id}, secret_key: {secret}}}\n"));
    }
    text
}

fn s(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

const PAUSE: &str = "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=1 -> 200";
const RESUME: &str = "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=0 -> 200";
const PROPAGATE: &str = "heroku PATCH raxx-api-prod ALPACA_LIVE_API_KEY_ID=NEW_KEY_ID ALPACA_LIVE_API_SECRET_KEY=NEW_SECRET -> 200";
const HEALTH_LIVE: &str = "raxx GET /health/trading -> live_enabled=true";
const HEALTH_PAUSED: &str = "raxx GET /health/trading -> live_enabled=false";
const OPEN_ORDERS: &str = "alpaca GET /v2/orders?status=open as CURRENT_KEY_ID -> 200";
const SNAPSHOT: &str = "alpaca GET /v2/account as CURRENT_KEY_ID -> 200";
const VALIDATE_NEW: &str = "alpaca GET /v2/account as NEW_KEY_ID -> 200";
const DOWNSTREAM: &str = "raxx GET /api/trading/account?mode=live -> 200 123456789";
const CHECK_ORDER: &str = "raxx POST /api/trading/orders \"AAPL\" 1.0 -> 200 ORDER_ID";
const CANCEL: &str = "raxx DELETE /api/trading/orders/ORDER_ID -> 204";
const CANCELED: &str = "raxx GET /api/trading/orders/ORDER_ID -> 200 canceled";
const PREFLIGHT_HEROKU: &str = "heroku GET raxx-api-prod -> 200";
const OLD_KEY_DEAD: &str = "alpaca GET /v2/account as CURRENT_KEY_ID -> 401";

/// The read-only pre-flight: the current key, the Heroku app, the infisical CLI.
fn preflight() -> Vec<String> {
    s(&[SNAPSHOT, PREFLIGHT_HEROKU, "infisical secrets get"])
}

/// The story up to and including the pause taking effect (two polls still live, then paused).
fn paused() -> Vec<String> {
    concat(&[
        preflight(),
        s(&[PAUSE, &format!("{HEALTH_LIVE} (x2)"), HEALTH_PAUSED]),
    ])
}

/// Storing in Infisical: set from a file, then get to check.
fn stored() -> Vec<String> {
    s(&["infisical secrets set", "infisical secrets get"])
}

fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

/// The one audit event with `action`.
fn event(rig: &Rig, action: &str) -> Value {
    let events: Vec<Value> = rig
        .audit_events()
        .into_iter()
        .filter(|event| event["action"] == action)
        .collect();
    assert_eq!(events.len(), 1, "one {action} event: {events:#?}");
    events.into_iter().next().unwrap()
}

/// The failed event, as the failure path writes it.
fn assert_failed_event(rig: &Rig) {
    let failed = event(rig, "secret.rotate.failed");
    assert_eq!(failed["actor"], ACTOR, "{failed:#}");
    assert_eq!(failed["context"]["secret_name"], "ALPACA_LIVE_API_KEY_ID");
    assert_eq!(failed["context"]["actor"], ACTOR, "{failed:#}");
    // It names the step that stopped the run and why (the kill switch itself is checked against
    // the Heroku stand-in by each test, not claimed by the event).
    assert!(
        failed["context"]["failed_step"]
            .as_str()
            .is_some_and(|step| !step.is_empty()),
        "{failed:#}"
    );
    assert!(
        failed["context"]["failure"]
            .as_str()
            .is_some_and(|why| !why.is_empty()),
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["method"], "operator-assisted-dashboard",
        "{failed:#}"
    );
}

/// Infisical was only read by the pre-flight (is the CLI logged in?): nothing stored.
fn assert_only_preflight_infisical(rig: &Rig) {
    assert_eq!(
        rig.infisical_calls(),
        s(
            &[
                "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
            ]
        ),
    );
}

/// The prod app's kill switch is on and its keys are what `key_id` says.
fn assert_prod_config(rig: &Rig, live_disabled: &str, key_id: &str) {
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], live_disabled, "{config:?}");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], key_id);
}

/// Every Heroku request carried the token and the API version.
async fn assert_heroku_requests_authorized(rig: &Rig) {
    let requests = rig.heroku.received_requests().await.unwrap();
    for request in &requests {
        assert_eq!(
            header(request, "Authorization"),
            Some(format!("Bearer {HEROKU_TOKEN}").as_str())
        );
        assert_eq!(
            header(request, "Accept"),
            Some("application/vnd.heroku+json; version=3")
        );
        if request.method.as_str() == "GET" {
            // The pre-flight's app info: never the config vars (they hold secrets).
            assert!(
                !request.url.path().contains("config-vars"),
                "{}",
                request.url
            );
            continue;
        }
        assert_eq!(header(request, "content-type"), Some("application/json"));
        assert_eq!(request.method.as_str(), "PATCH");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The happy path.

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_pauses_rotates_verifies_resumes_and_audits() {
    let rig = rig(Scenario::default()).await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);

    // The whole story, in order, across every stand-in.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    assert_heroku_requests_authorized(&rig).await;
    // The production app ends with the new pair and trading live; no other app was touched.
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "0");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], NEW_KEY_ID);
    assert_eq!(config["ALPACA_LIVE_API_SECRET_KEY"], NEW_SECRET);
    assert_eq!(
        rig.heroku_config(MQA_APP)["ALPACA_LIVE_API_KEY_ID"],
        CURRENT_KEY_ID
    );

    // Alpaca saw the right headers on every request.
    for request in rig.alpaca.received_requests().await.unwrap() {
        let key = header(&request, "APCA-API-KEY-ID").unwrap();
        let secret = header(&request, "APCA-API-SECRET-KEY").unwrap();
        assert!(
            (key, secret) == (CURRENT_KEY_ID, CURRENT_SECRET)
                || (key, secret) == (NEW_KEY_ID, NEW_SECRET),
            "{key}"
        );
    }

    // The check order: tiny, far from market, live, and cancelled by its id.
    let orders = rig.orders_placed();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0],
        json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit", "limit_price": 1.0,
               "time_in_force": "day", "mode": "live"})
    );

    // Infisical: the pre-flight's read (is the CLI logged in?), then explicit prod, the pair from
    // a private file, never on argv.
    let calls = rig.infisical_calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert_eq!(
        calls[0],
        "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
    );
    assert!(
        calls[1].starts_with("secrets set --file /")
            && calls[1].ends_with(" --projectId=proj-123 --env=prod --silent"),
        "{calls:?}"
    );
    let file_line: Vec<&str> = calls[2].split(' ').collect();
    assert_eq!(&file_line[..2], &["file", "600"], "owner-only: {calls:?}");
    assert_eq!(
        calls[3],
        "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
    );
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );

    // The snapshot: in the run's folder of the state directory (not the current directory),
    // owner-only, UTC timestamp in its name, the account as fetched, no credentials.
    assert!(
        rig.snapshot_dir()
            .starts_with(rig.state_dir.join("runs").join(rig.run_id())),
        "{}",
        rig.snapshot_dir().display()
    );
    assert!(!rig.sandbox.path().join("alpaca-snapshots").exists());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(rig.snapshot_dir())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let snapshots: Vec<PathBuf> = std::fs::read_dir(rig.snapshot_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let snapshot = &snapshots[0];
    let name = snapshot.file_name().unwrap().to_str().unwrap();
    let stamp = name
        .strip_prefix("alpaca-live-pre-rotate-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("snapshot name {name}"));
    assert_eq!(stamp.len(), "20260424T140211Z".len(), "{name}");
    assert!(
        stamp.ends_with('Z')
            && stamp.as_bytes()[8] == b'T'
            && stamp[..8].bytes().all(|b| b.is_ascii_digit())
            && stamp[9..15].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    let now = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    assert_eq!(&stamp[..8], now, "UTC date in {name}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(snapshot).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(snapshot).unwrap()).unwrap();
    assert_eq!(saved["account"], live_account());

    // The completed event: who, how, when, and how long trading was down.
    let actions = rig.event_actions();
    assert_eq!(actions, vec!["secret.rotate.completed"], "no failed event");
    let completed = event(&rig, "secret.rotate.completed");
    let context = &completed["context"];
    assert_eq!(completed["actor"], ACTOR);
    assert_eq!(context["actor"], ACTOR, "{completed:#}");
    assert_eq!(context["secret_name"], "ALPACA_LIVE_API_KEY_ID");
    assert_eq!(context["method"], "operator-assisted-dashboard");
    // Computed from the runtime's answer, not written into the runbook.
    assert_eq!(context["account_number_verified"], true, "{completed:#}");
    assert_eq!(context["new_key_comparison"], "match", "{completed:#}");
    assert_eq!(context["new_key_differences"], json!([]), "{completed:#}");
    assert_eq!(context["equity_drift_prompt"], "skipped", "{completed:#}");
    // The operator's MQ-A answer (item 5), with the app given (none).
    assert_eq!(context["mqa_holds_keys"], "no", "{completed:#}");
    assert_eq!(context["mqa_heroku_app"], "", "{completed:#}");
    assert_eq!(
        context["snapshot_file"],
        snapshot.display().to_string(),
        "{completed:#}"
    );
    let downtime = context["downtime_seconds"].as_f64().unwrap_or_else(|| {
        panic!("downtime_seconds is a number: {completed:#}");
    });
    let paused_at: jiff::Timestamp = context["trading_paused_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let resumed_at: jiff::Timestamp = context["trading_resumed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(downtime > 0.0 && downtime < 60.0, "{completed:#}");
    // The pause was requested (trading_paused_at) before it was confirmed.
    let confirmed_at: jiff::Timestamp = context["trading_pause_confirmed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        paused_at < confirmed_at && confirmed_at < resumed_at,
        "{completed:#}"
    );
    let between = resumed_at.duration_since(paused_at).as_secs_f64();
    assert!(
        (between - downtime).abs() < 0.01,
        "downtime {downtime} is resumed_at - paused_at ({between})"
    );

    // The journal says every step passed; the run ended well.
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes.iter().any(|o| o.ends_with(" failed")),
        "{outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
    assert!(
        output
            .stdout
            .contains("an answers file stood in for the operator"),
        "{}",
        output.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Open orders present: the operator sees them and decides.

fn with_open_orders() -> Scenario {
    Scenario {
        open_orders: json!([open_order()]),
        ..Scenario::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_are_shown_and_the_operator_may_continue() {
    let rig = rig(with_open_orders()).await;
    let answers = format!(
        "decide_open_orders:\n  confirm: true\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 0);
    // The operator's answer is on the record (the terminal variant below shows what they see).
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|record| {
            record["type"] == "prompt_answered" && record["step"] == "decide_open_orders"
        })
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["confirmed"], true, "{answered:#?}");
    // The rotation went on as on the happy path; the open order was left alone.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    rig.assert_no_secret_anywhere(&output);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_declined_stop_the_rotation_with_trading_paused() {
    let rig = rig(with_open_orders()).await;
    let answers = format!(
        "decide_open_orders:\n  confirm: false\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    // Declined, and the failure path (keep paused, audit) ran cleanly.
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the operator answered no to: Continue the rotation with these orders open?"),
        "{}",
        output.stdout
    );
    // Paused, orders listed, then only the failure path: no snapshot, no key, nothing stored or
    // propagated, no check order, no resume.
    assert_eq!(rig.story(), concat(&[paused(), s(&[OPEN_ORDERS, PAUSE])]));
    assert_only_preflight_infisical(&rig);
    assert!(!rig.snapshot_dir().exists());
    assert_prod_config(&rig, "1", CURRENT_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let outcomes = rig.journal_outcomes();
    assert!(
        outcomes.contains(&"decide_open_orders failed".to_owned())
            && !outcomes.iter().any(|o| o.starts_with("new_key ")),
        "{outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 3. The pause never shows in /health/trading.

#[tokio::test(flavor = "multi_thread")]
async fn health_never_flips_fails_closed_with_trading_kept_paused() {
    let rig = rig(Scenario {
        pause_applies: false,
        ..Scenario::default()
    })
    .await;
    let started = std::time::Instant::now();
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    let took = started.elapsed();
    // The wait timed out; the failure path ran cleanly.
    assert_code(&output, 10);
    // The engine gives up when the next (backed-off) poll would land after the timeout.
    assert!(
        took >= std::time::Duration::from_secs(1) && took < std::time::Duration::from_secs(15),
        "{took:?}"
    );
    // The last value seen is in the message.
    assert!(
        output
            .stdout
            .contains("the condition did not hold within 2s")
            && output.stdout.contains("last observed: true"),
        "{}",
        output.stdout
    );
    let story = rig.story();
    assert_eq!(story.len(), 6, "{story:#?}");
    assert_eq!(story[..3], preflight()[..], "{story:#?}");
    assert_eq!(story[3], PAUSE);
    assert!(
        story[4].starts_with(&format!("{HEALTH_LIVE} (x")),
        "{story:#?}"
    );
    assert_eq!(story[5], PAUSE, "the failure path keeps trading paused");
    // Nothing else happened: Alpaca only read by the pre-flight, no snapshot, no key prompt,
    // nothing stored.
    assert_eq!(rig.alpaca.received_requests().await.unwrap().len(), 1);
    assert_eq!(rig.infisical_calls().len(), 1, "the pre-flight's read only");
    assert!(!rig.snapshot_dir().exists());
    assert!(
        !rig.audit()
            .iter()
            .any(|r| r["type"] == "prompt_answered" && r["step"] != "mqa_holds_keys"),
        "no prompt answered but the pre-flight's MQ-A question"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes,
        s(&[
            "production_only passed",
            "mqa_holds_keys passed",
            "mqa_app_agrees passed",
            "preflight_current_key passed",
            "preflight_current_key_is_live passed",
            "preflight_heroku passed",
            "preflight_heroku_mqa skipped",
            "preflight_infisical passed",
            "pause.kill_switch passed",
            "pause.confirm failed",
            "pause failed",
            "keep_trading_paused passed",
            "audit_resume_unconfirmed skipped",
            "audit_failed_check_order_open skipped",
            "audit_failed_keys_live skipped",
            "audit_failed_keys_unknown skipped",
            "audit_failed passed",
        ]),
    );
    let wait = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "pause.confirm")
        .unwrap();
    assert_eq!(wait["error"]["kind"], "timeout", "{wait:#}");
    assert!(
        wait["error"]["message"].as_str().unwrap().contains("true"),
        "last observed value in {wait:#}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    // The failed event names the step that stopped the run (the top-level step: `pause`, which
    // uses the pause-trading fragment, as a group is named) and why (the inner step's own
    // message); it claims nothing about trading, which the health endpoint never confirmed
    // paused.
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(failed["context"]["actor"], ACTOR, "{failed:#}");
    assert_eq!(failed["context"]["failed_step"], "pause", "{failed:#}");
    assert!(
        failed["context"]["failure"]
            .as_str()
            .is_some_and(|why| why.contains("did not hold within")),
        "{failed:#}"
    );
    assert!(failed["context"].get("trading").is_none(), "{failed:#}");
    // Before the key was regenerated: the new pair is not in production, no check order.
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], false,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["open_check_order_id"],
        Value::Null,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// The open-orders path at a real terminal (a pseudo-terminal): the operator sees the orders,
/// answers y, types LIVE and the new pair (the secret masked, twice); nothing echoes the secret.
#[tokio::test(flavor = "multi_thread")]
async fn open_orders_at_the_terminal_the_operator_sees_them_and_continues() {
    use rexpect::process::WaitStatus;

    let rig = rig(with_open_orders()).await;
    let binary = assert_cmd::cargo::cargo_bin("runbook");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("stty echo; exec \"$@\"")
        .arg("sh")
        .arg(binary)
        .args(rig.run_args())
        .current_dir(rig.sandbox.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("RUST_LOG")
        .env_remove("INFISICAL_PROJECT_ID")
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS");
    for (name, value) in rig.run_env() {
        command.env(name, value);
    }
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("pty");
    // Everything the terminal shows, including the text each expectation matched.
    let mut seen = String::new();
    let mut expect = |session: &mut rexpect::session::PtySession, text: &str| {
        let before = session
            .exp_string(text)
            .unwrap_or_else(|e| panic!("`{text}` never shown: {e}\n{seen}"));
        seen.push_str(&before);
        seen.push_str(text);
    };
    // The SOP's Critical section first: the preconditions, confirmed once.
    expect(
        &mut session,
        "Before the first step, confirm that all of these hold:",
    );
    expect(&mut session, "algorithmic strategies that use these keys");
    expect(&mut session, "Do they all hold?");
    session.send_line("y").expect("answer");
    // The MQ-A question (a list, "yes" first): down to "no", then Enter.
    expect(&mut session, "Does MQ-A hold the live Alpaca keys");
    session.send("j").expect("down");
    session.send_line("").expect("pick");
    expect(&mut session, "There are open orders on the live account");
    expect(
        &mut session,
        "Continue the rotation with these orders open?",
    );
    session.send_line("y").expect("answer");
    expect(&mut session, "Type LIVE to continue");
    session.send_line("LIVE").expect("type");
    expect(&mut session, "New Key ID");
    session.send_line(NEW_KEY_ID).expect("type");
    expect(&mut session, "New Secret Key");
    session.send_line(NEW_SECRET).expect("type");
    expect(&mut session, "(again)");
    session.send_line(NEW_SECRET).expect("type again");
    seen.push_str(&session.exp_eof().expect("the run ends"));
    let code = match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}\n{seen}"),
    };
    eprintln!(
        "--- terminal\n{seen}\n--- timeline\n{}",
        rig.timeline().join("\n")
    );
    assert_eq!(code, 0, "{seen}");
    // What the operator saw: the order itself, and the live account to rotate.
    for shown in [OPEN_ORDER_ID, "MSFT", "401.25", ACCOUNT_NUMBER] {
        assert!(seen.contains(shown), "`{shown}` not shown:\n{seen}");
    }
    assert!(!seen.contains(NEW_SECRET), "the secret was echoed:\n{seen}");
    assert!(
        !seen.contains(NEW_KEY_ID),
        "the key id is masked like the current one:\n{seen}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.heroku_config(PROD_APP)["ALPACA_LIVE_API_SECRET_KEY"],
        NEW_SECRET
    );
    let output = Output {
        code,
        stdout: seen,
        stderr: String::new(),
    };
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 4. The new key is rejected at validation; the operator regenerates and the second pair works.

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_new_key_is_regenerated_and_the_second_pair_goes_through() {
    let rig = rig(Scenario::default()).await;
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(BAD_KEY_ID, BAD_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 0);
    // The rejection was reported the way Alpaca said it, and the group was repeated.
    assert!(
        output
            .stdout
            .contains("the key was rejected (401): unauthorized."),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("attempt 2 of 3"),
        "{}",
        output.stdout
    );
    // Validated twice; stored, propagated and verified once, with the second pair only.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[
                OPEN_ORDERS,
                SNAPSHOT,
                "alpaca GET /v2/account as BAD_KEY_ID -> 401",
                VALIDATE_NEW,
            ]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    let calls = rig.infisical_calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.starts_with("secrets set"))
            .count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.heroku_config(PROD_APP)["ALPACA_LIVE_API_SECRET_KEY"],
        NEW_SECRET
    );
    // The journal: the key entered twice, the first validation failed.
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "new_key passed").count(),
        2,
        "{outcomes:#?}"
    );
    assert!(
        outcomes.contains(&"validate_new_key failed".to_owned()),
        "{outcomes:#?}"
    );
    // Only the completed event: the repeat is not a failure of the rotation.
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_eq!(
        event(&rig, "secret.rotate.completed")["context"]["account_number_verified"],
        true
    );
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 5. The new key belongs to the PAPER account: wrong environment.

#[tokio::test(flavor = "multi_thread")]
async fn a_paper_key_is_the_wrong_environment_both_modes_paused_nothing_propagated() {
    let rig = rig(Scenario {
        new_keys: vec![
            (PAPER_KEY_ID, PAPER_SECRET, paper_account()),
            (NEW_KEY_ID, NEW_SECRET, live_account()),
        ],
        ..Scenario::default()
    })
    .await;
    // A second (good) pair and a retry are offered; neither may be used.
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(PAPER_KEY_ID, PAPER_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output.stdout.contains(
            "WRONG ENVIRONMENT: the new key belongs to the PAPER account PA3KQ9Z1X2Y3, but this \
             rotation is for the LIVE account 123456789"
        ),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("it stops the run (no repeat)"),
        "{}",
        output.stdout
    );
    // Validated once; then both modes paused, then the failure path. Nothing stored or
    // propagated, no check order, no resume, and no second key asked for.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[
                OPEN_ORDERS,
                SNAPSHOT,
                "alpaca GET /v2/account as PAPER_KEY_ID -> 200",
                "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=1 TRADING_PAPER_DISABLED=1 -> 200",
                // Both pauses confirmed through health before the run stops (item 10).
                HEALTH_PAUSED,
                PAUSE,
            ]),
        ]),
    );
    assert_heroku_requests_authorized(&rig).await;
    assert_only_preflight_infisical(&rig);
    assert_eq!(rig.infisical_store(), "");
    assert!(rig.orders_placed().is_empty());
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    // The mis-rotation event, with both account numbers, then the failed event.
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.misrotation", "secret.rotate.failed"]
    );
    let misrotation = event(&rig, "secret.rotate.misrotation");
    assert_eq!(misrotation["actor"], ACTOR);
    assert_eq!(
        misrotation["context"],
        json!({
            "secret_name": "ALPACA_LIVE_API_KEY_ID",
            "actor": ACTOR,
            "verdict": "wrong_environment",
            "expected_environment": "live",
            "rotated_environment": "paper",
            "expected_account_number": ACCOUNT_NUMBER,
            "rotated_account_number": PAPER_ACCOUNT_NUMBER,
            "kill_switches_set": ["TRADING_LIVE_DISABLED", "TRADING_PAPER_DISABLED"],
            "new_keys_live_in_production": false
        }),
        "{misrotation:#}"
    );
    assert_failed_event(&rig);
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 6. The runtime reports another account after propagation.

#[tokio::test(flavor = "multi_thread")]
async fn a_downstream_account_mismatch_places_no_check_order_and_keeps_trading_paused() {
    let rig = rig(Scenario {
        downstream_account_number: OTHER_ACCOUNT_NUMBER,
        ..Scenario::default()
    })
    .await;
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the runtime's live account is not the snapshot's account"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("the operator chose to abort"),
        "{}",
        output.stdout
    );
    // Verify comes before the check order: no order placed, none to cancel; no resume. Verify polls
    // (the dynos may still be restarting) until its timeout, so how often it asked varies.
    let story: Vec<String> = rig
        .story()
        .into_iter()
        .map(|line| match line.split_once(" (x") {
            Some((head, _)) if head.contains("/api/trading/account") => head.to_owned(),
            _ => line,
        })
        .collect();
    assert_eq!(
        story,
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                "raxx GET /api/trading/account?mode=live -> 200 987654321",
                PAUSE,
            ]),
        ]),
    );
    assert!(rig.orders_placed().is_empty());
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], true,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["open_check_order_id"],
        Value::Null,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 7. The check order cannot be cancelled.

#[tokio::test(flavor = "multi_thread")]
async fn a_check_order_that_cannot_be_cancelled_fails_the_run_and_says_cancel_it() {
    let rig = rig(Scenario {
        cancel_status: 422,
        ..Scenario::default()
    })
    .await;
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    // The operator is told to cancel it by hand.
    assert!(
        output.stdout.contains("cancel it in the dashboard NOW"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("is accepted, not canceled"),
        "{}",
        output.stdout
    );
    // Placed once; a 422 ("not cancelable") is not retried (transport errors and 5xx would be);
    // the order is read: still `accepted`, so the run fails; no repeat, no resume: paused.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                "raxx DELETE /api/trading/orders/ORDER_ID -> 422",
                "raxx GET /api/trading/orders/ORDER_ID -> 200 accepted",
                PAUSE,
            ]),
        ]),
    );
    assert_eq!(rig.orders_placed().len(), 1);
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    // The failed event says which live order may still be open, and that the new pair is live.
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(
        failed["context"]["open_check_order_id"], ORDER_ID,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], true,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 8. The old pair still works after regeneration.

#[tokio::test(flavor = "multi_thread")]
async fn an_old_key_still_accepted_fails_with_trading_kept_paused() {
    let rig = rig(Scenario {
        old_key_revoked: false,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the OLD key pair is still accepted: regeneration did not revoke it"),
        "{}",
        output.stdout
    );
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                "alpaca GET /v2/account as CURRENT_KEY_ID -> 200",
                PAUSE,
            ]),
        ]),
    );
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let old_key = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "old_key_rejected")
        .unwrap();
    assert_eq!(old_key["error"]["kind"], "assertion", "{old_key:#}");
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 9. The resume never shows in /health/trading.

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_never_confirmed_fails_closed_and_pauses_again() {
    let rig = rig(Scenario {
        resume_applies: false,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the condition did not hold within 2s")
            && output.stdout.contains("last observed: false"),
        "{}",
        output.stdout
    );
    let story = rig.story();
    let expected = concat(&[
        paused(),
        s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
        stored(),
        s(&[
            PROPAGATE,
            DOWNSTREAM,
            CHECK_ORDER,
            CANCEL,
            CANCELED,
            OLD_KEY_DEAD,
            RESUME,
        ]),
    ]);
    assert_eq!(story[..expected.len()], expected[..], "{story:#?}");
    assert!(
        story[expected.len()].starts_with(&format!("{HEALTH_PAUSED} (x")),
        "{story:#?}"
    );
    assert_eq!(story[expected.len() + 1..], s(&[PAUSE])[..], "{story:#?}");
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    // No completed event: the rotation is not done until trading is confirmed live. Nor a failed
    // one: the key was rotated and verified (item 8).
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.resume_unconfirmed"]
    );
    let unconfirmed = event(&rig, "secret.rotate.resume_unconfirmed");
    let context = &unconfirmed["context"];
    // The step using the resume-trading fragment; the failure is its `confirm` step's timeout.
    assert_eq!(context["failed_step"], "resume", "{unconfirmed:#}");
    assert!(
        context["failure"]
            .as_str()
            .is_some_and(|why| why.contains("did not hold within")),
        "{unconfirmed:#}"
    );
    assert_eq!(
        context["new_keys_live_in_production"], true,
        "{unconfirmed:#}"
    );
    assert_eq!(context["account_number_verified"], true, "{unconfirmed:#}");
    assert_eq!(
        context["open_check_order_id"],
        Value::Null,
        "{unconfirmed:#}"
    );
    let wait = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "resume.confirm")
        .unwrap();
    assert_eq!(wait["error"]["kind"], "timeout", "{wait:#}");
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// More paths and properties: the MQ-A layer, production only, a paper CURRENT key, the dyno
// restart after propagation, what Heroku echoes, the private file, a paper pair as real Alpaca
// treats it, lint. Some of these state what the runbook must do and fail against it as it is
// (reported with the fix each needs); they are kept failing on purpose, not ignored.

#[tokio::test(flavor = "multi_thread")]
async fn with_the_mqa_layer_configured_both_production_apps_get_the_new_pair() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", MQA_APP);
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_code(&output, 0);
    assert_eq!(
        rig.story(),
        concat(&[
            s(&[
                SNAPSHOT,
                PREFLIGHT_HEROKU,
                "heroku GET raxx-mqa-prod -> 200"
            ]),
            paused()[2..].to_vec(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                "heroku PATCH raxx-mqa-prod ALPACA_LIVE_API_KEY_ID=NEW_KEY_ID ALPACA_LIVE_API_SECRET_KEY=NEW_SECRET -> 200",
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    assert_heroku_requests_authorized(&rig).await;
    let mqa = rig.heroku_config(MQA_APP);
    assert_eq!(mqa["ALPACA_LIVE_API_KEY_ID"], NEW_KEY_ID);
    assert_eq!(mqa["ALPACA_LIVE_API_SECRET_KEY"], NEW_SECRET);
    assert_eq!(
        mqa["TRADING_LIVE_DISABLED"], "0",
        "the MQ-A app's kill switch is not touched"
    );
    assert_eq!(
        rig.heroku_config("raxx-api-staging")["ALPACA_LIVE_API_KEY_ID"],
        CURRENT_KEY_ID
    );
    rig.assert_no_secret_anywhere(&output);
}

/// A non-production target is known from the inputs before anything starts: the run must refuse
/// before pausing trading and, above all, before the operator regenerates the key (the point of no
/// return), not after.
#[tokio::test(flavor = "multi_thread")]
async fn a_staging_target_is_refused_before_trading_is_paused_or_a_key_regenerated() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", "raxx-mqa-staging");
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert!(
        output
            .stdout
            .contains("the MQ-A app is not a production app; live keys belong only to production"),
        "{}",
        output.stdout
    );
    assert_ne!(output.code, 0);
    // Nothing stored or propagated anywhere; refused even before the pre-flight's reads.
    assert!(rig.infisical_calls().is_empty());
    assert!(
        !rig.timeline()
            .iter()
            .any(|line| line.contains("ALPACA_LIVE")),
        "{:#?}",
        rig.timeline()
    );
    // The refusal came first: no key regenerated, trading never paused.
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes.iter().any(|o| o.starts_with("new_key ")),
        "the operator was sent to regenerate the live key before the refusal: {outcomes:#?}"
    );
    assert!(
        !rig.timeline().contains(&PAUSE.to_owned()),
        "trading was paused for a run that could never complete: {:#?}",
        rig.timeline()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_current_key_of_a_paper_account_stops_before_the_point_of_no_return() {
    let rig = rig(Scenario {
        current_account: paper_account(),
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output.stdout.contains(
            "the CURRENT key (ALPACA_LIVE_API_KEY_ID) belongs to the PAPER account PA3KQ9Z1X2Y3"
        ) && output.stdout.contains("Nothing was changed."),
        "{}",
        output.stdout
    );
    // The pre-flight's read, and nothing else: trading was never paused (issue 13 item 4).
    assert_eq!(rig.story(), s(&[SNAPSHOT]));
    assert_prod_config(&rig, "0", CURRENT_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes
            .iter()
            .any(|o| o.starts_with("new_key ") || o.starts_with("confirm_live_dashboard ")),
        "{outcomes:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    rig.assert_no_secret_anywhere(&output);
}

/// Heroku answers a config change before the dynos restart (services.md): for a while the old
/// dynos, still holding the old (now revoked) pair, serve the Raptor endpoints. Verifying
/// downstream at once sees the dead pair, and the repeat then sends the operator to regenerate a
/// key that is fine. The runbook must wait for the runtime to run the new pair (as it waits for
/// the kill switch) before it verifies.
#[tokio::test(flavor = "multi_thread")]
async fn downstream_verification_waits_for_the_dynos_to_restart_with_the_new_pair() {
    let rig = rig(Scenario {
        runtime_restart_requests: 2,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "a good key must not be regenerated: {outcomes:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
}

/// Heroku answers `PATCH /apps/{app}/config-vars` with ALL of the app's config vars: production
/// secrets the runbook knows nothing about (here DATABASE_URL) must not end up in the journal, the
/// audit log or the terminal. Here the app holds the live pair under other names, so the echoed
/// body holds no secret the engine knows of (which would get the whole body withheld).
#[tokio::test(flavor = "multi_thread")]
async fn config_vars_heroku_echoes_back_reach_no_output_or_file() {
    let rig = rig(Scenario::default()).await;
    {
        let mut world = rig.world.lock().unwrap();
        let config = world.heroku.get_mut(PROD_APP).unwrap();
        config.remove("ALPACA_LIVE_API_KEY_ID");
        config.remove("ALPACA_LIVE_API_SECRET_KEY");
    }
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    assert!(!output.stdout.contains(DATABASE_URL) && !output.stderr.contains(DATABASE_URL));
    for file in rig.files_written() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains("DB-PASSWORD-c3d4e5"),
            "a production config var Heroku echoed is in {}:\n{}",
            file.display(),
            text.lines()
                .filter(|line| line.contains("DB-PASSWORD"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The file handed to `infisical secrets set --file` is owner-only in an owner-only directory
/// (as the runbook says: "0600 in a 0700 temporary directory"), and is gone afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn the_infisical_secrets_file_is_private_and_removed() {
    let rig = rig(Scenario::default()).await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let calls = rig.infisical_calls();
    let file_line = calls
        .iter()
        .find(|line| line.starts_with("file "))
        .unwrap_or_else(|| panic!("{calls:?}"));
    let fields: Vec<&str> = file_line.splitn(4, ' ').collect();
    assert!(!Path::new(fields[3]).exists(), "{file_line}");
    assert_eq!(fields[1], "600", "file mode: {file_line}");
    assert_eq!(fields[2], "700", "directory mode: {file_line}");
}

/// No findings at all: no errors and no warnings (the header's preconditions are the prompt
/// before `pause`, the first side effect).
#[test]
fn the_runbook_lints_clean() {
    let mut command = runbook();
    command.args(["lint", "runbooks/alpaca-live.yaml"]);
    command.current_dir(workspace_root());
    let output = finish(command);
    assert_code(&output, 0);
    assert_eq!(output.stdout, "1 runbook checked: no findings\n");
}

/// The production-only check must not refuse a production app whose name merely contains one of
/// the words as letters ("pri-ci-ng" has "ci"); it runs after the point of no return, so a false
/// refusal leaves production with a dead key.
#[tokio::test(flavor = "multi_thread")]
async fn a_production_app_whose_name_contains_ci_is_not_refused() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", MQA_PRICING_APP);
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_code(&output, 0);
    assert_eq!(
        rig.heroku_config(MQA_PRICING_APP)["ALPACA_LIVE_API_KEY_ID"],
        NEW_KEY_ID
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
}

/// With real Alpaca a paper pair is never accepted by the live API: it gets 401 there, so the
/// runbook's WRONG ENVIRONMENT branch (a PA account seen through the live URL) cannot fire. The
/// mistake must still be recognised (ask the paper API about a pair the live API rejects): both
/// modes paused, the mis-rotation recorded, no "regenerate again" loop on the paper dashboard.
/// The paper API's address is given as the input `alpaca_paper_base_url` (the fix must add it,
/// default https://paper-api.alpaca.markets).
#[tokio::test(flavor = "multi_thread")]
async fn a_paper_pair_the_live_api_rejects_is_still_recognised_as_the_wrong_environment() {
    let scenario = Scenario {
        paper_keys: vec![(PAPER_KEY_ID, PAPER_SECRET, paper_account())],
        ..Scenario::default()
    };
    let rig = rig(scenario).await;
    let paper_url = rig.alpaca_paper.uri();
    let rig = rig.input("alpaca_paper_base_url", &paper_url);
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(PAPER_KEY_ID, PAPER_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output.stdout.contains("WRONG ENVIRONMENT"),
        "{}",
        output.stdout
    );
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    assert_only_preflight_infisical(&rig);
    let misrotation = event(&rig, "secret.rotate.misrotation");
    assert_eq!(
        misrotation["context"]["rotated_account_number"], PAPER_ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    assert_eq!(
        misrotation["context"]["expected_account_number"], ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}

// ---------------------------------------------------------------------------------------------
// 14. Abort, then resume: the group's `finally` runs for what the resumed session did.
//
// The defect: Infisical failed once inside the rotation group, the operator aborted, and
// `runbook resume` placed a new check order, then restored the group's `finally`
// (`cancel_check_order`) from the first session, where it had only been skipped (no order yet):
// "completed before the run was interrupted; not repeated". The live check order stayed open and
// the run ended `succeeded` with `secret.rotate.completed`.

/// The `step_finished` records of `step` in the journal, in order.
fn finished_records(rig: &Rig, step: &str) -> Vec<Value> {
    rig.journal()
        .into_iter()
        .filter(|record| record["type"] == "step_finished" && record["step"] == step)
        .collect()
}

/// The requests to the Raxx stand-in's check-order endpoints, as `METHOD path`.
async fn order_requests(rig: &Rig) -> Vec<String> {
    rig.raxx
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path().starts_with("/api/trading/orders"))
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aborted_rotation_resumed_cancels_the_check_order_it_placed() {
    let rig = rig(Scenario {
        infisical_store_failures: 3,
        ..Scenario::default()
    })
    .await;

    // First session: the Infisical store fails inside the group (all three of the step's
    // attempts) and the operator aborts instead of repeating it. No check order exists yet, so the group's `finally` is skipped by its `when`;
    // the failure path keeps trading paused.
    let first = rig.run(&format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&first, 10);
    let run_id = rig.run_id();
    for expected in [
        "the operator chose to abort",
        "stand-in: Infisical is unavailable (failure 3 of 3)",
        &format!("to continue after fixing the cause: runbook resume {run_id}"),
    ] {
        assert!(
            first.stdout.contains(expected),
            "{expected}:\n{}",
            first.stdout
        );
    }
    let first_story = concat(&[
        paused(),
        s(&[
            OPEN_ORDERS,
            SNAPSHOT,
            VALIDATE_NEW,
            "infisical secrets set",
            "infisical secrets set -> failed",
            "infisical secrets set",
            "infisical secrets set -> failed",
            "infisical secrets set",
            "infisical secrets set -> failed",
            PAUSE,
        ]),
    ]);
    assert_eq!(rig.story(), first_story);
    assert_eq!(order_requests(&rig).await, Vec::<String>::new());
    assert!(rig.orders_placed().is_empty());
    assert_eq!(rig.infisical_store(), "");
    assert_prod_config(&rig, "1", CURRENT_KEY_ID);
    let cancels = finished_records(&rig, "cancel_check_order");
    assert_eq!(cancels.len(), 1, "{cancels:#?}");
    assert_eq!(cancels[0]["outcome"], "skipped", "{cancels:#?}");
    assert_eq!(
        cancels[0]["note"], "its `when` condition did not hold",
        "{cancels:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    assert_eq!(
        event(&rig, "secret.rotate.failed")["context"]["failed_step"],
        "propagation"
    );
    rig.assert_no_secret_anywhere(&first);

    // The resume, with Infisical working again. The journal keeps no secrets, so the new pair is
    // entered again (the restored `new_key`'s secret answer); LIVE was typed and is restored.
    let resumed = rig.resume(&run_id, &answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&resumed, 0);
    let report: Value = serde_json::from_str(&resumed.stdout)
        .unwrap_or_else(|error| panic!("not a JSON report ({error}):\n{}", resumed.stdout));
    assert_eq!(report["run_id"], run_id.as_str(), "{report:#}");
    assert_eq!(report["status"], "succeeded", "{report:#}");

    // The resumed session placed a check order and cancelled it, by its id.
    assert_eq!(
        rig.story(),
        concat(&[
            first_story,
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    assert_eq!(
        order_requests(&rig).await,
        vec![
            "POST /api/trading/orders".to_owned(),
            format!("DELETE /api/trading/orders/{ORDER_ID}"),
            format!("GET /api/trading/orders/{ORDER_ID}"),
        ]
    );
    assert_eq!(rig.orders_placed().len(), 1);

    // The report: the check order and its cancellation ran in this session; neither is restored.
    let runs_of = |id: &str| -> Vec<Value> {
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|step| step["id"] == id)
            .cloned()
            .collect()
    };
    let cancel = runs_of("cancel_check_order");
    assert_eq!(cancel.len(), 1, "{cancel:#?}");
    assert_eq!(cancel[0]["outcome"], "passed", "{cancel:#?}");
    assert_eq!(cancel[0]["attempts"], 1, "{cancel:#?}");
    assert_eq!(cancel[0]["outputs"]["status"], 204, "{cancel:#?}");
    assert_ne!(cancel[0]["restored"], true, "{cancel:#?}");
    assert_ne!(
        cancel[0]["note"], "completed before the run was interrupted; not repeated",
        "{cancel:#?}"
    );
    let check_order = runs_of("check_order");
    assert_eq!(check_order.len(), 1, "{check_order:#?}");
    assert_eq!(check_order[0]["outcome"], "passed", "{check_order:#?}");
    assert_eq!(check_order[0]["attempts"], 1, "{check_order:#?}");
    assert_eq!(check_order[0]["outputs"]["order_id"], ORDER_ID);
    assert_ne!(check_order[0]["restored"], true, "{check_order:#?}");
    // The regeneration group completed in the first session: restored, not run again.
    let regenerate = runs_of("regenerate");
    assert_eq!(
        regenerate[0]["restored"], true,
        "no second regeneration: {regenerate:#?}"
    );
    let new_key = runs_of("new_key");
    assert_eq!(
        new_key[0]["attempts"], 0,
        "no second regeneration: {new_key:#?}"
    );
    assert_eq!(runs_of("propagation")[0]["outcome"], "passed");

    // The journal agrees: after `run_resumed`, cancel_check_order ran (attempts 1), not restored.
    let journal = rig.journal();
    let resumed_at = journal
        .iter()
        .position(|record| record["type"] == "run_resumed")
        .expect("run_resumed");
    let cancels_after: Vec<&Value> = journal[resumed_at..]
        .iter()
        .filter(|r| r["type"] == "step_finished" && r["step"] == "cancel_check_order")
        .collect();
    assert_eq!(cancels_after.len(), 1, "{cancels_after:#?}");
    assert_eq!(cancels_after[0]["outcome"], "passed", "{cancels_after:#?}");
    assert_eq!(cancels_after[0]["attempts"], 1, "{cancels_after:#?}");
    assert!(
        cancels_after[0].get("restored").is_none_or(|r| r != true),
        "{cancels_after:#?}"
    );
    let finished: Vec<&Value> = journal
        .iter()
        .filter(|r| r["type"] == "run_finished")
        .collect();
    assert_eq!(finished.len(), 2, "{finished:#?}");
    // The failure path ran (no compensation): `rolled_back`, and still resumable.
    assert_eq!(finished[0]["status"], "rolled_back", "{finished:#?}");
    assert_eq!(finished[0]["failed_step"], "propagation", "{finished:#?}");
    assert_eq!(finished[1]["status"], "succeeded", "{finished:#?}");

    // The world at the end: new pair everywhere, trading live again, both audit events.
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.failed", "secret.rotate.completed"]
    );
    let completed = event(&rig, "secret.rotate.completed");
    assert_eq!(completed["run_id"], run_id.as_str(), "{completed:#}");
    assert_eq!(completed["context"]["account_number_verified"], true);
    assert_heroku_requests_authorized(&rig).await;
    rig.assert_no_secret_anywhere(&resumed);
}

// ---------------------------------------------------------------------------------------------
// Issue 13: the second pass. Each test states what the audit trail and the world look like; the
// rehearsal (`runbooks/alpaca-live.rehearsal.yaml`) covers the same paths without the audit
// record's fields.

/// Item 1: a key for ANOTHER LIVE account is a mis-rotation, like a paper key: both kill
/// switches, the mis-rotation event naming the verdict, no repeat, never `completed`.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_of_another_live_account_is_a_misrotation_not_a_repeat() {
    let other = account(
        OTHER_ACCOUNT_NUMBER,
        "5f1e0a6c-2b7d-4c39-9a1e-7d2f3b4c5d6e",
        "42.00",
    );
    let rig = rig(Scenario {
        new_keys: vec![
            (BAD_KEY_ID, BAD_SECRET, other),
            (NEW_KEY_ID, NEW_SECRET, live_account()),
        ],
        ..Scenario::default()
    })
    .await;
    // A good second pair and a retry are offered; neither may be used.
    let output = rig.run(&format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(BAD_KEY_ID, BAD_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&output, 10);
    assert!(
        output.stdout.contains("ANOTHER ACCOUNT") && output.stdout.contains("(no repeat)"),
        "{}",
        output.stdout
    );
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    assert_only_preflight_infisical(&rig);
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.misrotation", "secret.rotate.failed"]
    );
    let misrotation = event(&rig, "secret.rotate.misrotation");
    let context = &misrotation["context"];
    assert_eq!(context["verdict"], "other_account", "{misrotation:#}");
    assert_eq!(context["rotated_environment"], "live", "{misrotation:#}");
    assert_eq!(
        context["rotated_account_number"], OTHER_ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// Item 2: equity moved (positions held) but it is the same account: the drift is shown, the
/// operator accepts it, the SAME key goes on, and the audit record says so.
#[tokio::test(flavor = "multi_thread")]
async fn an_equity_drift_is_shown_accepted_and_recorded_never_regenerated() {
    let drifted = account(ACCOUNT_NUMBER, ACCOUNT_ID, "123351.87");
    let rig = rig(Scenario {
        new_keys: vec![(NEW_KEY_ID, NEW_SECRET, drifted)],
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&format!(
        "accept_drift:\n  confirm: true\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&output, 0);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "{outcomes:#?}"
    );
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|r| r["type"] == "prompt_answered" && r["step"] == "accept_drift")
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["confirmed"], true, "{answered:#?}");
    let completed = event(&rig, "secret.rotate.completed");
    let context = &completed["context"];
    assert_eq!(context["new_key_comparison"], "mismatch", "{completed:#}");
    assert_eq!(context["equity_drift_prompt"], "passed", "{completed:#}");
    let differences = context["new_key_differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{completed:#}");
    assert_eq!(differences[0]["field"], "equity");
    assert_eq!(differences[0]["expected"], "123346.11");
    assert_eq!(differences[0]["actual"], "123351.87");
    assert_eq!(differences[0]["note"], "differs by 5.76");
    assert_eq!(context["account_number_verified"], true, "{completed:#}");
    rig.assert_no_secret_anywhere(&output);
}

/// Item 5: the operator says MQ-A holds the keys but no MQ-A app was given: the run stops before
/// trading is paused, and the answer is on the record.
#[tokio::test(flavor = "multi_thread")]
async fn mqa_holding_the_keys_without_an_app_stops_before_anything_changes() {
    let rig = rig(Scenario::default()).await;
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_ne!(output.code, 0);
    assert!(
        output
            .stdout
            .contains("start again with --input mqa_heroku_app=APP"),
        "{}",
        output.stdout
    );
    assert!(rig.timeline().is_empty(), "{:#?}", rig.timeline());
    assert_prod_config(&rig, "0", CURRENT_KEY_ID);
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|r| r["type"] == "prompt_answered" && r["step"] == "mqa_holds_keys")
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["holds_keys"], "yes", "{answered:#?}");
}

/// Item 7: DELETE answers 422 because the operator already cancelled the order by hand: the
/// order is read back, it is `canceled`, and the rotation completes.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_order_cancelled_by_hand_is_accepted_after_a_422() {
    let rig = rig(Scenario {
        cancel_status: 422,
        cancelled_by_hand: true,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let story = rig.story();
    let delete = story
        .iter()
        .position(|line| line == "raxx DELETE /api/trading/orders/ORDER_ID -> 422")
        .unwrap_or_else(|| panic!("{story:#?}"));
    assert_eq!(story[delete + 1], CANCELED, "{story:#?}");
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
}

/// Item 9: a snapshot folder given by the operator that others can read is tightened to 0700
/// before the snapshot is written in it.
#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_folder_open_to_others_is_tightened_before_the_snapshot() {
    use std::os::unix::fs::PermissionsExt;
    let rig = rig(Scenario::default()).await;
    let loose = rig.sandbox.path().join("shared-snapshots");
    std::fs::create_dir(&loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rig = rig.input("snapshot_dir", &loose.display().to_string());
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let mode = std::fs::metadata(&loose).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let files: Vec<PathBuf> = std::fs::read_dir(&loose)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!rig.snapshot_dir().exists(), "not in the run's folder too");
}
