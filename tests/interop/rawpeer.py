#!/usr/bin/python3
"""rawpeer.py: a raw-socket server-to-server XMPP peer for protocol tests.

No XMPP library: hand-written XML over plain sockets (optionally STARTTLS),
and every byte sent or received is printed, with a timestamp and the
direction.  It plays two roles at once:

  - the initiating server: it opens a stream to the server under test (to,
    from, namespaces and version as given), authenticates with dialback if
    the scenario wants it, sends what the scenario sends, and reports what
    the server did: the outcome;
  - the authoritative server of its own domain: it listens on that domain's
    address and answers the db:verify the receiving server sends there with
    a chosen verdict, or never, or is not there at all.

Outcomes (what --expect compares with; "A|B" accepts either):
  valid, invalid, error     the type of the db:result the server answered
  stream-error:CONDITION    the server sent <stream:error> with CONDITION
  reply:NAME[:TYPE]         the server sent a stanza back (e.g. reply:message:error)
  features                  stream features arrived (scenario 'features')
  closed                    the stream or TCP connection ended, no error
  open                      nothing within --wait seconds; stream still open

Scenarios:
  features            open a stream, show the features
  dialback            authenticate by dialback; with --rcpt, send it a message
  unknown-to          open a stream to a domain the server does not host
                      (--unknown, default nothere.test)
  wrong-namespace     open a stream whose stream namespace is wrong (--ns-stream)
  stanza-before-auth  send a message before authenticating
  spoofed-from        authenticate, then send a message from --spoof (another domain)
  bad-dialback-key    our authoritative side calls our own key invalid
  dead-authoritative  nothing listens for our domain: the key cannot be checked
  raw                 open a stream (authenticate first with --auth), send each
                      XML argument, report the first reaction

As a library:
    import rawpeer
    auth = rawpeer.Authoritative("x.test", "127.0.0.4").start()
    st = rawpeer.open_stream("127.0.0.2", 5269, to="p.test", frm="x.test")
    st.expect("features")
    print(rawpeer.dialback(st, "x.test", "p.test", auth))     # 'valid'
    st.send("<message .../>"); print(rawpeer.observe(st, 2))   # 'open'

Run with /usr/bin/python3 inside the lab's namespace (lab_rawpeer in lab.sh).
Exit status: 0 the outcome was expected (or nothing was expected), 1 it was
not, 2 usage error, 3 local trouble (cannot connect, cannot listen).
"""

import argparse
import secrets
import socket
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS_STREAM = "http://etherx.jabber.org/streams"
NS_DB = "jabber:server:dialback"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_STREAM_ERR = "urn:ietf:params:xml:ns:xmpp-streams"

T0 = time.monotonic()
_print_lock = threading.Lock()


def trace(label, text):
    """One entry of the transcript: time since start, who to whom, bytes."""
    with _print_lock:
        lines = text.splitlines() or [""]
        for i, part in enumerate(lines):
            head = "%8.3f %-24s" % (time.monotonic() - T0, label) if i == 0 else " " * 33
            print("%s %s" % (head, part), flush=True)


def note(text):
    trace("#", text)


def local(tag):
    return tag.rsplit("}", 1)[-1] if tag else "(nothing)"


def header_xml(to, frm=None, ns="jabber:server", ns_stream=NS_STREAM,
               version="1.0", db=True, stream_id=None):
    """A stream header. Any attribute may be None to leave it out."""
    attrs = ["xmlns:stream='%s'" % ns_stream]
    if ns is not None:
        attrs.append("xmlns='%s'" % ns)
    if db:
        attrs.append("xmlns:db='%s'" % NS_DB)
    for name, value in (("from", frm), ("to", to), ("version", version),
                        ("id", stream_id)):
        if value is not None:
            attrs.append("%s='%s'" % (name, value))
    return "<?xml version='1.0'?><stream:stream %s>" % " ".join(attrs)


