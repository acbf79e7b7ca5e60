#!/usr/bin/python3
"""tests/sh/http_api.py BASE TOKENS-FILE DB: every /v1 resource and its
errors against a running xfed, with urllib. TOKENS-FILE has lines
"scope token". Prints "ok NAME" or "FAIL NAME: why" per case."""
import base64, json, sqlite3, sys, urllib.error, urllib.request

base, tokfile, db = sys.argv[1], sys.argv[2], sys.argv[3]
tok = dict(l.split() for l in open(tokfile))
fails = 0


def call(method, path, body=None, token="admin", raw=None, headers=None):
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + tok.get(token, token))
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None), r.headers
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = text
        return e.code, j, e.headers


def check(name, cond, why=""):
    global fails
    if cond:
        print("ok", name)
    else:
        fails += 1
        print("FAIL %s: %s" % (name, why))


def expect(name, got, status, field=None):
    s, j, _ = got
    good = s == status
    if good and status >= 400:
        good = isinstance(j, dict) and "error" in j and "message" in j
    if good and field:
        good = isinstance(j, dict) and field in j
    check(name, good, "status %s body %r, want %s%s" % (
        s, j, status, " with " + field if field else ""))
    return j


# Authentication and scopes
expect("no_token_401", call("GET", "/v1/users", token=None), 401)
expect("bad_token_401", call("GET", "/v1/users", token="xfed_nope"), 401)
s, j, h = call("GET", "/v1/users", token=None)
check("401_www_authenticate", "Bearer" in (h.get("WWW-Authenticate") or ""))
expect("read_cannot_write_403",
       call("POST", "/v1/users", {"user": "zed"}, token="read"), 403)
expect("write_cannot_admin_403", call("GET", "/v1/tokens", token="write"), 403)
expect("admin_tokens", call("GET", "/v1/tokens"), 200, "tokens")
s, j, _ = call("GET", "/v1/tokens")
check("tokens_no_secret", all("hash" not in t and "token" not in t
                               for t in j["tokens"]), repr(j))
expect("health_open", call("GET", "/health", token=None), 200, "status")

# Routing errors
expect("unknown_path_404", call("GET", "/v1/nothing"), 404)
s, j, h = call("DELETE", "/v1/users")
check("wrong_method_405", s == 405 and "GET" in (h.get("Allow") or ""),
      "%s %r" % (s, j))
expect("bad_json_400", call("POST", "/v1/users", raw=b"{nope"), 400)
expect("not_object_400", call("POST", "/v1/users", raw=b"[1]"), 400)
expect("missing_field_400", call("POST", "/v1/users", {"name": "x"}), 400)
expect("bad_user_400", call("POST", "/v1/users", {"user": "a/b"}), 400)
expect("foreign_domain_404",
       call("POST", "/v1/users", {"user": "x@elsewhere.example"}), 404)
# Declared too large: refused before the body is read.
import http.client, urllib.parse
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
c.putrequest("POST", "/v1/users")
c.putheader("Authorization", "Bearer " + tok["admin"])
c.putheader("Content-Length", "2000000")
c.endheaders()
c.send(b'{"user": "big"}')
r = c.getresponse()
check("oversized_413", r.status == 413, "status %s" % r.status)
c.close()

# Users
j = expect("user_create_201", call("POST", "/v1/users", {
    "user": "alice", "name": "Alice", "email": "alice@example.org"}),
    201, "user")
check("user_created_fields", j and j["user"] == "alice@a.localhost" and
      j["name"] == "Alice" and j["email"] == "alice@example.org", repr(j))
expect("user_exists_409", call("POST", "/v1/users", {"user": "alice"}), 409)
expect("user_create_bob", call("POST", "/v1/users", {"user": "Bob"}), 201)
j = expect("user_list", call("GET", "/v1/users", token="read"), 200, "users")
check("user_list_two", j and len(j["users"]) == 2, repr(j))
expect("user_show", call("GET", "/v1/users/alice", token="read"), 200, "user")
expect("user_unknown_404", call("GET", "/v1/users/nobody"), 404)
png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
j = expect("user_update", call("PATCH", "/v1/users/alice", {
    "nickname": "al", "avatar": png, "avatar_type": "image/png"}), 200)
check("user_update_fields", j and j["nickname"] == "al" and
      j["name"] == "Alice" and j["avatar_bytes"] == 12 and
      base64.b64decode(j["avatar"]) == b"\x89PNG\r\n\x1a\nfake", repr(j))
