//! `alpaca.account_snapshot`: the account as the given key sees it, saved for the audit trail.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use runbook_plugin::{
    ActionSpec, Host, HttpRequest, ParamKind, ParamSpec, PluginError, PluginErrorKind, string_param,
};

pub const SPEC: ActionSpec = ActionSpec {
    name: "alpaca.account_snapshot",
    summary: "GET /v2/account with the given key; optionally save it to an owner-only file",
    params: &[
        ParamSpec {
            name: "base_url",
            required: true,
            secret: false,
            kind: ParamKind::String,
            summary: "e.g. https://api.alpaca.markets",
        },
        ParamSpec {
            name: "key_id",
            required: true,
            secret: true,
            kind: ParamKind::String,
            summary: "APCA-API-KEY-ID",
        },
        ParamSpec {
            name: "secret_key",
            required: true,
            secret: true,
            kind: ParamKind::String,
            summary: "APCA-API-SECRET-KEY",
        },
        ParamSpec {
            name: "dir",
            required: false,
            secret: false,
            kind: ParamKind::String,
            summary: "save the snapshot in this directory (created owner-only)",
        },
        ParamSpec {
            name: "paper_base_url",
            required: false,
            secret: false,
            kind: ParamKind::String,
            summary: "if the key is rejected at base_url, try it here: a paper key then reports \
                      environment `paper` instead of failing (live and paper keys only work on \
                      their own API)",
        },
        ParamSpec {
            name: "label",
            required: false,
            secret: false,
            kind: ParamKind::String,
            summary: "file name prefix (default alpaca-account)",
        },
    ],
    outputs: &[
        "account",
        "id",
        "account_number",
        "status",
        "currency",
        "equity",
        "cash",
        "buying_power",
        "environment",
        "fetched_at",
        "path",
    ],
};

pub async fn run(
    params: Map<String, Value>,
    host: &dyn Host,
) -> Result<Map<String, Value>, PluginError> {
    let base_url = string_param(&params, "base_url")?;
    let key_id = string_param(&params, "key_id")?;
    let secret_key = string_param(&params, "secret_key")?;
    host.add_secret(&key_id);
    host.add_secret(&secret_key);
    let account_url = |base: &str| format!("{}/v2/account", base.trim_end_matches('/'));
    let fetch = |url: String| {
        let request = HttpRequest::get(&url)
            .header("APCA-API-KEY-ID", &key_id)
            .header("APCA-API-SECRET-KEY", &secret_key)
            .header("Accept", "application/json");
        host.http(request)
    };
    let mut url = account_url(&base_url);
    let mut response = fetch(url.clone()).await?;
    // Live and paper keys work only on their own API: a paper key gets 401 from the live one. Asked
    // to, look the key up on the paper API so the caller can say "wrong environment" rather than
    // "bad key".
    if matches!(response.status, 401 | 403)
        && let Some(paper) = params
            .get("paper_base_url")
            .and_then(Value::as_str)
            .filter(|paper| !paper.is_empty())
    {
        let paper_url = account_url(paper);
        // Best effort: if the paper API cannot say either, the live API's answer stands.
        if let Ok(paper_response) = fetch(paper_url.clone()).await
            && paper_response.status == 200
        {
            url = paper_url;
            response = paper_response;
        }
    }
    // Key off the status: Alpaca's 401 bodies have varied (`{"code":40110000,...}`, `{"message":...}`).
    match response.status {
        200 => {}
        401 | 403 => {
            return Err(PluginError::new(
                PluginErrorKind::UnexpectedResult,
                format!(
                    "the key was rejected ({}): {}",
                    response.status,
                    message_of(&response.body)
                ),
            ));
        }
        status => {
            return Err(PluginError::new(
                PluginErrorKind::UnexpectedResult,
                format!(
                    "GET {url}: expected 200, got {status}: {}",
                    message_of(&response.body)
                ),
            ));
        }
    }
    let account = match response.json()? {
        Value::Object(account) => account,
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::String(_)
        | Value::Array(_)) => {
            return Err(PluginError::new(
                PluginErrorKind::UnexpectedResult,
                format!("GET {url}: expected an account object, got {other}"),
            ));
        }
    };
    let account_number = account
        .get("account_number")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            PluginError::new(
                PluginErrorKind::UnexpectedResult,
                "the account has no account_number",
            )
        })?
        .to_owned();
    let fetched_at = jiff::Timestamp::now();
    let mut outputs = Map::new();
    for (name, value) in &account {
        outputs.insert(name.clone(), value.clone());
    }
    let environment = if crate::is_paper_account(&account_number) {
        "paper"
    } else {
        "live"
    };
    outputs.insert("environment".into(), Value::from(environment));
    outputs.insert("fetched_at".into(), Value::from(fetched_at.to_string()));
    outputs.insert("account".into(), Value::Object(account.clone()));
    let path = match params
        .get("dir")
        .and_then(Value::as_str)
        .filter(|dir| !dir.is_empty())
    {
        Some(dir) => {
            let label = params
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or("alpaca-account");
            let path = save(Path::new(dir), label, &fetched_at, &account)?;
            Value::from(path.display().to_string())
        }
        None => Value::Null,
    };
    outputs.insert("path".into(), path);
    Ok(outputs)
}

