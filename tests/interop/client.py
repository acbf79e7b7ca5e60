#!/usr/bin/python3
"""client.py: a scriptable XMPP client for xfed's interop tests.

Logs in to a lab peer (Prosody p.test, ejabberd e.test) with STARTTLS,
trusting the lab CA, then runs the steps given as arguments, in order, and
prints one line per step:

    client.py [options] JID PASSWORD STEP...

    client.py alice@p.test alice-pw 'subscribe bob@e.test' \\
        'wait-subscribed bob@e.test' 'send bob@e.test hello there'

Each STEP is one argument: a verb and its words, split like a shell line.

  send JID TEXT...            chat message
  wait-xml JID TEXT...        wait for a message from JID (with or without
                              a body) whose XML holds TEXT
  wait-message JID [TEXT...]  wait for (and consume) a message from JID, with
                              that body if given; earlier arrivals count
                              (an error message reads "[error COND] BODY",
                              BODY only if the error echoed one)
  subscribe JID               presence type=subscribe
  approve JID                 presence type=subscribed
  approve-all                 approve every request, pending and future
  wait-subscribe JID [NICK]   wait for a subscription request from JID
                              (carrying XEP-0172 NICK when given)
  wait-subscribed JID         wait until JID approved ours (a subscribed
                              presence, or the roster item reaching to/both)
  wait-roster JID STATE       STATE: none, to, from, both or absent, or
                              several joined by | (none|absent)
  set-presence SHOW [TEXT...] SHOW: online, chat, away, xa or dnd
  wait-presence JID [SHOW]    available presence from JID (any resource if
                              bare) with SHOW; SHOW=unavailable waits until
                              every resource seen is offline
  wait-avatar JID HASH        available presence from JID whose XEP-0153
                              photo hash is HASH ('none': an empty <photo/>)
  ping JID                    XEP-0199
  disco JID [NODE]            disco#info: identities and features
  items JID                   disco#items: how many items
  version JID                 XEP-0092
  vcard JID                   XEP-0054: FN, NICKNAME, SHA-1 of the PHOTO
  last JID                    XEP-0012: seconds and status
  time JID                    XEP-0202: tzo and utc
  pep-avatar JID              XEP-0084: the metadata item, then the data
                              item by its id; the SHA-1 of the data checked
  pep-nick JID                XEP-0172: the nick node's item
  caps JID                    XEP-0115: disco#info at the full JID with the
                              node#ver of its last presence; the hash checked
  raw XML                     send XML as is
With --notify NODE (repeatable) the client announces NODE+notify in its
XEP-0115 caps (slixmpp's xep_0115 and xep_0163), so that PEP services send
it NODE's items (XEP-0163 4.2); wait-xml sees the notifications.

A '!' before a query (ping, disco, items, version, vcard, last, time, caps)
wants an error reply ('!ping nx.test').

Output lines start with two spaces, then PASS or FAIL (so that a scenario
test printing them is not mistaken for a case result).  Exit status: 0 all
steps passed, 1 a step failed (the run stops there), 2 usage error, 3 no
session (connection, TLS or authentication failed).

Run with /usr/bin/python3 (Debian's python3-slixmpp) inside the lab's
namespace, e.g. through lab_client in lab.sh.
"""

import argparse
import asyncio
import base64
import hashlib
import logging
import os
import shlex
import sys
import time
import xml.etree.ElementTree as ET

try:
    import slixmpp
    from slixmpp import JID
    from slixmpp.exceptions import IqError, IqTimeout
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import MatchXPath
except ImportError:
    sys.exit("client.py: no slixmpp here; use /usr/bin/python3 "
             "(package python3-slixmpp)")

SHOWS = ("online", "chat", "away", "xa", "dnd")
QUERIES = ("ping", "disco", "items", "version", "vcard", "last", "time",
           "caps", "pep-avatar", "pep-nick")
NS_PUBSUB = "{http://jabber.org/protocol/pubsub}"
NS_UPDATE = "{vcard-temp:x:update}"
NS_CAPS = "{http://jabber.org/protocol/caps}"