class Stream:
    """One XML stream on a socket.  send() writes text as is; next() returns
    the next event: ("header", attrs), ("element", Element), ("end", None),
    ("closed", None) or ("timeout", None)."""

    def __init__(self, sock, label_out, label_in, timeout=10.0):
        self.sock = sock
        self.label_out, self.label_in = label_out, label_in
        self.timeout = timeout
        self.restart()

    def restart(self):
        """A new stream on the same connection (after TLS or SASL)."""
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.attrs = None
        self.queue = []
        self.closed = False

    def send(self, text):
        trace(self.label_out, text)
        self.sock.sendall(text.encode())

    def _feed(self, data):
        trace(self.label_in, data.decode(errors="replace"))
        try:
            self.parser.feed(data)
            for ev, el in self.parser.read_events():
                if ev == "start":
                    self.depth += 1
                    if self.depth == 1:
                        self.attrs = dict(el.attrib)
                        self.attrs["{tag}"] = el.tag
                        self.queue.append(("header", self.attrs))
                    continue
                self.depth -= 1
                if self.depth == 1:
                    self.queue.append(("element", el))
                elif self.depth == 0:
                    self.queue.append(("end", None))
        except ET.ParseError as exc:
            note("received XML does not parse: %s" % exc)
            self.queue.append(("end", None))

    def next(self, timeout=None):
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.queue:
            if self.closed:
                return ("closed", None)
            left = end - time.monotonic()
            if left <= 0:
                return ("timeout", None)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError) as exc:
                note("connection error: %s" % exc)
                self.closed = True
                continue
            if not data:
                note("connection closed by the other side")
                self.closed = True
                continue
            self._feed(data)
        return self.queue.pop(0)

    def header(self, timeout=None):
        """The other side's stream header attributes, or None."""
        while True:
            kind, val = self.next(timeout)
            if kind == "header":
                return val
            if kind in ("end", "closed", "timeout"):
                return None

    def expect(self, *names, timeout=None):
        """The next top-level element with one of these local names; a
        stream error, the end of the stream or a timeout stop the wait and
        return the error element or None."""
        while True:
            kind, val = self.next(timeout)
            if kind == "element":
                if local(val.tag) in names or val.tag == "{%s}error" % NS_STREAM:
                    return val
                continue
            if kind in ("end", "closed", "timeout"):
                return None

    def starttls(self, ctx, server_hostname=None):
        """After <proceed/>: wrap the socket; the caller sends a new header."""
        self.sock = ctx.wrap_socket(self.sock, server_side=server_hostname is None,
                                    server_hostname=server_hostname)
        note("TLS up: %s" % self.sock.version())
        self.restart()

    def close(self, linger=0.5):
        try:
            self.send("</stream:stream>")
            end = time.monotonic() + linger
            while time.monotonic() < end:
                if self.next(end - time.monotonic())[0] in ("end", "closed", "timeout"):
                    break
        except OSError:
            pass
        self.sock.close()


def stream_error(el):
    """'stream-error:COND' for a <stream:error/> element, else None."""
    if el is None or el.tag != "{%s}error" % NS_STREAM:
        return None
    conds = [local(c.tag) for c in el if c.tag.startswith("{%s}" % NS_STREAM_ERR)
             and local(c.tag) != "text"]
    return "stream-error:" + (conds[0] if conds else "?")


def observe(st, wait):
    """The server's first reaction within `wait` seconds, as an outcome."""
    end = time.monotonic() + wait
    while True:
        kind, el = st.next(max(0.0, end - time.monotonic()))
        if kind == "timeout":
            return "open"
        if kind in ("end", "closed"):
            return "closed"
        if kind == "element":
            err = stream_error(el)
            if err:
                return err
            out = "reply:" + local(el.tag)
            return out + (":" + el.get("type") if el.get("type") else "")


