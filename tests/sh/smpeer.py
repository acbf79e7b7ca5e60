#!/usr/bin/python3
"""tests/sh/smpeer.py: a raw S2S peer for XEP-0198 tests (s2s_sm.sh), on
top of tests/interop/rawpeer.py. Prints every byte, then PASS or FAIL WHY.

  smpeer.py in  --port P --to DOMAIN --from DOMAIN --listen PORT SCENARIO
      opens a stream to xfed, authenticates by dialback (our authoritative
      side listens on 127.0.0.1:PORT), then:
        acks           <enable/> -> <enabled/>; 3 messages and <r/> ->
                       <a h='3'/>; <r/> again -> <a h='3'/>
        enable-twice   <enable/> twice -> stream error undefined-condition
        before-auth    <enable/> before dialback -> <failed/> with
                       unexpected-request, the stream stays open
        r-unenabled    <r/> without <enable/> -> no answer, stream open
        send           each --stanza in turn, then our </stream:stream>:
                       xfed's closing tag must follow (without SM)
        order          a second stream authenticated the same way; ORDER_NEW
                       messages "order new I" on it, then ORDER_OLD
                       "order old J" on the first one (opened first,
                       idle until then) 1 s later, then both kept open for
                       --timeout seconds: xfed must store all of the
                       second's before the first's (the bytes that came
                       first, not the older stream)
        shutdown       3 messages and <r/> -> <a h='3'/>; one more
                       message, then xfed is stopped (by the caller, once
                       its log shows that message): <a h='4'/> (unasked
                       after its commit, else the last before the close)
                       then its </stream:stream> (XEP-0198 4); an <a/>
                       below the h awaited is skipped: xfed acks each
                       commit unasked

  smpeer.py out --port P --domain DOMAIN --cert F --key F SCENARIO
      plays xfed's peer for an outbound stream: STARTTLS, SASL EXTERNAL
      (accepted), <sm/> offered after the restart, <enable/> answered, and
      the first <r/> answered with a wrong h:
        too-high       h = stanzas received + 5
        backwards      h = stanzas received, then at once h - 1
        silent         no answer at all
      xfed must answer with stream error undefined-condition, or, when
      silent, close the stream.
"""

import argparse
import os
import secrets
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
import rawpeer  # noqa: E402
from rawpeer import local, stream_error, header_xml  # noqa: E402

NS_SM = "urn:xmpp:sm:3"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = rawpeer.NS_TLS


def result(ok, why=""):
    print("PASS" if ok else "FAIL %s" % why, flush=True)
    return 0 if ok else 1


def next_el(st, timeout=None):
    """The next top-level element, or None at the end, a close or timeout."""
    while True:
        kind, el = st.next(timeout)
        if kind == "element":
            return el
        if kind != "header":
            return None


def next_ack(st, want, timeout=None):
    """The next element that is not an unasked <a/> below want (xfed acks
    each commit unasked, XEP-0198 4, so an earlier h may come first)."""
    while True:
        el = next_el(st, timeout)
        if el is None or el.tag != "{%s}a" % NS_SM or \
                not (el.get("h") or "").isdigit() or \
                int(el.get("h")) >= int(want):
            return el


ORDER_NEW = 300
ORDER_OLD = 20


def order(a, auth, first):
    """Scenario order: see the top."""
    second = rawpeer.open_stream("127.0.0.1", a.port, a.to, a.frm, a.timeout)
    try:
        if second.header() is None or second.expect("features") is None:
            return result(False, "no second stream from xfed")
        v = rawpeer.dialback(second, a.frm, a.to, auth)
        if v != "valid":
            return result(False, "second dialback: %s" % v)
        msg = "<message from='o@%s' to='%s' type='chat' id='%s%d'>" \
            "<body>order %s %d</body></message>"
        second.send("".join(msg % (a.frm, a.rcpt, "n", i, "new", i)
                            for i in range(1, ORDER_NEW + 1)))
        # the first stream's come later, as a taken over sender's last
        # stanzas come before the new holder's (the setup, not a check)
        time.sleep(1)
        first.send("".join(msg % (a.frm, a.rcpt, "o", i, "old", i)
                           for i in range(1, ORDER_OLD + 1)))
        out = rawpeer.observe(first, a.timeout)
        return result(out == "open", "first stream: %s" % out)
    finally:
        second.close()