/// Writes the snapshot to `DIR/LABEL-YYYYMMDDTHHMMSSZ.json`, owner-only, never overwriting.
fn save(
    dir: &Path,
    label: &str,
    at: &jiff::Timestamp,
    account: &Map<String, Value>,
) -> Result<PathBuf, PluginError> {
    let local = |error: std::io::Error| {
        PluginError::invalid(format!(
            "cannot save the snapshot in {}: {error}",
            dir.display()
        ))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(local)?;
    let stamp = at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let document = serde_json::json!({ "fetched_at": at.to_string(), "account": account });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    for attempt in 0..100 {
        let name = if attempt == 0 {
            format!("{label}-{stamp}.json")
        } else {
            format!("{label}-{stamp}-{attempt}.json")
        };
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(local)?;
                return Ok(path);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(local(error)),
        }
    }
    Err(PluginError::invalid(
        "cannot find a free snapshot file name",
    ))
}

/// The `message` of an error body, or the body itself (short).
fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|value| {
            value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use runbook_plugin::testing::FakeHost;

    fn params(dir: Option<&Path>) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("base_url".into(), Value::from("https://api.example/"));
        params.insert("key_id".into(), Value::from("AKTEST"));
        params.insert("secret_key".into(), Value::from("s3cret"));
        if let Some(dir) = dir {
            params.insert("dir".into(), Value::from(dir.display().to_string()));
        }
        params
    }

    #[tokio::test]
    async fn saves_an_owner_only_timestamped_file_and_exposes_fields() -> Result<(), PluginError> {
        let dir = tempfile::tempdir().map_err(|e| PluginError::invalid(e.to_string()))?;
        let snapshots = dir.path().join("snapshots");
        let host = FakeHost::default().respond(
            "/v2/account",
            200,
            r#"{"id":"abc","account_number":"LIVE123","status":"ACTIVE","equity":"123346.11"}"#,
        );
        let outputs = run(params(Some(&snapshots)), &host).await?;
        assert_eq!(outputs["account_number"], "LIVE123");
        assert_eq!(
            outputs["equity"], "123346.11",
            "money stays a decimal string"
        );
        assert_eq!(outputs["environment"], "live");
        let path = PathBuf::from(outputs["path"].as_str().unwrap_or_default());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            name.starts_with("alpaca-account-") && name.ends_with("Z.json"),
            "{name}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
            let dir_mode = std::fs::metadata(&snapshots)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(dir_mode, 0o700);
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            !text.contains("s3cret") && !text.contains("AKTEST"),
            "no credentials in the snapshot"
        );
        let requests = host.requests.lock().map(|r| r.clone()).unwrap_or_default();
        assert_eq!(requests[0].url, "https://api.example/v2/account");
        assert_eq!(requests[0].headers["APCA-API-SECRET-KEY"], "s3cret");
        assert!(
            host.secrets
                .lock()
                .map(|s| s.contains(&"s3cret".to_owned()))
                .unwrap_or(false)
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_paper_key_rejected_by_the_live_api_is_found_on_the_paper_api()
    -> Result<(), PluginError> {
        let host = FakeHost::default()
            .respond(
                "live.example/v2/account",
                401,
                r#"{"message":"unauthorized."}"#,
            )
            .respond(
                "paper.example/v2/account",
                200,
                r#"{"id":"p1","account_number":"PA3KQ9Z1X2Y3","equity":"100000"}"#,
            );
        let mut params = params(None);
        params.insert("base_url".into(), Value::from("https://live.example"));
        params.insert(
            "paper_base_url".into(),
            Value::from("https://paper.example"),
        );
        let outputs = run(params, &host).await?;
        assert_eq!(outputs["environment"], "paper");
        assert_eq!(outputs["account_number"], "PA3KQ9Z1X2Y3");
        Ok(())
    }

    #[tokio::test]
    async fn a_rejected_key_says_so_in_both_body_shapes() {
        for body in [
            r#"{"code":40110000,"message":"request is not authorized"}"#,
            r#"{"message":"unauthorized."}"#,
        ] {
            let host = FakeHost::default().respond("/v2/account", 401, body);
            let error = run(params(None), &host).await.err();
            assert!(error.is_some_and(|e| e.message.starts_with("the key was rejected (401)")));
        }
    }
}