expect("avatar_bad_base64_400", call("PATCH", "/v1/users/alice", {
    "avatar": "!!!", "avatar_type": "image/png"}), 400)
expect("avatar_no_type_400", call("PATCH", "/v1/users/alice", {
    "avatar": png}), 400)
expect("update_bad_type_400", call("PATCH", "/v1/users/alice",
                                   {"name": 5}), 400)
expect("update_unknown_404", call("PATCH", "/v1/users/nobody",
                                  {"name": "x"}), 404)

# Presence
j = expect("presence_unset", call("GET", "/v1/users/alice/presence"), 200,
           "show")
check("presence_unset_unavailable", j and j["show"] == "unavailable", repr(j))
j = expect("presence_set", call("PUT", "/v1/users/alice/presence", {
    "show": "away", "status": "lunch", "priority": 5}), 200, "show")
check("presence_set_fields", j and j["show"] == "away" and
      j["status"] == "lunch" and j["priority"] == 5, repr(j))
expect("presence_bad_show_400", call("PUT", "/v1/users/alice/presence",
                                     {"show": "sleepy"}), 400)
expect("presence_bad_prio_400", call("PUT", "/v1/users/alice/presence",
                                     {"priority": 500}), 400)
expect("presence_unknown_404", call("PUT", "/v1/users/nobody/presence",
                                    {"show": "away"}), 404)
expect("contacts_presence", call("GET", "/v1/users/alice/contacts/presence"),
       200, "presence")

# Messages and the outbox
j = expect("send_202", call("POST", "/v1/users/alice/messages", {
    "to": "bob@a.localhost", "body": "hello bob"}), 202, "id")
mid = j and j["id"]
expect("send_no_to_400", call("POST", "/v1/users/alice/messages",
                              {"body": "x"}), 400)
expect("send_bad_jid_400", call("POST", "/v1/users/alice/messages",
                                {"to": "a@@b", "body": "x"}), 400)
expect("send_empty_400", call("POST", "/v1/users/alice/messages",
                              {"to": "bob@a.localhost"}), 400)
expect("send_bad_type_400", call("POST", "/v1/users/alice/messages", {
    "to": "bob@a.localhost", "body": "x", "type": "groupchat"}), 400)
expect("send_unknown_user_404", call("POST", "/v1/users/nobody/messages", {
    "to": "bob@a.localhost", "body": "x"}), 404)
expect("outbox_one", call("GET", "/v1/outbox/%s" % mid), 200, "state")
expect("outbox_unknown_404", call("GET", "/v1/outbox/999999"), 404)
expect("outbox_bad_id_400", call("GET", "/v1/outbox/abc"), 400)
j = expect("outbox_many", call("GET", "/v1/outbox?ids=%s,999999" % mid), 200,
           "outbox")
check("outbox_many_one", j and len(j["outbox"]) == 1, repr(j))
expect("outbox_bad_ids_400", call("GET", "/v1/outbox?ids=1,x"), 400)
expect("outbox_user", call("GET", "/v1/outbox?user=alice&limit=5"), 200,
       "outbox")

# Disabled users cannot send
expect("disable", call("PATCH", "/v1/users/bob", {"disabled": True}), 200)
expect("disabled_send_409", call("POST", "/v1/users/bob/messages", {
    "to": "alice@a.localhost", "body": "x"}), 409)
expect("enable", call("PATCH", "/v1/users/bob", {"disabled": False}), 200)

# Inbox: the message alice sent to bob (hosted: no S2S hop)
import time
deadline = time.time() + 10
while time.time() < deadline:
    s, j, _ = call("GET", "/v1/users/bob/inbox")
    if j and j.get("inbox"):
        break
    time.sleep(0.1)
check("inbox_got", j and len(j["inbox"]) == 1 and
      j["inbox"][0]["body"] == "hello bob", repr(j))
last = j["inbox"][0]["id"] if j and j.get("inbox") else 0
s, j, _ = call("GET", "/v1/users/bob/inbox?after=%d" % last)
check("inbox_after_cursor", s == 200 and j["inbox"] == [] and
      j["next"] == last, repr(j))
s, j, _ = call("GET", "/v1/users/bob/inbox")
check("inbox_unacked_stays", j and len(j["inbox"]) == 1, repr(j))
j = expect("inbox_ack", call("POST", "/v1/users/bob/inbox/ack",
                             {"upto": last}), 200, "acknowledged")
