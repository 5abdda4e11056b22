//! The cast: keys, secrets, accounts, and how the timeline names them.

use super::*;

/// The current (soon old) pair, from the environment.
pub(super) const CURRENT_KEY_ID: &str = "AKCURRENT0000000001";
pub(super) const CURRENT_SECRET: &str = "CURRENT-SECRET-3b8d20";

/// The new pair, typed at the masked prompt (answers file).
pub(super) const NEW_KEY_ID: &str = "AKNEWKEY00000000002";
pub(super) const NEW_SECRET: &str = "NEW-SECRET-7c41e9";

/// A pair Alpaca rejects (a mistyped or superseded regeneration).
pub(super) const BAD_KEY_ID: &str = "AKBADKEY00000000003";
pub(super) const BAD_SECRET: &str = "BAD-SECRET-5e0f44";

/// A pair regenerated with the dashboard on Paper.
pub(super) const PAPER_KEY_ID: &str = "PKPAPERKEY000000004";
pub(super) const PAPER_SECRET: &str = "PAPER-SECRET-a91c07";
pub(super) const HEROKU_TOKEN: &str = "HRKU-token-2f6a9d81";

/// Another production secret among the app's config vars (Heroku answers a PATCH with all of them).
pub(super) const DATABASE_URL: &str = "postgres://raxx:DB-PASSWORD-c3d4e5@db.internal:5432/raxx";
pub(super) const ACCOUNT_ID: &str = "904837e3-3b76-47ec-b432-046db621571b";
pub(super) const ACCOUNT_NUMBER: &str = "123456789";
pub(super) const PAPER_ACCOUNT_NUMBER: &str = "PA3KQ9Z1X2Y3";
pub(super) const OTHER_ACCOUNT_NUMBER: &str = "987654321";
pub(super) const ORDER_ID: &str = "61e69015-8549-4bfd-b9c3-01e75843f47d";
pub(super) const OPEN_ORDER_ID: &str = "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415";
pub(super) const PROD_APP: &str = "raxx-api-prod";
pub(super) const MQA_APP: &str = "raxx-mqa-prod";

/// A production app whose name happens to contain "ci" (pri-ci-ng).
pub(super) const MQA_PRICING_APP: &str = "mqa-pricing-prod";
pub(super) const ACTOR: &str = "superadmin-jdoe";

/// Every secret of the story; none may appear in any output or file the run writes. The key ids
/// too: the current one is a secret input, and the new one is typed at a masked prompt, so it is
/// masked like the current one (issue 13 item 8).
pub(super) const SECRETS: [(&str, &str); 8] = [
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
pub(super) fn name_of(value: &str) -> String {
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
pub(super) fn account(account_number: &str, id: &str, equity: &str) -> Value {
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

pub(super) fn live_account() -> Value {
    account(ACCOUNT_NUMBER, ACCOUNT_ID, "123346.11")
}

pub(super) fn paper_account() -> Value {
    account(
        PAPER_ACCOUNT_NUMBER,
        "e6fe16f3-64a4-4921-8928-cadf02f92f98",
        "100000",
    )
}

/// An open order as `/v2/orders` lists it.
pub(super) fn open_order() -> Value {
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