class Failed(Exception):
    """A step did not do what it should; the text says what happened."""


class Client(slixmpp.ClientXMPP):
    """Remembers everything it receives, so that a wait step also sees what
    arrived before it started, and wakes the waiting step on each change."""

    def __init__(self, jid, password, timeout, notify=()):
        super().__init__(jid, password)
        self.notify = list(notify)
        self.timeout = timeout
        # Subscriptions are test steps: never answer them on our own.
        self.auto_authorize = None
        self.auto_subscribe = False
        self.approving = False
        self.requests = []          # bare JIDs that asked to subscribe
        self.nicks = {}             # bare JID -> <nick/> of its request
        self.approved_by = set()    # bare JIDs that sent us "subscribed"
        self.presences = {}         # full JID -> (available?, show, status)
        self.extras = {}            # full JID -> {photo, caps node, ver}
        self.inbox = []             # [bare from, body] not yet consumed
        self.raw_messages = []      # (bare from, XML) of every message
        self.problems = []          # connection / stream / auth trouble
        self.session = asyncio.get_event_loop().create_future()
        self._waiters = []
        for p in ("xep_0030", "xep_0092", "xep_0199") + (
                ("xep_0115", "xep_0163") if self.notify else ()):
            self.register_plugin(p)
        on = self.add_event_handler
        on("session_start", self._session_start)
        on("presence", self._presence)
        on("message", self._message)
        # slixmpp raises "message" only for a message with a body, and
        # "message_error" for every error, with or without one.
        on("message_error", self._message_error)
        on("roster_update", lambda _: self._changed())
        self.register_handler(Callback(
            "every message", MatchXPath("{jabber:client}message"),
            self._raw_message))
        on("failed_auth", lambda _: self._no_session(
            "authentication failed (password? account?)"))
        on("stream_error", lambda e: self._no_session(
            "stream error <%s/> %s" % (e["condition"], e["text"] or "")))
        on("connection_failed", lambda e: self.problems.append(
            "connection failed: %s" % e))
        on("ssl_invalid_chain", lambda e: self._no_session(
            "TLS: server certificate not trusted (%s); --ca?" % e))
        on("disconnected", lambda _: self._changed())

    def _no_session(self, why):
        self.problems.append(why.strip())
        if not self.session.done():
            self.session.set_exception(Failed(why.strip()))
        self._changed()

    def _changed(self):
        for w in self._waiters:
            if not w.done():
                w.set_result(None)
        self._waiters = []

    async def _session_start(self, _):
        try:
            await self.get_roster(timeout=self.timeout)
        except (IqError, IqTimeout) as exc:
            self._no_session("roster request failed: %s" % exc)
            return
        if self.notify:
            # the +notify features, hashed into the caps of the first
            # presence (XEP-0163 4.2)
            for ns in self.notify:
                self["xep_0030"].add_feature(ns + "+notify")
            await self["xep_0115"].update_caps(broadcast=False)
        self.send_presence()
        if not self.session.done():
            self.session.set_result(True)

    def _presence(self, pres):
        kind, frm = pres["type"], pres["from"]
        if kind == "subscribe":
            self.requests.append(frm.bare)
            nick = pres.xml.find("{http://jabber.org/protocol/nick}nick")
            self.nicks[frm.bare] = None if nick is None else nick.text
            if self.approving:
                self.send_presence(pto=frm.bare, ptype="subscribed")
        elif kind == "subscribed":
            self.approved_by.add(frm.bare)
        elif kind == "unavailable":
            self.presences[str(frm)] = (False, "unavailable", pres["status"])
        elif kind == "available" or kind in SHOWS:
            self.presences[str(frm)] = (True, pres["show"] or "online",
                                        pres["status"])
            photo = pres.xml.find(NS_UPDATE + "x/" + NS_UPDATE + "photo")
            caps = pres.xml.find(NS_CAPS + "c")
            self.extras[str(frm)] = {
                "photo": None if photo is None else (photo.text or "none"),
                "node": None if caps is None else caps.get("node"),
                "ver": None if caps is None else caps.get("ver")}
        self._changed()

    def _message(self, msg):
        if msg["type"] == "error" or not msg["body"]:
            return
        self.inbox.append([msg["from"].bare, msg["body"]])
        self._changed()

    def _raw_message(self, msg):
        self.raw_messages.append((msg["from"].bare, str(msg)))
        self._changed()

    def _message_error(self, msg):
        # "[error COND]", then the body if the error echoed one
        self.inbox.append([msg["from"].bare, " ".join(filter(None, (
            "[error %s]" % msg["error"]["condition"], msg["body"])))])
        self._changed()

    async def until(self, test, what):
        """test()'s first true value; Failed after the step timeout, with
        what() describing the state then."""
        end = time.monotonic() + self.timeout
        while True:
            w = asyncio.get_event_loop().create_future()
            self._waiters.append(w)
            got = test()
            if got:
                return got
            if not self.is_connected():
                raise Failed("disconnected; " + what())
            left = end - time.monotonic()
            if left <= 0:
                raise Failed("nothing after %g s; %s" % (self.timeout, what()))
            try:
                await asyncio.wait_for(asyncio.shield(w), left)
            except asyncio.TimeoutError:
                pass

    def roster_state(self, jid):
        if jid not in self.client_roster:
            return "absent"
        item = self.client_roster[jid]
        return {(True, True): "both", (True, False): "to",
                (False, True): "from"}.get((bool(item["to"]), bool(item["from"])), "none")

    def presences_of(self, jid):
        j = JID(jid)
        return {k: v for k, v in self.presences.items()
                if (k == str(j) if j.resource else JID(k).bare == j.bare)}


