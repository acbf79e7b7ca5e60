"""tests/sh/routeflood.py: many sources claim made-up domains, round after round.

usage: routeflood.py HOST PORT TO SOURCES PER ROUNDS OUT

Each round, SOURCES addresses (127.0.9.1 and on) each open one plain
stream to HOST:PORT and send PER <db:result/> for fresh random domains,
then read until every claim was answered or the stream ended (at most 10
s). Writes "claims N" and one "db-TYPE N" / "stream-error N" / "open N"
line per outcome to OUT.
"""
import secrets
import socket
import sys
import threading
import time

NS = ("xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
      " xmlns:db='jabber:server:dialback'")


def one(host, port, to, src, per, counts, lock):
    out = "open"
    try:
        s = socket.create_connection((host, port), timeout=5,
                                     source_address=(src, 0))
        s.sendall(("<?xml version='1.0'?><stream:stream %s to='%s' "
                   "version='1.0'>" % (NS, to) +
                   "".join("<db:result from='j%s.junk.test' to='%s'>%s"
                           "</db:result>" % (secrets.token_hex(6), to,
                                             secrets.token_hex(32))
                           for _ in range(per))).encode())
        buf, end = b"", time.monotonic() + 10
        while buf.count(b"</db:result>") + buf.count(b"/>") < per:
            s.settimeout(max(0.05, end - time.monotonic()))
            d = s.recv(65536)
            if not d:
                break
            buf += d
        out = ("stream-error" if b"stream:error" in buf else
               "db-answered %d" % buf.count(b"<db:result"))
        s.close()
    except OSError:
        pass
    with lock:
        k = out.split()[0]
        counts[k] = counts.get(k, 0) + (int(out.split()[1])
                                        if " " in out else 1)
        counts["claims"] = counts.get("claims", 0) + per


def main(argv):
    host, port, to = argv[1], int(argv[2]), argv[3]
    nsrc, per, rounds, out = int(argv[4]), int(argv[5]), int(argv[6]), argv[7]
    counts, lock = {}, threading.Lock()
    for _ in range(rounds):
        threads = [threading.Thread(target=one, args=(
            host, port, to, "127.0.9.%d" % (i + 1), per, counts, lock))
            for i in range(nsrc)]
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
