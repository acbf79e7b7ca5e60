#!/usr/bin/python3
"""tests/sh/webhook_recv.py PORT SECRET OUT [CERT KEY]: a webhook receiver
for the tests. Each POST's signature is checked (X-Xfed-Signature:
sha256=HMAC of X-Xfed-Timestamp "." body); every event is appended to OUT
as one JSON line with "sig_ok" added; answers 200, or 500 when OUT.fail
exists. With CERT and KEY it speaks HTTPS."""
import hashlib, hmac, json, os, ssl, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, secret, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Xfed-Timestamp", "")
        sig = self.headers.get("X-Xfed-Signature", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(sig, want)
        if os.path.exists(out + ".fail"):
            self.send_response(500)
            self.end_headers()
            return
        with open(out, "a") as f:
            for e in json.loads(body)["events"]:
                e["sig_ok"] = ok
                f.write(json.dumps(e) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = HTTPServer(("127.0.0.1", port), Hook)
if len(sys.argv) > 5:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
