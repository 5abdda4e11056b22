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
    // A GET; the optional snapshot file is written again, the same, if it runs twice.
    read_only: true,
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
            name: "save",
            required: false,
            secret: false,
            kind: ParamKind::Boolean,
            summary: "save the snapshot to an owner-only file (default: false, true when `dir` \
                      is given)",
        },
        ParamSpec {
            name: "dir",
            required: false,
            secret: false,
            kind: ParamKind::String,
            summary: "save the snapshot in this directory (created owner-only; an existing one \
                      open to others is tightened to 0700, or refused if it cannot be); empty or \
                      absent: `snapshots` in the run's folder of the state directory",
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
    let path = match snapshot_dir(&params, host)? {
        Some(dir) => {
            let label = params
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or("alpaca-account");
            let path = save(&dir, label, &fetched_at, &account)?;
            Value::from(path.display().to_string())
        }
        None => Value::Null,
    };
    outputs.insert("path".into(), path);
    Ok(outputs)
}

/// Where to save the snapshot, if at all: `dir`, else `snapshots` in the run's folder. The default
/// is the run's folder, not the current directory: it is owner-only, kept beside the run's journal
/// and audit trail, and does not depend on where the operator happened to start the run.
fn snapshot_dir(
    params: &Map<String, Value>,
    host: &dyn Host,
) -> Result<Option<PathBuf>, PluginError> {
    let dir = params
        .get("dir")
        .and_then(Value::as_str)
        .filter(|dir| !dir.is_empty());
    let save = params
        .get("save")
        .and_then(Value::as_bool)
        .unwrap_or(dir.is_some());
    if !save {
        return Ok(None);
    }
    match (dir, host.run_dir()) {
        (Some(dir), _) => Ok(Some(PathBuf::from(dir))),
        (None, Some(run_dir)) => Ok(Some(run_dir.join("snapshots"))),
        (None, None) => Err(PluginError::invalid(
            "there is no run folder to save the snapshot in: give `dir`",
        )),
    }
}

/// Creates `dir` owner-only, or makes sure an existing one is: a snapshot holds the account's
/// balances, and a folder others can read (or write: swap the file) is no place for it. An existing
/// folder open to others is tightened to 0700; one that cannot be (another user's), a symbolic
/// link or a file is refused.
fn prepare_dir(dir: &Path) -> Result<(), PluginError> {
    let refuse = |why: String| {
        PluginError::invalid(format!(
            "cannot save the snapshot in {}: {why}",
            dir.display()
        ))
    };
    match std::fs::symlink_metadata(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .map_err(|error| refuse(error.to_string()))
        }
        Err(error) => Err(refuse(error.to_string())),
        Ok(metadata) if metadata.file_type().is_symlink() => Err(refuse(
            "it is a symbolic link; give a real directory (owner-only)".into(),
        )),
        Ok(metadata) if !metadata.is_dir() => Err(refuse("it is not a directory".into())),
        Ok(metadata) => tighten(dir, &metadata).map_err(refuse),
    }
}

#[cfg(unix)]
fn tighten(dir: &Path, metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|error| {
        format!(
            "it is open to others (mode {mode:o}) and cannot be made owner-only ({error}); \
             run `chmod 700` on it or give another `dir`"
        )
    })
}

#[cfg(not(unix))]
fn tighten(_: &Path, _: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
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
    prepare_dir(dir)?;
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

    use super::run as run_action;

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

    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    fn account_host() -> FakeHost {
        FakeHost::default().respond(
            "/v2/account",
            200,
            r#"{"id":"abc","account_number":"LIVE123","equity":"1.00"}"#,
        )
    }

    #[tokio::test]
    async fn save_without_dir_goes_to_the_runs_folder_not_the_current_directory()
    -> Result<(), PluginError> {
        let run = tempfile::tempdir().map_err(|e| PluginError::invalid(e.to_string()))?;
        let host = account_host().with_run_dir(run.path());
        let mut params = params(None);
        params.insert("save".into(), Value::Bool(true));
        params.insert("dir".into(), Value::from(""));
        let outputs = run_action(params, &host).await?;
        let path = PathBuf::from(outputs["path"].as_str().unwrap_or_default());
        assert_eq!(path.parent(), Some(run.path().join("snapshots").as_path()));
        assert!(path.is_file(), "{}", path.display());
        assert_eq!(mode_of(&run.path().join("snapshots")), 0o700);
        assert_eq!(mode_of(&path), 0o600);
        Ok(())
    }

    #[tokio::test]
    async fn no_save_and_no_dir_writes_nothing() -> Result<(), PluginError> {
        let run = tempfile::tempdir().map_err(|e| PluginError::invalid(e.to_string()))?;
        let host = account_host().with_run_dir(run.path());
        let outputs = run_action(params(None), &host).await?;
        assert_eq!(outputs["path"], Value::Null);
        assert!(!run.path().join("snapshots").exists());
        Ok(())
    }

    #[tokio::test]
    async fn save_without_a_run_folder_or_dir_is_refused() {
        let mut params = params(None);
        params.insert("save".into(), Value::Bool(true));
        let error = run_action(params, &account_host()).await.err();
        assert!(
            error.is_some_and(|e| e.message.contains("give `dir`")),
            "refused"
        );
    }

    #[tokio::test]
    async fn an_existing_folder_open_to_others_is_tightened() -> Result<(), PluginError> {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().map_err(|e| PluginError::invalid(e.to_string()))?;
        let loose = root.path().join("snapshots");
        std::fs::create_dir(&loose).map_err(|e| PluginError::invalid(e.to_string()))?;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o777))
            .map_err(|e| PluginError::invalid(e.to_string()))?;
        assert_eq!(mode_of(&loose), 0o777);
        run_action(params(Some(&loose)), &account_host()).await?;
        assert_eq!(
            mode_of(&loose),
            0o700,
            "tightened before the file is written"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_symbolic_link_or_a_file_as_the_folder_is_refused() -> Result<(), PluginError> {
        let root = tempfile::tempdir().map_err(|e| PluginError::invalid(e.to_string()))?;
        let real = root.path().join("real");
        std::fs::create_dir(&real).map_err(|e| PluginError::invalid(e.to_string()))?;
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link)
            .map_err(|e| PluginError::invalid(e.to_string()))?;
        let error = run_action(params(Some(&link)), &account_host()).await.err();
        assert!(
            error.is_some_and(|e| e.message.contains("symbolic link")),
            "a link is refused"
        );
        let file = root.path().join("file");
        std::fs::write(&file, "x").map_err(|e| PluginError::invalid(e.to_string()))?;
        let error = run_action(params(Some(&file)), &account_host()).await.err();
        assert!(
            error.is_some_and(|e| e.message.contains("not a directory")),
            "a file is refused"
        );
        assert_eq!(
            std::fs::read_dir(&real).map(Iterator::count).unwrap_or(9),
            0
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