check("inbox_ack_one", j and j["acknowledged"] == 1, repr(j))
s, j, _ = call("GET", "/v1/users/bob/inbox")
check("inbox_acked_gone", j and j["inbox"] == [], repr(j))
s, j, _ = call("GET", "/v1/users/bob/inbox?all=1")
check("inbox_all_consumed", j and len(j["inbox"]) == 1 and
      j["inbox"][0]["consumed"], repr(j))
expect("inbox_ack_bad_400", call("POST", "/v1/users/bob/inbox/ack",
                                 {"upto": "x"}), 400)
expect("inbox_bad_after_400", call("GET", "/v1/users/bob/inbox?after=-1"),
       400)

# Subscriptions
j = expect("subscribe_202", call("POST",
           "/v1/users/alice/subscriptions/juliet@capulet.example/subscribe",
           {"status": "hi"}), 202, "id")
j = expect("sub_list", call("GET", "/v1/users/alice/subscriptions"), 200,
           "subscriptions")
check("sub_pending_out", j and j["subscriptions"][0]["pending_out"], repr(j))
j = expect("approve_done", call("POST",
           "/v1/users/alice/subscriptions/romeo@montague.example/approve"),
           202, "state")
check("approve_preapproved_done", j and j["state"] == "done", repr(j))
expect("deny_202", call("POST",
       "/v1/users/alice/subscriptions/romeo@montague.example/deny"), 202)
expect("unsubscribe_202", call("POST",
       "/v1/users/alice/subscriptions/juliet@capulet.example/unsubscribe"),
       202)
expect("sub_bad_action_404", call("POST",
       "/v1/users/alice/subscriptions/juliet@capulet.example/hug"), 404)
expect("sub_full_jid_400", call("POST",
       "/v1/users/alice/subscriptions/juliet@capulet.example%2Fr/subscribe"),
       400)

# Events: journal, cursor, long polling
j = expect("events", call("GET", "/v1/events?after=0&limit=1000"), 200,
           "events")
types = {e["type"] for e in j["events"]} if j else set()
check("events_types", {"user", "inbox", "outbox"} <= types, repr(types))
ids = [e["id"] for e in j["events"]] if j else []
check("events_ordered", ids == sorted(ids) and len(ids) > 0, repr(ids))
nxt = j["next"] if j else 0
t0 = time.time()
s, j, _ = call("GET", "/v1/events?after=%d&wait=1" % nxt)
check("events_wait_times_out", s == 200 and j["events"] == [] and
      time.time() - t0 >= 0.9, "%s %r" % (s, j))
expect("events_bad_wait_400", call("GET", "/v1/events?wait=99999"), 400)
import threading
res = {}
def poll():
    res["r"] = call("GET", "/v1/events?after=%d&wait=20" % nxt)
th = threading.Thread(target=poll)
th.start()
time.sleep(0.5)
call("PUT", "/v1/users/alice/presence", {"show": "dnd"})
call("PATCH", "/v1/users/alice", {"note": "wake the poll"})
th.join(30)
s, j, _ = res.get("r", (0, None, None))
check("events_long_poll_wakes", s == 200 and j and len(j["events"]) >= 1 and
      j["events"][0]["type"] == "user", "%s %r" % (s, j))
expect("webhooks_admin", call("GET", "/v1/webhooks"), 200, "webhooks")

# Delete
s, j, _ = call("DELETE", "/v1/users/alice")
check("user_delete_204", s == 204, "%s %r" % (s, j))
expect("user_deleted_404", call("GET", "/v1/users/alice"), 404)
expect("user_delete_again_404", call("DELETE", "/v1/users/alice"), 404)
con = sqlite3.connect(db)
n = con.execute("SELECT count(*) FROM outbox o JOIN users u ON u.id = "
                "o.user_id WHERE u.localpart = 'alice'").fetchone()[0]
check("user_delete_cascade", n == 0, "%d outbox rows left" % n)
s, j, _ = call("GET", "/v1/events?after=%d&limit=1000" % nxt)
check("event_user_deleted", any(e["type"] == "user" and
      e["state"] == "deleted" and e["user"] == "alice@a.localhost"
      for e in j["events"]), repr(j))
sys.exit(1 if fails else 0)