STEPS = {}


def step(name, nargs):
    """Registers a step: name, minimal number of words after the verb."""
    def register(fn):
        STEPS[name] = (fn, nargs)
        return fn
    return register


@step("send", 2)
async def _send(c, a):
    c.send_message(mto=a[0], mbody=" ".join(a[1:]), mtype="chat")


@step("wait-message", 1)
async def _wait_message(c, a):
    frm, body = JID(a[0]).bare, " ".join(a[1:]) or None

    def found():
        for i, (f, b) in enumerate(c.inbox):
            if f == frm and (body is None or b == body):
                return repr(c.inbox.pop(i)[1])
        return None
    return await c.until(found, lambda: "from %s so far: %s" % (
        frm, [b for f, b in c.inbox if f == frm] or "nothing"))


@step("wait-xml", 2)
async def _wait_xml(c, a):
    frm, text = JID(a[0]).bare, " ".join(a[1:])
    return await c.until(
        lambda: next((x for f, x in c.raw_messages
                      if f == frm and text in x), None),
        lambda: "from %s: %d message(s)%s" % (
            frm, sum(1 for f, _ in c.raw_messages if f == frm),
            "".join("; " + x[:400] for f, x in c.raw_messages[-3:]
                    if f == frm)))


@step("subscribe", 1)
async def _subscribe(c, a):
    c.send_presence(pto=JID(a[0]).bare, ptype="subscribe")


@step("approve", 1)
async def _approve(c, a):
    c.send_presence(pto=JID(a[0]).bare, ptype="subscribed")


@step("approve-all", 0)
async def _approve_all(c, _a):
    c.approving = True
    pending = sorted(set(c.requests))
    for j in pending:
        c.send_presence(pto=j, ptype="subscribed")
    return "approved " + (", ".join(pending) or "none yet")


@step("wait-subscribe", 1)
async def _wait_subscribe(c, a):
    j, nick = JID(a[0]).bare, " ".join(a[1:]) or None
    await c.until(lambda: j in c.requests and nick in (None, c.nicks.get(j)),
                  lambda: "requests: %s" % ({r: c.nicks.get(r) for r in
                                             c.requests} or "none"))
    return "nick %r" % c.nicks.get(j)


