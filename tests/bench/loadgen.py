#!/usr/bin/env python3
"""loadgen.py: the peer side of `make bench` (tools/bench runs it).

One remote XMPP server, on loopback, plain TCP, standard library only:

  - the authoritative server of its own domain (XEP-0220): it listens on
    the address xfed's `route` for that domain points to, and answers the
    db:verify xfed sends with the key checked the XEP-0185 way against the
    shared secret; xfed's own db:result there is answered valid;
  - the initiating server: it opens inbound streams to xfed, authenticates
    them by dialback and then, depending on the mode:

  inbound N      one stream; N pre-built <message/> stanzas written as fast
                 as the socket takes them; the time from the first stanza
                 byte until xfed's inbox holds all N rows (polled read-only
                 in xfed's SQLite file) is the throughput
  inbound-sm N   the same with stream management (XEP-0198) enabled after
                 dialback: an <r/> after every 256 stanzas and after the
                 last; also timed until xfed's <a/> covers all N
  trickle N      the same, one stanza per write with a pause after each,
                 so that xfed reads them one at a time: xfed's CPU time per
                 stanza on a stream that is idle between stanzas
  idle K         K streams that authenticate (--tls: after STARTTLS;
                 dialback, --batch of them
                 in flight at once: handshakes/s) and then stay silent;
                 xfed's memory (/proc/PID) before and after is the cost per
                 stream
  fanout N       N rows inserted into the sending xfed's outbox in one
                 transaction; the time until all of them are 'sent' there
                 and in the receiving xfed's inbox
  presence N     the receiving server of --domains remote domains at once
                 (one listener; xfed's `route` for each points to it), with
                 real dialback: each db:result xfed sends is checked with a
                 db:verify on a stream of our own back to xfed, as a remote
                 server does (XEP-0220 2.1.2). N subscribers of xfed's user,
                 spread over the domains, are written into xfed's store;
                 then the user's presence changes: cold (no stream up),
                 warm (the same streams, up) and, with --warm-n M, warm
                 again after M - N more subscribers are added. Each time
                 is from the commit of the presence row to the last
                 presence received; with --exact, every stanza is parsed
                 and each change must reach each subscriber exactly once
  presence-c2s N the same receiving server for another server (Prosody,
                 --host, --port): its user, whose roster already holds the
                 N contacts, logs in on --c2s-port (SASL PLAIN, bind) and
                 sends <presence/> (cold), then a change (warm); each time
                 is from that write to the last presence received

Every mode prints "key value" lines on stdout; tools/bench reads them.
"""

import argparse
import hashlib
import hmac
import os
import secrets
import selectors
import socket
import sqlite3
import subprocess
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS_STREAM = "http://etherx.jabber.org/streams"
NS_DB = "jabber:server:dialback"
NS_SM = "urn:xmpp:sm:3"
SM_EVERY = 256
DB_RESULT = "{%s}result" % NS_DB
DB_VERIFY = "{%s}verify" % NS_DB
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"


def die(msg):
    print("loadgen: " + msg, file=sys.stderr, flush=True)
    os._exit(1)


def db_key(secret, receiving, originating, stream_id):
    """XEP-0185: HEX(HMAC-SHA256(HEX(SHA256(secret)), 'recv orig id'))."""
    k = hashlib.sha256(secret.encode()).hexdigest().encode()
    msg = ("%s %s %s" % (receiving, originating, stream_id)).encode()
    return hmac.new(k, msg, hashlib.sha256).hexdigest()


def header(frm, to, stream_id=None):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='%s' xmlns:db='%s' from='%s' to='%s'%s "
            "version='1.0'>" % (NS_STREAM, NS_DB, frm, to,
                                " id='%s'" % stream_id if stream_id else ""))


