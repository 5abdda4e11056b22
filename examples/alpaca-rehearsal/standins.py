#!/usr/bin/env python3
"""Stand-ins for the services runbooks/alpaca-live.yaml touches, on one loopback port: the Alpaca
trading API (/v2/...), the Raxx API (/health/trading, /api/trading/...) and the Heroku Platform API
(/apps/{app}/config-vars). Behaviour follows ../../../shared/services.md: money fields are strings,
POST /v2-style orders answer 200, DELETE answers 204, a revoked key gets 401.

The current key pair is CURRENT-KEY-ID / CURRENT-SECRET; a regenerated pair is any other key id.
Regenerating (the first request with a new key) revokes the current pair, as the dashboard does.
/health/trading follows TRADING_LIVE_DISABLED after two polls, like a dyno restart.

    python3 standins.py --port-file /tmp/port     # prints nothing; serves until killed
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = {
    "id": "904837e3-3b76-47ec-b432-046db621571b",
    "account_number": "123456789",
    "status": "ACTIVE",
    "currency": "USD",
    "equity": "123346.11",
    "cash": "5000.10",
    "buying_power": "10000.20",
}
state = {"config": {"TRADING_LIVE_DISABLED": "0"}, "polls_since_change": 0, "revoked": False, "orders": {}}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def alpaca_key_ok(self):
        key = self.headers.get("APCA-API-KEY-ID", "")
        if key == "CURRENT-KEY-ID":
            return not state["revoked"] and self.headers.get("APCA-API-SECRET-KEY") == "CURRENT-SECRET"
        state["revoked"] = True  # a new pair exists: the dashboard killed the old one
        return bool(key)

    def do_GET(self):
        with lock:
            path = self.path.split("?")[0]
            if path.startswith("/v2/"):
                if not self.alpaca_key_ok():
                    return self.reply(401, {"code": 40110000, "message": "request is not authorized"})
                if path == "/v2/account":
                    return self.reply(200, ACCOUNT)
                if path == "/v2/orders":
                    return self.reply(200, [])
            if path == "/health/trading":
                state["polls_since_change"] += 1
                disabled = state["config"].get("TRADING_LIVE_DISABLED") == "1"
                settled = state["polls_since_change"] > 2
                live = (not disabled) if settled else (not state.get("was_disabled", False))
                return self.reply(200, {"live_enabled": live})
            if path == "/api/trading/account":
                return self.reply(200, {"status": "ACTIVE", "account_number": ACCOUNT["account_number"]})
            return self.reply(404, {"message": "not found"})

    def do_POST(self):
        with lock:
            if self.path == "/api/trading/orders":
                order = self.body()
                order_id = f"ord-{len(state['orders']) + 1}"
                state["orders"][order_id] = "accepted"
                return self.reply(200, {"id": order_id, "status": "accepted", "symbol": order.get("symbol")})
            return self.reply(404, {"message": "not found"})

    def do_DELETE(self):
        with lock:
            order_id = self.path.rsplit("/", 1)[-1]
            if state["orders"].get(order_id) == "accepted":
                state["orders"][order_id] = "canceled"
                return self.reply(204)
            return self.reply(404, {"message": "order not found"})

    def do_PATCH(self):
        with lock:
            if self.path.startswith("/apps/") and self.path.endswith("/config-vars"):
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self.reply(401, {"id": "unauthorized", "message": "Invalid credentials provided."})
                changes = self.body()
                if "TRADING_LIVE_DISABLED" in changes:
                    state["was_disabled"] = state["config"].get("TRADING_LIVE_DISABLED") == "1"
                    state["polls_since_change"] = 0
                state["config"].update(changes)
                return self.reply(200, state["config"])
            return self.reply(404, {"message": "not found"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