@step("wait-subscribed", 1)
async def _wait_subscribed(c, a):
    j = JID(a[0]).bare

    def done():
        if j in c.approved_by:
            return "presence subscribed"
        if c.roster_state(j) in ("to", "both"):
            return "roster " + c.roster_state(j)
        return None
    return await c.until(done, lambda: "roster: %s" % c.roster_state(j))


@step("wait-roster", 2)
async def _wait_roster(c, a):
    j = JID(a[0]).bare
    await c.until(lambda: c.roster_state(j) in a[1].split("|"),
                  lambda: "roster: %s" % c.roster_state(j))


@step("set-presence", 1)
async def _set_presence(c, a):
    if a[0] not in SHOWS:
        raise Failed("SHOW is one of " + ", ".join(SHOWS))
    c.send_presence(pshow=None if a[0] == "online" else a[0],
                    pstatus=" ".join(a[1:]) or None)


@step("wait-presence", 1)
async def _wait_presence(c, a):
    want = a[1] if len(a) > 1 else None

    def seen():
        ps = c.presences_of(a[0])
        if want == "unavailable":
            if ps and not any(p[0] for p in ps.values()):
                return "%s unavailable" % ", ".join(sorted(ps))
            return None
        for full, (up, show, status) in sorted(ps.items()):
            if up and want in (None, show):
                return "%s %s%s" % (full, show, " %r" % status if status else "")
        return None
    return await c.until(seen, lambda: "seen: %s" % (
        {k: v[1] for k, v in c.presences_of(a[0]).items()} or "nothing"))


@step("wait-avatar", 2)
async def _wait_avatar(c, a):
    def seen():
        for full, up in sorted(c.presences_of(a[0]).items()):
            if up[0] and c.extras.get(full, {}).get("photo") == a[1]:
                return full
        return None
    return await c.until(seen, lambda: "photos: %s" % (
        {k: c.extras.get(k, {}).get("photo")
         for k in c.presences_of(a[0])} or "nothing"))


async def query(c, jid, ns, name="query", node=None):
    """An IQ get with one empty child; the result's child (or None)."""
    iq = c.make_iq_get(ito=jid)
    q = ET.Element("{%s}%s" % (ns, name))
    if node:
        q.set("node", node)
    iq.xml.append(q)
    res = await iq.send(timeout=c.timeout)
    return res.xml.find("{%s}%s" % (ns, name))


@step("items", 1)
async def _items(c, a):
    q = await query(c, a[0], "http://jabber.org/protocol/disco#items")
    return "%d items" % (0 if q is None else len(q))


@step("vcard", 1)
async def _vcard(c, a):
    v = await query(c, a[0], "vcard-temp", "vCard")
    if v is None:
        raise Failed("result without a vCard")
    out = []
    for tag in ("FN", "NICKNAME"):
        e = v.find("{vcard-temp}" + tag)
        out.append("%s=%s" % (tag, e.text if e is not None else "-"))
    b = v.find("{vcard-temp}PHOTO/{vcard-temp}BINVAL")
    t = v.find("{vcard-temp}PHOTO/{vcard-temp}TYPE")
    if b is not None:
        data = base64.b64decode("".join((b.text or "").split()))
        out.append("PHOTO=%s %s" % (t.text if t is not None else "-",
                                    hashlib.sha1(data).hexdigest()))
    return " ".join(out)


@step("last", 1)
async def _last(c, a):
    q = await query(c, a[0], "jabber:iq:last")
    return "seconds=%s status=%r" % (q.get("seconds"), q.text)


@step("time", 1)
async def _time(c, a):
    q = await query(c, a[0], "urn:xmpp:time", "time")
    return "tzo=%s utc=%s" % (q.findtext("{urn:xmpp:time}tzo"),
                              q.findtext("{urn:xmpp:time}utc"))