class Peer:
    """One XML stream: feed() bytes, get ("header", attrs) and
    ("element", Element) events for depth-1 elements."""

    def __init__(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0

    def feed(self, data):
        self.parser.feed(data)
        out = []
        for ev, el in self.parser.read_events():
            if ev == "start":
                self.depth += 1
                if self.depth == 1:
                    out.append(("header", dict(el.attrib)))
            else:
                self.depth -= 1
                if self.depth == 1:
                    out.append(("element", el))
        return out


class Authoritative(threading.Thread):
    """Answers xfed's outbound streams to our domain (XEP-0220 2.3)."""

    def __init__(self, domain, port, secret):
        super().__init__(daemon=True)
        self.domain, self.secret = domain, secret
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(16)
        self.verified = 0
        self.refused = 0

    def run(self):
        while True:
            c, _ = self.ls.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        p = Peer()
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                out = []
                for kind, v in p.feed(data):
                    if kind == "header":
                        out.append(header(self.domain, v.get("from", ""),
                                          secrets.token_hex(8)))
                        out.append("<stream:features><dialback xmlns='urn:"
                                   "xmpp:features:dialback'><errors/>"
                                   "</dialback></stream:features>")
                    elif v.tag == DB_VERIFY and v.get("type") is None:
                        good = hmac.compare_digest(
                            (v.text or "").strip(),
                            db_key(self.secret, v.get("from"), v.get("to"),
                                   v.get("id")))
                        if good:
                            self.verified += 1
                        else:
                            self.refused += 1
                        out.append("<db:verify from='%s' to='%s' id='%s' "
                                   "type='%s'/>" % (v.get("to"), v.get("from"),
                                                    v.get("id"), "valid" if good
                                                    else "invalid"))
                    elif v.tag == DB_RESULT and v.get("type") is None:
                        out.append("<db:result from='%s' to='%s' "
                                   "type='valid'/>" % (v.get("to"),
                                                       v.get("from")))
                if out:
                    c.sendall("".join(out).encode())
        except OSError:
            return
        finally:
            c.close()


class Conn:
    """An inbound stream being opened and authenticated by dialback."""

    def __init__(self, a, sel=None):
        self.a, self.sel = a, sel
        self.tls = False
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.peer = Peer()
        self.state = "connect"
        self.sid = None
        self.err = None

    def start(self):
        try:
            self.sock.connect(("127.0.0.1", self.a.port))
        except BlockingIOError:
            pass

    def sendall(self, text):
        # small writes on a fresh socket: the kernel takes them whole
        self.sock.setblocking(True)
        self.sock.sendall(text.encode())
        self.sock.setblocking(False)

    def on_writable(self):
        e = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if e:
            self.err = "connect: %s" % os.strerror(e)
            self.state = "failed"
            return
        self.sendall(header(self.a.frm, self.a.to))
        self.state = "header"

    def starttls(self):
        """RFC 6120 5.4: the handshake (blocking, it is short on
        loopback), then a new stream over TLS."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sel.unregister(self.sock)
        self.sock.setblocking(True)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.a.to)
        self.sock.setblocking(False)
        self.sel.register(self.sock, selectors.EVENT_READ, self)
        self.tls = True
        self.peer = Peer()
        self.sendall(header(self.a.frm, self.a.to))
        self.state = "header"

    def recv(self):
        try:
            data = self.sock.recv(65536)
            while self.tls and data and self.sock.pending():
                data += self.sock.recv(65536)
            return data
        except (BlockingIOError, ssl.SSLWantReadError):
            return None

    def on_readable(self):
        data = self.recv()
        if data is None:
            return
        if not data:
            self.err = "closed by xfed in state %s" % self.state
            self.state = "failed"
            return
        for kind, v in self.peer.feed(data):
            if kind == "header":
                self.sid = v.get("id")
            elif (v.tag == "{%s}features" % NS_STREAM and
                  self.state == "header" and self.a.tls and not self.tls):
                if v.find("{%s}starttls" % NS_TLS) is None:
                    self.err = "xfed offers no STARTTLS"
                    self.state = "failed"
                    return
                self.sendall("<starttls xmlns='%s'/>" % NS_TLS)
                self.state = "starttls"
            elif v.tag == "{%s}proceed" % NS_TLS and self.state == "starttls":
                self.starttls()
                return
            elif v.tag == "{%s}features" % NS_STREAM and self.state == "header":
                key = db_key(self.a.secret, self.a.to, self.a.frm, self.sid)
                self.sendall("<db:result from='%s' to='%s'>%s</db:result>" %
                             (self.a.frm, self.a.to, key))
                self.state = "dialback"
            elif v.tag == DB_RESULT and self.state == "dialback":
                if v.get("type") == "valid":
                    self.state = "ready"
                else:
                    self.err = "dialback %s" % v.get("type")
                    self.state = "failed"
            elif v.tag == "{%s}error" % NS_STREAM:
                self.err = "stream error %s" % ET.tostring(v).decode()
                self.state = "failed"


def open_streams(a, k, timeout, batch=100):
    """Opens k authenticated streams, at most `batch` handshakes at once."""
    sel = selectors.DefaultSelector()
    conns, pending, started = [], [], 0
    deadline = time.monotonic() + timeout
    while started < k or pending:
        while started < k and len(pending) < batch:
            c = Conn(a, sel)
            c.start()
            sel.register(c.sock, selectors.EVENT_WRITE, c)
            pending.append(c)
            started += 1
        if time.monotonic() > deadline:
            die("only %d of %d streams authenticated in %d s" %
                (len(conns), k, timeout))
        for key, ev in sel.select(1.0):
            c = key.data
            if c.state == "connect":
                c.on_writable()
                if c.state == "header":
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            else:
                c.on_readable()
            if c.state in ("ready", "failed"):
                sel.unregister(c.sock)
                pending.remove(c)
                if c.state == "failed":
                    die("stream %d: %s" % (len(conns), c.err))
                conns.append(c)
    sel.close()
    return conns


def proc_mem(pid):
    """xfed's memory in bytes: RSS, and the private (anonymous) part."""
    m = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[0].endswith(":"):
                m[parts[0][:-1]] = int(parts[1]) * 1024
    return m.get("Rss", 0), m.get("Private_Dirty", 0) + m.get("Private_Clean", 0)


def proc_cpu(pid):
    """User and system CPU seconds of pid."""
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return int(f[11]) / hz, int(f[12]) / hz


def proc_sched(pid):
    """Seconds pid ran on a CPU and waited for one, all threads
    (schedstat: nanosecond resolution)."""
    run = wait = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            v = f.read().split()
            run, wait = run + int(v[0]), wait + int(v[1])
    return run / 1e9, wait / 1e9


def proc_runq(pid):
    """Seconds pid spent runnable but waiting for a CPU."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[1]) / 1e9


class PgDB:
    """The little of sqlite3's connection scalar() uses, on a PostgreSQL
    URI, through psql (one process a query: polling, not a data path)."""

    def __init__(self, uri):
        self.uri = uri

    def execute(self, sql):
        out = subprocess.run(["psql", "-XAtq", "-d", self.uri, "-c", sql],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise sqlite3.OperationalError(out.stderr.strip())
        v = out.stdout.strip()
        return _Row(int(v) if v else None)


class _Row:
    def __init__(self, v):
        self.v = v

    def fetchone(self):
        return (self.v,)


def db_open(path):
    """xfed's store: a SQLite file, or a postgresql:// URI."""
    if path.startswith("postgresql://"):
        return PgDB(path)
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    return db


def scalar(db, sql):
    for _ in range(50):
        try:
            return db.execute(sql).fetchone()[0] or 0
        except sqlite3.OperationalError:
            time.sleep(0.02)
    die("cannot read the store: %s" % sql)


def wait_until(what, cond, timeout, step=0.01):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            die("timed out waiting for %s" % what)
        time.sleep(step)


def stanzas(a, n, first=1, sm=False):
    """n messages as one byte string, no whitespace between them; with sm,
    an <r/> after every SM_EVERY of them and after the last."""
    to = "%s@%s" % (a.user, a.to)
    frm = "sender@%s/bench" % a.frm
    r = "<r xmlns='%s'/>" % NS_SM
    return "".join(
        "<message from='%s' to='%s' type='chat' id='b%d'><body>benchmark "
        "message number %d, a sentence of ordinary length</body></message>%s"
        % (frm, to, i, i, r if sm and ((i - first + 1) % SM_EVERY == 0 or
                                       i == first + n - 1) else "")
        for i in range(first, first + n)).encode()


class Acks(threading.Thread):
    """Reads xfed's side of a stream with stream management: the last h
    of its <a/> answers, how many came, and anything else."""

    def __init__(self, sock, peer):
        super().__init__(daemon=True)
        self.sock, self.peer = sock, peer
        self.h, self.n, self.other = 0, 0, []

    def run(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            for kind, v in self.peer.feed(data):
                if kind == "element" and v.tag == "{%s}a" % NS_SM:
                    self.h, self.n = int(v.get("h")), self.n + 1
                else:
                    self.other.append(ET.tostring(v)[:200] if kind ==
                                      "element" else kind)


def sm_enable(c):
    """<enable/> on an authenticated stream; waits for <enabled/>."""
    c.sendall("<enable xmlns='%s'/>" % NS_SM)
    c.sock.setblocking(True)
    c.sock.settimeout(10)
    while True:
        data = c.sock.recv(65536)
        if not data:
            die("xfed closed the stream after <enable/>")
        for kind, v in c.peer.feed(data):
            if kind == "element" and v.tag == "{%s}enabled" % NS_SM:
                c.sock.settimeout(None)
                return
            die("xfed answered <enable/> with %r" % ET.tostring(v)[:300])


def report(**kv):
    for k, v in kv.items():
        print("%s %s" % (k, v), flush=True)


def mode_inbound(a):
    sm = a.mode == "inbound-sm"
    c = open_streams(a, 1, 30)[0]
    s = c.sock
    acks = None
    if sm:
        sm_enable(c)
        acks = Acks(s, c.peer)
        acks.start()
    s.setblocking(True)
    db = db_open(a.store)
    base = scalar(db, "SELECT count(*) FROM inbox")
    warm = stanzas(a, 1000, first=10 ** 8, sm=sm)
    s.sendall(warm)
    wait_until("the warm-up rows", lambda: scalar(
        db, "SELECT count(*) FROM inbox") >= base + 1000, 30)
    base = scalar(db, "SELECT max(id) FROM inbox")
    if sm:
        wait_until("the warm-up acks", lambda: acks.h >= 1000, 30)
    data = stanzas(a, a.n, sm=sm)
    err = []

    def send():
        try:
            view = memoryview(data)
            for i in range(0, len(view), 1 << 18):
                s.sendall(view[i:i + (1 << 18)])
        except OSError as e:
            err.append(str(e))

    def trickle():
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for one in pieces:
                s.sendall(one)
                time.sleep(a.pace)
        except OSError as e:
            err.append(str(e))

    if a.mode == "trickle":
        pieces = [stanzas(a, 1, first=i) for i in range(1, a.n + 1)]
        send = trickle  # noqa: F811

    ut0, st0 = proc_cpu(a.pid)
    rq0 = proc_runq(a.pid)
    t0 = time.monotonic()
    th = threading.Thread(target=send, daemon=True)
    th.start()
    wait_until("%d rows in the inbox" % a.n, lambda: scalar(
        db, "SELECT max(id) FROM inbox") >= base + a.n, a.timeout, 0.005)
    t1 = time.monotonic()
    ut1, st1 = proc_cpu(a.pid)
    rq1 = proc_runq(a.pid)
    if sm:
        # every stanza acknowledged: h counts the warm-up too
        wait_until("<a h='%d'/>" % (1000 + a.n),
                   lambda: acks.h >= 1000 + a.n, 30, 0.001)
        t2 = time.monotonic()
    th.join(5)
    if err:
        die("send: %s" % err[0])
    got = scalar(db, "SELECT count(*) FROM inbox WHERE id > %d" % base)
    if got != a.n:
        die("%d rows arrived, %d sent" % (got, a.n))
    if sm:
        if acks.other:
            die("xfed answered the stanzas: %r" % acks.other[:3])
        if acks.h != 1000 + a.n:
            die("h %d, %d stanzas sent" % (acks.h, 1000 + a.n))
    else:
        s.setblocking(False)
        try:
            back = s.recv(65536)
        except BlockingIOError:
            back = b""
        if back:
            die("xfed answered the stanzas: %r" % back[:300])
    wall = t1 - t0
    if a.mode == "trickle":
        report(trickle_n=a.n, trickle_secs="%.3f" % wall,
               trickle_cpu_us="%.1f" % ((ut1 - ut0 + st1 - st0) * 1e6 / a.n))
        s.close()
        return
    report(inbound_n=a.n, inbound_bytes=len(data), inbound_secs="%.3f" % wall,
           inbound_rate="%.0f" % (a.n / wall),
           inbound_cpu_user="%.2f" % (ut1 - ut0),
           inbound_cpu_sys="%.2f" % (st1 - st0),
           inbound_runq="%.2f" % (rq1 - rq0))
    if sm:
        report(inbound_acks=acks.n, inbound_acked_secs="%.3f" % (t2 - t0),
               inbound_acked_rate="%.0f" % (a.n / (t2 - t0)))
    s.sendall(b"</stream:stream>")
    s.close()


def mode_part(a):
    """One of several generators the bench runs at once: one stream, 1,000
    messages first, then a.go + ".ready." + a.frm is made and, once a.go
    exists, a.n messages sent as fast as the socket takes them. The bench
    times the rows arriving in the store; this one only sends."""
    c = open_streams(a, 1, 30)[0]
    s = c.sock
    s.setblocking(True)
    s.sendall(stanzas(a, 1000, first=10 ** 8))
    data = stanzas(a, a.n)
    open(a.go + ".ready." + a.frm, "w").close()
    wait_until("the go file", lambda: os.path.exists(a.go), a.timeout, 0.001)
    view = memoryview(data)
    for i in range(0, len(view), 1 << 18):
        s.sendall(view[i:i + (1 << 18)])
    report(part_n=a.n, part_frm=a.frm)
    # xfed reads what is in the socket before its closing tag
    s.sendall(b"</stream:stream>")
    s.settimeout(a.timeout)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


def mode_idle(a):
    # one stream first: xfed's outbound stream to our authoritative side
    # and its first-use allocations are not what is measured
    keep = open_streams(a, 1, 30)
    time.sleep(0.5)
    rss0, priv0 = proc_mem(a.pid)
    t0 = time.monotonic()
    keep += open_streams(a, a.n, a.timeout, a.batch)
    t1 = time.monotonic()
    time.sleep(a.settle)
    rss1, priv1 = proc_mem(a.pid)
    report(idle_k=a.n, idle_open_secs="%.2f" % (t1 - t0),
           idle_batch=a.batch,
           idle_handshakes_per_s="%.0f" % (a.n / (t1 - t0)),
           idle_rss_before=rss0, idle_rss_after=rss1,
           idle_priv_before=priv0, idle_priv_after=priv1,
           idle_rss_per_stream="%.0f" % ((rss1 - rss0) / a.n),
           idle_priv_per_stream="%.0f" % ((priv1 - priv0) / a.n))
    if a.compact_wait > 0:
        time.sleep(a.compact_wait)
        rss2, priv2 = proc_mem(a.pid)
        report(idle_rss_later=rss2, idle_priv_later=priv2,
               idle_rss_per_stream_later="%.0f" % ((rss2 - rss0) / a.n),
               idle_priv_per_stream_later="%.0f" % ((priv2 - priv0) / a.n))
    # every stream is still there, not closed by xfed
    for c in keep:
        c.sock.setblocking(False)
        d = c.recv()
        if d is not None and (d == b"" or b"error" in d):
            die("an idle stream was closed: %r" % d[:200])
    for c in keep:
        c.sock.close()


def mode_fanout(a):
    """a.store is the sender's store, a.store2 the receiver's."""
    to = "%s@%s" % (a.user2, a.to)
    rx = db_open(a.store2)
    base = scalar(rx, "SELECT count(*) FROM inbox")
    now = int(time.time())
    if a.store.startswith("postgresql://"):
        # one statement through psql: the rows commit at once, as below
        tx = db_open(a.store)
        t0 = time.monotonic()
        tx.execute("INSERT INTO outbox (user_id, kind, to_jid, type, body, "
                   "created, updated) SELECT u.id, 'message', '%s', 'chat', "
                   "'fan-out message number ' || g || ', a sentence of "
                   "ordinary length', %d, %d FROM users u, generate_series("
                   "0, %d) g WHERE u.localpart = '%s'" %
                   (to, now, now, a.n - 1, a.user))
        t1 = time.monotonic()
        first = scalar(tx, "SELECT min(id) FROM outbox WHERE created = %d" %
                       now)
        fanout_wait(a, rx, tx, base, first, t0, t1)
        return
    w = sqlite3.connect(a.store, timeout=10)
    uid = w.execute("SELECT id FROM users WHERE localpart = ?",
                    (a.user,)).fetchone()[0]
    rows = [(uid, to, "fan-out message number %d, a sentence of ordinary "
             "length" % i, now) for i in range(a.n)]
    t0 = time.monotonic()
    with w:
        w.executemany("INSERT INTO outbox (user_id, kind, to_jid, type, body, "
                      "created, updated) VALUES (?, 'message', ?, 'chat', ?, "
                      "?, ?4)", rows)
    t1 = time.monotonic()
    first = w.execute("SELECT min(id) FROM outbox WHERE created = ?",
                      (now,)).fetchone()[0]
    tx = db_open(a.store)
    fanout_wait(a, rx, tx, base, first, t0, t1)


def fanout_wait(a, rx, tx, base, first, t0, t1):
    """The rows committed at t1: until the receiver's inbox has them all,
    then until the sender marked them all sent."""
    wait_until("%d rows in the receiver's inbox" % a.n, lambda: scalar(
        rx, "SELECT count(*) FROM inbox") >= base + a.n, a.timeout, 0.05)
    t2 = time.monotonic()
    wait_until("%d rows sent" % a.n, lambda: scalar(
        tx, "SELECT count(*) FROM outbox WHERE state = 'sent' AND id >= %d" %
        first) >= a.n, 30, 0.05)
    t3 = time.monotonic()
    report(fanout_n=a.n, fanout_insert_secs="%.3f" % (t1 - t0),
           fanout_secs="%.3f" % (t2 - t1),
           fanout_rate="%.0f" % (a.n / (t2 - t1)),
           fanout_sent_secs="%.3f" % (t3 - t1))


class Receiver(threading.Thread):
    """The receiving server of many remote domains, on one listener: it
    accepts xfed's outbound streams, verifies xfed's dialback keys on
    streams of its own back to xfed, and counts the presence it gets."""

    def __init__(self, a, domains):
        super().__init__(daemon=True)
        self.a, self.domains = a, set(domains)
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((a.listen, a.auth_port))
        self.ls.listen(1024)
        self.ls.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.ls, selectors.EVENT_READ, None)
        self.lock = threading.Lock()
        self.presence = 0
        self.last = 0.0
        self.streams = 0
        self.verified = 0
        self.err = None
        # --exact: every presence parsed, counted per (to, show)
        self.exact = a.exact
        self.seen = {}

    def run(self):
        try:
            while True:
                for key, _ in self.sel.select(1.0):
                    if key.data is None:
                        self.accept()
                    else:
                        self.readable(key.fileobj, key.data)
        except Exception as e:  # noqa: BLE001 (reported by the main thread)
            self.err = repr(e)

    def accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except BlockingIOError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sel.register(c, selectors.EVENT_READ,
                              {"kind": "in", "peer": Peer()})

    def wait(self, total, timeout):
        """Until total presence stanzas have come (bounded)."""
        def done():
            if self.err:
                die("receiver: %s" % self.err)
            with self.lock:
                return self.presence >= total
        wait_until("%d presence stanzas" % total, done, timeout, 0.002)

    def send(self, s, text):
        s.setblocking(True)
        s.sendall(text.encode())
        s.setblocking(False)

    def close(self, s):
        self.sel.unregister(s)
        s.close()

    def readable(self, s, st):
        if st["kind"] == "connect":
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                self.err = "verify connect: %s" % os.strerror(e)
                return self.close(s)
            st["kind"] = "verify"
            self.sel.modify(s, selectors.EVENT_READ, st)
            self.send(s, header(st["frm"], st["to"]))
            return
        try:
            data = s.recv(65536)
        except (BlockingIOError, ConnectionError):
            data = b""
        if not data:
            return self.close(s)
        if st.get("fast"):
            # authenticated: only presence comes now; counted in the
            # bytes, so that what is timed is xfed, not this parser
            tail = st["tail"] + data
            n = tail.count(b"<presence")
            st["tail"] = tail[-8:]
            if n:
                with self.lock:
                    self.presence += n
                    self.last = time.monotonic()
            return
        for kind, v in st["peer"].feed(data):
            if st["kind"] == "in":
                self.on_in(s, st, kind, v)
            else:
                self.on_verify(s, st, kind, v)

    def on_in(self, s, st, kind, v):
        if kind == "header":
            st["sid"] = secrets.token_hex(8)
            self.send(s, header(v.get("to", ""), v.get("from", ""),
                                st["sid"]) +
                      "<stream:features><dialback xmlns='urn:xmpp:features:"
                      "dialback'><errors/></dialback></stream:features>")
        elif v.tag == DB_RESULT and v.get("type") is None:
            # XEP-0220 2.1.2: ask xfed, the authoritative server, on a
            # stream of our own
            if v.get("to") not in self.domains:
                self.err = "db:result for an unknown domain %s" % v.get("to")
                return
            vs = socket.socket()
            vs.setblocking(False)
            vs.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                vs.connect((self.a.host, self.a.port))
            except BlockingIOError:
                pass
            self.sel.register(vs, selectors.EVENT_WRITE, {
                "kind": "connect", "peer": Peer(), "in": s, "in_st": st,
                "frm": v.get("to"), "to": v.get("from"),
                "key": (v.text or "").strip(), "in_sid": st["sid"]})
        elif v.tag == "{jabber:server}presence":
            show = v.find("{jabber:server}show")
            key = (v.get("to"), show.text if show is not None else
                   v.get("type", "available"))
            with self.lock:
                self.presence += 1
                self.last = time.monotonic()
                self.seen[key] = self.seen.get(key, 0) + 1

    def on_verify(self, s, st, kind, v):
        if kind == "header":
            return
        if v.tag == "{%s}features" % NS_STREAM:
            self.send(s, "<db:verify from='%s' to='%s' id='%s'>%s"
                      "</db:verify>" % (st["frm"], st["to"], st["in_sid"],
                                        st["key"]))
        elif v.tag == DB_VERIFY:
            good = v.get("type") == "valid"
            if good:
                self.verified += 1
            else:
                self.err = "xfed answered db:verify %s" % v.get("type")
            self.send(st["in"], "<db:result from='%s' to='%s' type='%s'/>"
                      % (st["frm"], st["to"], "valid" if good else
                         "invalid"))
            # xfed sends nothing after its db:result until this answer
            st["in_st"]["fast"] = good and not self.exact
            st["in_st"]["tail"] = b""
            self.send(s, "</stream:stream>")
            self.close(s)
            with self.lock:
                self.streams += 1


def mode_presence(a):
    domains = ["r%d.%s" % (i, a.frm) for i in range(a.domains)]
    rx = Receiver(a, domains)
    rx.start()
    w = sqlite3.connect(a.store, timeout=10)
    uid = w.execute("SELECT id FROM users WHERE localpart = ?",
                    (a.user,)).fetchone()[0]

    jids = []

    def subscribe(first, last):
        jids.extend("c%d@%s" % (i, domains[i % len(domains)])
                    for i in range(first, last))
        with w:
            w.executemany(
                "INSERT INTO subscriptions (user_id, jid, state) "
                "VALUES (?, ?, 'from')",
                [(uid, "c%d@%s" % (i, domains[i % len(domains)]))
                 for i in range(first, last)])

    def change(show, n):
        with rx.lock:
            base = rx.presence
        c0 = proc_sched(a.pid) if a.pid else (0, 0)
        with w:
            w.execute("INSERT OR REPLACE INTO presence (user_id, show) "
                      "VALUES (?, ?)", (uid, show))
        t0 = time.monotonic()
        rx.wait(base + n, a.timeout)
        if a.exact:
            # each subscriber once, nobody else, nothing twice
            time.sleep(a.settle)
            with rx.lock:
                got = {k[0]: c for k, c in rx.seen.items() if k[1] == show}
                total = rx.presence - base
            want = set(jids)
            if total != n or set(got) != want or \
                    any(c != 1 for c in got.values()):
                die("%s: %d stanzas for %d subscribers; missing %s; twice %s;"
                    " unknown %s" % (show, total, n,
                                     sorted(want - set(got))[:3],
                                     [j for j, c in got.items() if c > 1][:3],
                                     sorted(set(got) - want)[:3]))
        c1 = proc_sched(a.pid) if a.pid else (0, 0)
        cpu[show] = (c1[0] - c0[0]) * 1000
        runq[show] = (c1[1] - c0[1]) * 1000
        with rx.lock:
            return (rx.last - t0) * 1000

    cpu, runq = {}, {}

    subscribe(0, a.n)
    time.sleep(a.settle)
    cold = change("available", a.n)
    streams = rx.streams
    time.sleep(a.settle)
    warm = change("away", a.n)
    report(presence_n=a.n, presence_domains=a.domains,
           presence_cold_ms="%.1f" % cold, presence_warm_ms="%.1f" % warm,
           presence_streams=streams,
           presence_cold_cpu_ms="%.1f" % cpu["available"],
           presence_warm_cpu_ms="%.1f" % cpu["away"],
           presence_cold_runq_ms="%.1f" % runq["available"],
           presence_warm_runq_ms="%.1f" % runq["away"])
    if a.warm_n > a.n:
        subscribe(a.n, a.warm_n)
        time.sleep(a.settle)
        change("dnd", a.warm_n)	# the new contacts' domains are up already
        report(presence_warm_n=a.warm_n, presence_warm_n_ms="%.1f" %
               change("xa", a.warm_n),
               presence_warm_n_cpu_ms="%.1f" % cpu["xa"],
               presence_warm_n_runq_ms="%.1f" % runq["xa"])
    if rx.streams != a.domains:
        die("%d streams verified for %d domains" % (rx.streams, a.domains))


NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"


def c2s_login(a):
    """A client of the server under test (RFC 6120: SASL PLAIN, resource
    binding) on a plain TCP stream; returns the socket, ready for
    <presence/>."""
    import base64
    s = socket.create_connection((a.host, a.c2s_port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='%s' to='%s' version='1.0'>" % (NS_STREAM, a.to))

    def expect(peer, tag):
        while True:
            data = s.recv(65536)
            if not data:
                die("c2s: closed while waiting for %s" % tag)
            for kind, v in peer.feed(data):
                if kind == "element" and v.tag == tag:
                    return v
                if kind == "element" and v.tag in (
                        "{%s}failure" % NS_SASL, "{%s}error" % NS_STREAM):
                    die("c2s: %s" % ET.tostring(v).decode()[:300])

    peer = Peer()
    s.sendall(head.encode())
    expect(peer, "{%s}features" % NS_STREAM)
    cred = base64.b64encode(("\0%s\0%s" % (a.user, a.password)).encode())
    s.sendall(("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" %
               (NS_SASL, cred.decode())).encode())
    expect(peer, "{%s}success" % NS_SASL)
    peer = Peer()
    s.sendall(head.encode())
    expect(peer, "{%s}features" % NS_STREAM)
    s.sendall(("<iq type='set' id='bind'><bind xmlns='%s'><resource>bench"
               "</resource></bind></iq>" % NS_BIND).encode())
    expect(peer, "{jabber:client}iq")
    return s, peer


def mode_presence_c2s(a):
    """presence N through another server (Prosody): its user, whose
    roster already holds N contacts on --domains domains with a 'from'
    subscription, logs in over c2s and sends presence; the time is from
    the write of <presence/> to the last presence received here."""
    domains = ["r%d.%s" % (i, a.frm) for i in range(a.domains)]
    rx = Receiver(a, domains)
    rx.start()
    s, _ = c2s_login(a)
    time.sleep(a.settle)

    def change(stanza, n):
        with rx.lock:
            base = rx.presence
        c0 = proc_sched(a.pid) if a.pid else (0, 0)
        t0 = time.monotonic()
        s.sendall(stanza.encode())
        rx.wait(base + n, a.timeout)
        c1 = proc_sched(a.pid) if a.pid else (0, 0)
        with rx.lock:
            return ((rx.last - t0) * 1000, (c1[0] - c0[0]) * 1000)

    cold, cold_cpu = change("<presence/>", a.n)
    time.sleep(a.settle)
    warm, warm_cpu = change("<presence><show>away</show></presence>", a.n)
    report(presence_n=a.n, presence_domains=a.domains,
           presence_cold_ms="%.1f" % cold, presence_warm_ms="%.1f" % warm,
           presence_cold_cpu_ms="%.1f" % cold_cpu,
           presence_warm_cpu_ms="%.1f" % warm_cpu,
           presence_streams=rx.streams)
    if rx.streams != a.domains:
        die("%d streams verified for %d domains" % (rx.streams, a.domains))
    s.sendall(b"</stream:stream>")
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("inbound", "inbound-sm", "trickle", "idle",
                                     "fanout", "presence", "presence-c2s", "part"))
    ap.add_argument("n", type=int)
    ap.add_argument("--port", type=int, help="xfed's S2S port")
    ap.add_argument("--host", default="127.0.0.1",
                    help="the address of the server under test")
    ap.add_argument("--listen", default="127.0.0.1",
                    help="presence: where the receiving server listens")
    ap.add_argument("--c2s-port", type=int, default=5222,
                    help="presence-c2s: the client port of the server")
    ap.add_argument("--password", default="bench-pw",
                    help="presence-c2s: the user's password")
    ap.add_argument("--auth-port", type=int,
                    help="where our authoritative side listens")
    ap.add_argument("--to", help="xfed's domain")
    ap.add_argument("--frm", default="gen.bench", help="our domain")
    ap.add_argument("--secret", default="loadgen-" + "0" * 32)
    ap.add_argument("--user", default="alice")
    ap.add_argument("--user2", default="bob")
    ap.add_argument("--store", help="xfed's SQLite file or "
                    "postgresql:// URI")
    ap.add_argument("--store2", help="fanout: the receiver's SQLite file")
    ap.add_argument("--pid", type=int, help="xfed's process id")
    ap.add_argument("--go", help="part: the file that starts the sending")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--pace", type=float, default=0.0002,
                    help="trickle: seconds between stanzas")
    ap.add_argument("--compact-wait", type=float, default=0)
    ap.add_argument("--tls", action="store_true",
                    help="idle, inbound: STARTTLS before dialback")
    ap.add_argument("--batch", type=int, default=50,
                    help="idle: dialback handshakes in flight at once")
    ap.add_argument("--domains", type=int, default=100,
                    help="presence: remote domains, r0.FRM ...")
    ap.add_argument("--warm-n", type=int, default=0,
                    help="presence: subscribers of the second warm run")
    ap.add_argument("--exact", action="store_true",
                    help="presence: parse every stanza and check that each "
                    "subscriber got each change exactly once")
    a = ap.parse_args()
    if a.mode not in ("fanout", "presence", "presence-c2s"):
        Authoritative(a.frm, a.auth_port, a.secret).start()
    {"inbound": mode_inbound, "inbound-sm": mode_inbound,
     "trickle": mode_inbound, "idle": mode_idle,
     "fanout": mode_fanout, "presence": mode_presence,
     "presence-c2s": mode_presence_c2s,
     "part": mode_part}[a.mode](a)


if __name__ == "__main__":
    main()