def inbound(a):
    auth = rawpeer.Authoritative(a.frm, "127.0.0.1", a.listen).start()
    st = rawpeer.open_stream("127.0.0.1", a.port, a.to, a.frm, a.timeout)
    try:
        if st.header() is None or st.expect("features") is None:
            return result(False, "no stream from xfed")
        if a.scenario == "before-auth":
            st.send("<enable xmlns='%s'/>" % NS_SM)
            el = next_el(st)
            if el is None or local(el.tag) != "failed" or \
                    el.find("{urn:ietf:params:xml:ns:xmpp-stanzas}"
                            "unexpected-request") is None:
                return result(False, "want <failed><unexpected-request/>")
            v = rawpeer.dialback(st, a.frm, a.to, auth)
            return result(v == "valid", "dialback after <failed/>: %s" % v)
        v = rawpeer.dialback(st, a.frm, a.to, auth)
        if v != "valid":
            return result(False, "dialback: %s" % v)
        if a.scenario == "order":
            return order(a, auth, st)
        if a.scenario == "send":
            for x in a.stanza:
                st.send(x)
            st.send("</stream:stream>")
            while True:
                kind, el = st.next(a.timeout)
                if kind != "element":
                    break
            return result(kind == "end", "want xfed's </stream:stream>, "
                          "got %s" % kind)
        if a.scenario == "r-unenabled":
            st.send("<r xmlns='%s'/>" % NS_SM)
            out = rawpeer.observe(st, 1.0)
            return result(out == "open", "want no answer, got %s" % out)
        st.send("<enable xmlns='%s'/>" % NS_SM)
        el = next_el(st)
        if el is None or el.tag != "{%s}enabled" % NS_SM or el.get("id"):
            return result(False, "want <enabled/> without an id")
        if a.scenario == "enable-twice":
            st.send("<enable xmlns='%s'/>" % NS_SM)
            out = rawpeer.observe(st, a.timeout)
            return result(out == "stream-error:undefined-condition",
                          "second <enable/>: %s" % out)
        for i in range(3):
            st.send("<message from='sm@%s' to='%s' type='chat' id='sm%d'>"
                    "<body>sm message %d</body></message>"
                    % (a.frm, a.rcpt, i, i))
        if a.scenario == "shutdown":
            st.send("<r xmlns='%s'/>" % NS_SM)
            el = next_ack(st, "3")
            if el is None or el.tag != "{%s}a" % NS_SM or el.get("h") != "3":
                return result(False, "want <a h='3'/> first")
            st.send("<message from='sm@%s' to='%s' type='chat' id='sd-late'>"
                    "<body>sm message late</body></message>" % (a.frm, a.rcpt))
            el = next_ack(st, "4", 30)
            if el is None or el.tag != "{%s}a" % NS_SM or el.get("h") != "4":
                return result(False, "want a last <a h='4'/>, got %s" % (
                    stream_error(el) or (el is not None and
                                         rawpeer.ET.tostring(el))))
            kind, _ = st.next()
            if kind != "end":
                return result(False, "want </stream:stream> after the last "
                              "<a/>, got %s" % kind)
            st.send("</stream:stream>")
            return result(True)
        for want in ("3", "3"):
            st.send("<r xmlns='%s'/>" % NS_SM)
            el = next_ack(st, want)
            if el is None or el.tag != "{%s}a" % NS_SM or el.get("h") != want:
                return result(False, "want <a h='%s'/>, got %s" % (
                    want, stream_error(el) or (el is not None and
                                               rawpeer.ET.tostring(el))))
        return result(True)
    finally:
        st.close()
        auth.stop()


def outbound(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(4)
    ls.settimeout(a.timeout)
    rawpeer.note("listening on 127.0.0.1:%d" % a.port)
    conn, _ = ls.accept()
    st = rawpeer.Stream(conn, "%s -> xfed" % a.domain, "%s <- xfed" % a.domain,
                        a.timeout)
    me = a.domain

    def answer_header():
        attrs = st.header()
        if attrs is None:
            return None
        st.send(header_xml(attrs.get("from"), me,
                           stream_id=secrets.token_hex(8)))
        return attrs

    try:
        if answer_header() is None:
            return result(False, "no header from xfed")
        st.send("<stream:features><starttls xmlns='%s'><required/>"
                "</starttls></stream:features>" % NS_TLS)
        if st.expect("starttls") is None:
            return result(False, "no <starttls/>")
        st.send("<proceed xmlns='%s'/>" % NS_TLS)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        st.starttls(ctx)
        if answer_header() is None:
            return result(False, "no header over TLS")
        st.send("<stream:features><mechanisms xmlns='%s'><mechanism>"
                "EXTERNAL</mechanism></mechanisms></stream:features>"
                % NS_SASL)
        if st.expect("auth") is None:
            return result(False, "no <auth/>")
        st.send("<success xmlns='%s'/>" % NS_SASL)
        st.restart()
        if answer_header() is None:
            return result(False, "no header after SASL")
        st.send("<stream:features><sm xmlns='%s'/></stream:features>"
                % NS_SM)
        el = st.expect("enable")
        if el is None or el.tag != "{%s}enable" % NS_SM:
            return result(False, "no <enable/>")
        st.send("<enabled xmlns='%s'/>" % NS_SM)
        got = 0
        while True:
            el = next_el(st)
            if el is None:
                return result(a.scenario == "silent",
                              "xfed closed without a stream error")
            err = stream_error(el)
            if err:
                return result(err == "stream-error:undefined-condition",
                              "got %s" % err)
            if el.tag == "{%s}r" % NS_SM and a.scenario == "silent":
                rawpeer.note("<r/> left unanswered")
            elif el.tag == "{%s}r" % NS_SM:
                if a.scenario == "too-high":
                    st.send("<a xmlns='%s' h='%d'/>" % (NS_SM, got + 5))
                else:
                    st.send("<a xmlns='%s' h='%d'/><a xmlns='%s' h='%d'/>"
                            % (NS_SM, got, NS_SM, got - 1))
            elif local(el.tag) in ("message", "presence", "iq"):
                got += 1
    finally:
        st.close()
        ls.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("in", "out"))
    ap.add_argument("scenario")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--to", default="y.test")
    ap.add_argument("--from", dest="frm", default="p.test")
    ap.add_argument("--rcpt", default="yu@y.test")
    ap.add_argument("--listen", type=int)
    ap.add_argument("--domain", default="y.test")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--stanza", action="append", default=[])
    a = ap.parse_args()
    try:
        return inbound(a) if a.role == "in" else outbound(a)
    except (OSError, ssl.SSLError) as exc:
        return result(False, "local error: %s" % exc)


if __name__ == "__main__":
    sys.exit(main())