async def pep_items(c, jid, node, item=None):
    """The <item/> elements of a PEP node of jid."""
    iq = c.make_iq_get(ito=jid)
    ps = ET.SubElement(iq.xml, NS_PUBSUB + "pubsub")
    items = ET.SubElement(ps, NS_PUBSUB + "items", node=node)
    if item:
        ET.SubElement(items, NS_PUBSUB + "item", id=item)
    res = await iq.send(timeout=c.timeout)
    return res.xml.findall(NS_PUBSUB + "pubsub/" + NS_PUBSUB + "items/" +
                           NS_PUBSUB + "item")


@step("pep-avatar", 1)
async def _pep_avatar(c, a):
    meta = await pep_items(c, a[0], "urn:xmpp:avatar:metadata")
    info = [i for m in meta for i in
            m.findall("{urn:xmpp:avatar:metadata}metadata/"
                      "{urn:xmpp:avatar:metadata}info")]
    if not info:
        raise Failed("no <info/> in the metadata node")
    hid = info[0].get("id")
    data = await pep_items(c, a[0], "urn:xmpp:avatar:data", hid)
    d = data[0].findtext("{urn:xmpp:avatar:data}data") if data else None
    if d is None:
        raise Failed("no data item %s" % hid)
    got = hashlib.sha1(base64.b64decode("".join(d.split()))).hexdigest()
    if got != hid:
        raise Failed("data hashes to %s, id says %s" % (got, hid))
    return "%s %s %sx%s" % (hid, info[0].get("type"), info[0].get("width"),
                            info[0].get("height"))


@step("pep-nick", 1)
async def _pep_nick(c, a):
    items = await pep_items(c, a[0], "http://jabber.org/protocol/nick")
    n = items[0].findtext("{http://jabber.org/protocol/nick}nick") \
        if items else None
    return "nick=%s" % n


def caps_ver(q):
    """XEP-0115 5.1 over a disco#info <query/> (no forms)."""
    ns = "{http://jabber.org/protocol/disco#info}"
    ids = sorted("%s/%s/%s/%s" % (i.get("category"), i.get("type"),
                 i.get("{http://www.w3.org/XML/1998/namespace}lang", ""),
                 i.get("name", "")) for i in q.findall(ns + "identity"))
    fs = sorted(f.get("var") for f in q.findall(ns + "feature"))
    s = "".join(x + "<" for x in ids + fs)
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


@step("caps", 1)
async def _caps(c, a):
    x = c.extras.get(a[0])
    if not x or not x["ver"]:
        raise Failed("no caps in a presence from %s (seen: %s)" % (
            a[0], sorted(c.extras)))
    node = "%s#%s" % (x["node"], x["ver"])
    q = await query(c, a[0], "http://jabber.org/protocol/disco#info",
                    node=node)
    if q is None or q.get("node") != node:
        raise Failed("node not mirrored")
    if caps_ver(q) != x["ver"]:
        raise Failed("hash %s, presence says %s" % (caps_ver(q), x["ver"]))
    return "ver %s verified" % x["ver"]


@step("ping", 1)
async def _ping(c, a):
    await c["xep_0199"].send_ping(a[0], timeout=c.timeout)
    return "pong"


@step("disco", 1)
async def _disco(c, a):
    iq = await c["xep_0030"].get_info(jid=a[0], node=a[1] if len(a) > 1 else None,
                                      timeout=c.timeout)
    info = iq["disco_info"]
    ids = ["%s/%s" % (cat, typ) for cat, typ, _n, _l in info["identities"]]
    return "%s; features: %s" % (" ".join(ids) or "no identity",
                                 " ".join(sorted(info["features"])))


@step("version", 1)
async def _version(c, a):
    sv = (await c["xep_0092"].get_version(a[0], timeout=c.timeout))["software_version"]
    return "%s %s" % (sv["name"], sv["version"])


@step("raw", 1)
async def _raw(c, a):
    c.send_raw(" ".join(a))


def error_text(exc):
    e = exc.iq["error"]
    return "%s (%s)%s" % (e["condition"], e["type"], ": " + e["text"] if e["text"] else "")


