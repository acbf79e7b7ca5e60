# tests/sh/stoppeer.py PORT MODE: plays p.test accepting y.test's outbound
# stream (plain TCP, dialback) and then holding it open:
#   silent  never answers the db:result
#   noread  answers it valid, then never reads again
import re
import socket
import sys
import time

port, mode = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(5)
c, _ = ls.accept()
buf = b""


def readuntil(pat):
    global buf
    c.settimeout(20)
    while not re.search(pat, buf):
        d = c.recv(65536)
        if not d:
            raise SystemExit("eof")
        buf += d


readuntil(rb"<stream:stream[^>]*>")
c.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          b"xmlns:stream='http://etherx.jabber.org/streams' "
          b"xmlns:db='jabber:server:dialback' from='p.test' to='y.test' "
          b"id='abc123' version='1.0'><stream:features/>")
readuntil(rb"</db:result>")
if mode == "noread":
    c.sendall(b"<db:result from='p.test' to='y.test' type='valid'/>")
print("holding", flush=True)
time.sleep(120)
