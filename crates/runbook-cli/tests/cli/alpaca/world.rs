//! What the stand-ins share: the scenario a test sets up and the world state they keep.

use super::*;

/// What the stand-in world does in this test.
#[derive(Clone)]
pub(super) struct Scenario {
    /// The account the current pair sees.
    pub(super) current_account: Value,
    /// What `/v2/orders?status=open` lists.
    pub(super) open_orders: Value,
    /// Key pairs Alpaca accepts besides the current one, and the account each sees.
    pub(super) new_keys: Vec<(&'static str, &'static str, Value)>,
    /// Key pairs only the paper API accepts, and the (paper) account each sees.
    pub(super) paper_keys: Vec<(&'static str, &'static str, Value)>,
    /// The current pair is revoked once a regenerated pair has been used (the dashboard's
    /// regeneration revokes the old pair); false: it stays accepted.
    pub(super) old_key_revoked: bool,
    /// Polls of `/health/trading` after a kill-switch change before the dynos run with it.
    pub(super) restart_polls: u32,
    /// Whether the dynos ever pick up TRADING_LIVE_DISABLED=1 / =0.
    pub(super) pause_applies: bool,
    pub(super) resume_applies: bool,
    /// The account number the Raptor runtime reports.
    pub(super) downstream_account_number: &'static str,
    /// What DELETE of the check order answers.
    pub(super) cancel_status: u16,
    /// The operator cancelled the check order in the dashboard: DELETE answers `cancel_status`
    /// (422) but the order reads `canceled`.
    pub(super) cancelled_by_hand: bool,
    /// Requests to the Raptor runtime after a key change that are still served by the old
    /// release (old dynos, old pair) while Heroku restarts the dynos.
    pub(super) runtime_restart_requests: u32,
    /// How many `infisical secrets set` calls fail (exit 1, nothing stored) before one works;
    /// counted in a file, so the count carries across `runbook run` and `runbook resume`.
    pub(super) infisical_store_failures: u32,
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
pub(super) struct World {
    pub(super) scenario: Scenario,
    pub(super) timeline: PathBuf,
    /// App name to its config vars.
    pub(super) heroku: BTreeMap<String, Map<String, Value>>,
    /// TRADING_LIVE_DISABLED as the running dynos see it.
    pub(super) live_disabled: bool,
    /// A kill-switch change on its way: the new value and the polls left until it shows.
    pub(super) pending: Option<(bool, u32)>,
    /// A key other than the current one was used: the dashboard regenerated the pair.
    pub(super) regenerated: bool,
    /// Bodies of the check orders placed.
    pub(super) orders: Vec<Value>,
    /// The check order's status as Alpaca reports it (after a 204 DELETE: canceled).
    pub(super) order_status: String,
    /// The pair the running Raptor dynos use, and the requests left until a pending pair shows.
    pub(super) runtime_pair: (String, String),
    pub(super) runtime_pending: Option<((String, String), u32)>,
}

pub(super) type Shared = Arc<Mutex<World>>;

impl World {
    pub(super) fn log(&self, line: String) {
        append_line(&self.timeline, &line);
    }
}

pub(super) fn append_line(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(format!("{line}\n").as_bytes()).unwrap();
}

pub(super) fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn with_query(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

pub(super) fn unauthorized_code_shape() -> ResponseTemplate {
    ResponseTemplate::new(401)
        .set_body_json(json!({"code": 40110000, "message": "request is not authorized"}))
}

pub(super) fn unauthorized_message_shape() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({"message": "unauthorized."}))
}
