//! Secrets and private files: what Heroku echoes reaches no output, the infisical secrets file
//! and the snapshot folder are owner-only.

use super::*;

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

/// Issue 13 item 9: a snapshot folder given by the operator that others can read is tightened to
/// 0700 before the snapshot is written in it.
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
