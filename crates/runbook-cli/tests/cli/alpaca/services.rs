//! The stand-ins for Alpaca (live and paper), the Raxx API, the Heroku Platform API and the
//! `infisical` CLI.

use super::*;

/// Alpaca's trading API: the live one, or (`paper: true`) the paper one, each accepting only
/// its own environment's keys (Alpaca: "you cannot use your live account's credentials with the
/// paper API, or vice versa").
pub(super) struct Alpaca {
    pub(super) world: Shared,
    pub(super) paper: bool,
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
pub(super) struct Raxx(pub(super) Shared);

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
pub(super) struct Heroku(pub(super) Shared);

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
pub(super) fn infisical_script(
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
