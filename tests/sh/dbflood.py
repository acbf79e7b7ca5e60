"""tests/sh/dbflood.py: one source floods a server with dialback requests.

usage: dbflood.py HOST PORT TO SOURCE-IP CONNECTIONS PER-CONNECTION OUT [DOMAIN]

Opens CONNECTIONS plain streams to HOST:PORT from SOURCE-IP (any
127.x.y.z works on Linux loopback), each sending PER-CONNECTION
<db:result/> requests for random domains it does not own (or all for DOMAIN), then waits
for what comes back (bounded) and writes one line per outcome count to
OUT: "stream-error:COND N" for streams ended by an error, "db-error:COND
N" for dialback errors, "open N" for streams with no answer at all.
"""
import secrets
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS_STREAM = "http://etherx.jabber.org/streams"
NS_DB = "jabber:server:dialback"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"


def local(tag):
    return tag.rsplit("}", 1)[-1]


def flood(host, port, to, src, per, counts, lock, deadline, fixed):
    try:
        s = socket.create_connection((host, port), timeout=5,
                                     source_address=(src, 0))
    except OSError:
        with lock:
            counts["connect-failed"] = counts.get("connect-failed", 0) + 1
        return
    hdr = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='%s' xmlns:db='%s' to='%s' version='1.0'>"
           % (NS_STREAM, NS_DB, to))
    reqs = "".join("<db:result from='%s' to='%s'>%s</db:result>"
                   % (fixed or "f%s.flood.test" % secrets.token_hex(6), to,
                      secrets.token_hex(32))
                   for _ in range(per))
    seen = []
    parser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    try:
        s.sendall((hdr + reqs).encode())
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            parser.feed(d)
            for ev, el in parser.read_events():
                if ev == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth != 1:
                    continue
                if el.tag == "{%s}error" % NS_STREAM:
                    c = [local(x.tag) for x in el
                         if x.tag.startswith("{%s}" % NS_STREAMS)
                         and local(x.tag) != "text"]
                    seen.append("stream-error:" + (c[0] if c else "?"))
                elif el.tag == "{%s}result" % NS_DB and el.get("type") == "error":
                    c = [local(x.tag) for e in el for x in e
                         if x.tag.startswith("{%s}" % NS_STANZAS)]
                    seen.append("db-error:" + (c[0] if c else "?"))
                elif el.tag == "{%s}result" % NS_DB:
                    seen.append("db-" + (el.get("type") or "?"))
    except (OSError, ET.ParseError):
        pass
    finally:
        s.close()
    with lock:
        if not seen:
            counts["open"] = counts.get("open", 0) + 1
        for k in seen:
            counts[k] = counts.get(k, 0) + 1


def main(argv):
    host, port, to, src = argv[1], int(argv[2]), argv[3], argv[4]
    conns, per, out = int(argv[5]), int(argv[6]), argv[7]
    fixed = argv[8] if len(argv) > 8 else None
    counts, lock = {}, threading.Lock()
    deadline = time.monotonic() + 8
    threads = [threading.Thread(target=flood, args=(host, port, to, src, per,
                                                    counts, lock, deadline,
                                                    fixed))
               for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        for k in sorted(counts):
            f.write("%s %d\n" % (k, counts[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