async def run_step(c, words):
    verb, args = words[0], words[1:]
    want_error = verb.startswith("!")
    verb = verb.lstrip("!")
    if verb not in STEPS:
        raise Failed("unknown step %r (see --help)" % verb)
    if want_error and verb not in QUERIES:
        raise Failed("'!' goes only before " + ", ".join(QUERIES))
    fn, nargs = STEPS[verb]
    if len(args) < nargs:
        raise Failed("%s needs %d argument(s)" % (verb, nargs))
    try:
        info = await fn(c, args)
    except IqError as exc:
        if want_error:
            return "error reply, as wanted: " + error_text(exc)
        raise Failed("error reply: " + error_text(exc))
    except IqTimeout:
        raise Failed("no reply within %g s" % c.timeout)
    if want_error:
        raise Failed("wanted an error reply, got: %s" % info)
    return info


async def session(opts, steps):
    who = opts.tag or JID(opts.jid).bare

    def line(ok, since, text, info=None):
        if ok and opts.quiet:
            return
        print("  %s %6.0f ms  %s  %s%s" % ("PASS" if ok else "FAIL",
              (time.monotonic() - since) * 1000, who, text,
              "  -> %s" % info if info else ""), flush=True)

    jid = JID(opts.jid)
    if not jid.resource:
        jid = JID("%s/%s" % (jid.bare, opts.resource))
    c = Client(jid, opts.password, opts.timeout, opts.notify)
    if opts.ca:
        c.ca_certs = opts.ca
    addr = None
    if opts.server:
        host, _, port = opts.server.partition(":")
        addr = (host, int(port or 5222))
    t0 = time.monotonic()
    c.connect(address=addr, force_starttls=True)
    try:
        await asyncio.wait_for(asyncio.shield(c.session), opts.timeout)
    except (asyncio.TimeoutError, Failed) as exc:
        why = str(exc) or "; ".join(c.problems[-3:]) or \
            "no session within %g s" % opts.timeout
        line(False, t0, "login " + str(jid), why)
        c.abort()
        return 3
    line(True, t0, "login " + str(jid))

    rc = 0
    for text, words in steps:
        t = time.monotonic()
        try:
            line(True, t, text, await run_step(c, words))
        except Failed as exc:
            line(False, t, text, str(exc))
            rc = 1
            break
        except Exception as exc:    # a bug or a bad argument: still one line
            line(False, t, text, "%s: %s" % (type(exc).__name__, exc))
            rc = 1
            break
    c.disconnect(wait=2.0)
    try:
        await asyncio.wait_for(c.disconnected, 5)
    except asyncio.TimeoutError:
        c.abort()
    return rc


def main():
    ap = argparse.ArgumentParser(
        usage="%(prog)s [options] JID PASSWORD STEP...",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("jid")
    ap.add_argument("password")
    ap.add_argument("steps", nargs="*")
    ap.add_argument("-t", "--timeout", type=float, default=20,
                    help="seconds allowed for the login and for each step")
    ap.add_argument("--ca", default=os.environ.get("LAB_CA"),
                    help="CA certificate to trust (default $LAB_CA)")
    ap.add_argument("--server", help="HOST[:PORT] instead of the SRV lookup")
    ap.add_argument("--resource", default="client")
    ap.add_argument("--notify", action="append", default=[], metavar="NODE",
                    help="announce NODE+notify in the caps (XEP-0163)")
    ap.add_argument("--tag", help="name at the start of each line (default the bare JID)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="slixmpp's debug log, with the XML, on stderr")
    opts = ap.parse_intermixed_args()
    logging.basicConfig(level=logging.DEBUG if opts.verbose else logging.CRITICAL)
    if opts.ca and not os.path.isfile(opts.ca):
        ap.error("no CA file %s" % opts.ca)
    steps = []
    for s in opts.steps:
        try:
            words = shlex.split(s)
        except ValueError as exc:
            ap.error("step %r: %s" % (s, exc))
        if words:
            steps.append((s, words))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(session(opts, steps))
    finally:
        # slixmpp leaves tasks behind; end them before the loop closes
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in left:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