def open_stream(host, port, to, frm=None, timeout=10.0, **header):
    """Connect and send a stream header; the server's header is read by the
    caller (st.header()) so that scenarios can look at a refusal."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    who = frm or "?"
    st = Stream(sock, "%s -> %s" % (who, to), "%s <- %s" % (who, to), timeout)
    st.send(header_xml(to, frm, **header))
    return st


def starttls(st, to, frm, ca=None, cert=None, key=None, **header):
    """STARTTLS on an open stream whose features offered it; returns the
    features after TLS (or None)."""
    st.send("<starttls xmlns='%s'/>" % NS_TLS)
    if local(getattr(st.expect("proceed", "failure"), "tag", None)) != "proceed":
        return None
    ctx = ssl.create_default_context(cafile=ca)
    if not ca:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    st.starttls(ctx, server_hostname=to)
    st.send(header_xml(to, frm, **header))
    if st.header() is None:
        return None
    return st.expect("features")


class Authoritative:
    """The authoritative server of `domain`, listening on addr:port.

    verdict: 'keys'    valid for keys this process issued, invalid otherwise
             'valid'   valid for anything
             'invalid' invalid for anything
             'silent'  accept the stream, never answer db:verify
    A server that connects to deliver stanzas to `domain` is let in: its
    db:result is answered valid and its stanzas are shown."""

    def __init__(self, domain, addr, port=5269, verdict="keys"):
        self.domain, self.addr, self.port, self.verdict = domain, addr, port, verdict
        self.keys = set()
        self.verifies = []          # (from, verdict sent or None)
        self._stop = threading.Event()
        self._sock = None

    def new_key(self):
        key = secrets.token_hex(32)
        self.keys.add(key)
        return key

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(16)
        s.settimeout(0.1)
        self._sock = s
        threading.Thread(target=self._accept, daemon=True).start()
        note("authoritative server for %s on %s:%d (verdict: %s)"
             % (self.domain, self.addr, self.port, self.verdict))
        return self

    def stop(self):
        self._stop.set()
        if self._sock:
            self._sock.close()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        me = self.domain
        st = Stream(conn, "%s(auth) -> peer" % me, "%s(auth) <- peer" % me, 10)
        attrs = st.header()
        if attrs is None:
            conn.close()
            return
        peer = attrs.get("from", "?")
        st.label_out, st.label_in = "%s(auth) -> %s" % (me, peer), "%s(auth) <- %s" % (me, peer)
        st.send(header_xml(peer, me, stream_id=secrets.token_hex(8)) +
                "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>"
                "</stream:features>")
        while not self._stop.is_set():
            kind, el = st.next(0.2)
            if kind == "timeout":
                continue
            if kind != "element":
                break
            if el.tag == "{%s}verify" % NS_DB:
                key = (el.text or "").strip()
                v = {"keys": "valid" if key in self.keys else "invalid",
                     "valid": "valid", "invalid": "invalid"}.get(self.verdict)
                self.verifies.append((el.get("from"), v))
                if v is None:
                    note("db:verify from %s left unanswered (silent)" % el.get("from"))
                    continue
                st.send("<db:verify from='%s' to='%s' id='%s' type='%s'/>"
                        % (me, el.get("from"), el.get("id"), v))
            elif el.tag == "{%s}result" % NS_DB:
                st.send("<db:result from='%s' to='%s' type='valid'/>" % (me, el.get("from")))
        try:
            st.send("</stream:stream>")
            conn.close()
        except OSError:
            pass


def dialback(st, frm, to, auth=None, key=None, timeout=None):
    """Send db:result with a key (a new one from `auth` by default); returns
    the verdict ('valid', 'invalid', 'error') or another outcome."""
    if key is None:
        key = auth.new_key() if auth else secrets.token_hex(32)
    st.send("<db:result from='%s' to='%s'>%s</db:result>" % (frm, to, key))
    el = st.expect("result", timeout=timeout)
    if el is None:
        return "closed" if st.closed or st.queue else "open"
    return stream_error(el) or el.get("type") or "?"


# ------------------------------------------------------------------ the CLI

def scenario(a, auth):
    """Runs the scenario; returns its outcome."""
    to = a.unknown if a.scenario == "unknown-to" else a.to
    hdr = {"ns": a.ns, "version": a.version or None, "db": not a.no_db}
    if a.scenario == "wrong-namespace":
        hdr["ns_stream"] = a.ns_stream or "urn:example:not-streams"
    elif a.ns_stream:
        hdr["ns_stream"] = a.ns_stream
    st = open_stream(a.host, a.port, to, a.frm, a.timeout, **hdr)
    try:
        attrs = st.header()
        if attrs is None:
            return observe(st, a.wait)
        if attrs.get("{tag}") != "{%s}stream" % NS_STREAM:
            note("the answer is not a stream header: %s" % attrs.get("{tag}"))
        feats = st.expect("features")
        if feats is None or stream_error(feats):
            return stream_error(feats) or observe(st, a.wait)
        if a.tls:
            feats = starttls(st, to, a.frm, a.ca, a.cert, a.key, **hdr)
            if feats is None or stream_error(feats):
                return stream_error(feats) or observe(st, a.wait)
        if a.scenario == "features":
            return "features"
        msg = ("<message from='%s@%s' to='%s' type='chat' id='rp%s'><body>%s</body></message>")
        if a.scenario == "stanza-before-auth":
            st.send(msg % ("eve", a.frm, a.rcpt or "someone@" + to, "1",
                           "sent before authenticating"))
            return observe(st, a.wait)
        if a.scenario in ("raw",) and not a.auth:
            for x in a.xml:
                st.send(x)
            return observe(st, a.wait)
        verdict = dialback(st, a.frm, to, auth)
        note("dialback: %s" % verdict)
        if a.scenario in ("dialback", "bad-dialback-key", "dead-authoritative") or verdict != "valid":
            if a.scenario == "dialback" and verdict == "valid" and a.rcpt:
                st.send(msg % ("eve", a.frm, a.rcpt, "2", a.body))
                observe(st, 0.3)
            return verdict
        if a.scenario == "spoofed-from":
            st.send(msg % ("mallory", a.spoof, a.rcpt or "someone@" + to, "3",
                           "not really from " + a.spoof))
            return observe(st, a.wait)
        for x in a.xml:
            st.send(x)
        return observe(st, a.wait)
    finally:
        st.close()


SCENARIOS = ("features", "dialback", "unknown-to", "wrong-namespace",
             "stanza-before-auth", "spoofed-from", "bad-dialback-key",
             "dead-authoritative", "raw")


def main():
    ap = argparse.ArgumentParser(
        usage="%(prog)s [options] SCENARIO [XML...]",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=SCENARIOS, metavar="SCENARIO")
    ap.add_argument("xml", nargs="*", help="raw: XML to send, one argument each")
    ap.add_argument("--host", required=True, help="address of the server under test")
    ap.add_argument("--port", type=int, default=5269)
    ap.add_argument("--to", help="stream to= (the domain of the server under test)")
    ap.add_argument("--unknown", default="nothere.test",
                    help="unknown-to: the domain the server does not host")
    ap.add_argument("--from", dest="frm", default="x.test", help="our domain (default x.test)")
    ap.add_argument("--listen", help="ADDR[:PORT] of our authoritative server "
                    "(default: none; needed for dialback to succeed)")
    ap.add_argument("--verdict", default="keys", choices=("keys", "valid", "invalid", "silent"),
                    help="what our authoritative server answers to db:verify")
    ap.add_argument("--ns", default="jabber:server", help="default namespace of the stream")
    ap.add_argument("--ns-stream", help="the stream: prefix's namespace")
    ap.add_argument("--version", default="1.0", help="version= ('' leaves it out)")
    ap.add_argument("--no-db", action="store_true", help="no xmlns:db on the header")
    ap.add_argument("--auth", action="store_true", help="raw: dialback before sending")
    ap.add_argument("--rcpt", help="JID to send the test message to")
    ap.add_argument("--body", default="hello from rawpeer")
    ap.add_argument("--spoof", default="spoofed.test", help="spoofed-from: the forged domain")
    ap.add_argument("--tls", action="store_true", help="STARTTLS before anything else")
    ap.add_argument("--ca", help="CA to verify the server with (--tls)")
    ap.add_argument("--cert", help="our certificate (--tls)")
    ap.add_argument("--key", help="our key (--tls)")
    ap.add_argument("--timeout", type=float, default=10.0, help="bound for each wait")
    ap.add_argument("--wait", type=float, default=2.0,
                    help="how long to watch for a reaction before calling it 'open'")
    ap.add_argument("--expect", help="outcome(s) that pass, e.g. 'valid' or "
                    "'open|stream-error:not-authorized'")
    a = ap.parse_args()
    if not a.to and a.scenario != "unknown-to":
        ap.error("--to is needed for %s" % a.scenario)

    auth = None
    if a.listen and a.scenario != "dead-authoritative":
        addr, _, port = a.listen.partition(":")
        verdict = "invalid" if a.scenario == "bad-dialback-key" else a.verdict
        try:
            auth = Authoritative(a.frm, addr, int(port or 5269), verdict).start()
        except OSError as exc:
            note("cannot listen on %s: %s" % (a.listen, exc))
            return 3
    try:
        outcome = scenario(a, auth)
    except (OSError, ssl.SSLError) as exc:
        note("local error: %s" % exc)
        print("outcome: local-error", flush=True)
        return 3
    finally:
        if auth:
            auth.stop()
    print("outcome: %s" % outcome, flush=True)
    if a.expect is None:
        return 0
    ok = outcome in a.expect.split("|")
    print("%s expected %s" % ("as" if ok else "NOT as", a.expect), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
