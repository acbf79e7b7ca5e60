"""tests/sh/hostilepeer.py: an S2S peer that misbehaves on purpose, for
"xfedctl check --peer" meeting a peer that stalls or cheats.

usage: hostilepeer.py MODE IP PORT CERT KEY

Listens on IP:PORT and, on each connection, sends a stream header with
STARTTLS offered, then per MODE:
  dripdb   after TLS and our <db:result/>, one <presence/> every 2 s and
           never the answer (the dialback deadline must not restart);
  driptls  <proceed/>, then a TLS record header announcing 16 KB and one
           byte every 2 s (the handshake needs a deadline of its own);
  inject   <proceed/> and a <db:result type='valid'/> in the same segment
           (cleartext injected before TLS);
  plain    no STARTTLS offered; refuses <starttls/> with <failure/>.
Every connection ends after at most 120 s. Runs until killed.
"""
import socket
import ssl
import sys
import threading
import time

NS = ("xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
      " xmlns:db='jabber:server:dialback'")
HDR = ("<?xml version='1.0'?><stream:stream %s id='hostile1' from='h.test' "
       "to='x.test' version='1.0'>" % NS)
FEAT_TLS = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
            "xmpp-tls'/></stream:features>")
FEAT = ("<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>"
        "</stream:features>")
PROCEED = b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
LIMIT = 120


def recv_until(s, token, limit=10):
    buf, end = b'', time.time() + limit
    while token not in buf and time.time() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
    return buf


def drip(s, data, every):
    t0 = time.time()
    while time.time() - t0 < LIMIT:
        s.sendall(data)
        time.sleep(every)


def handle(c, mode, crt, key):
    c.settimeout(2)
    try:
        recv_until(c, b'>')
        if mode == 'plain':
            c.sendall((HDR + FEAT).encode())
            recv_until(c, b'/>')
            c.sendall(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                      b"</stream:stream>")
            time.sleep(2)
            return
        c.sendall((HDR + FEAT_TLS).encode())
        recv_until(c, b'starttls')
        if mode == 'driptls':
            c.sendall(PROCEED)
            recv_until(c, b'\x16', 5)
            c.sendall(b'\x16\x03\x03\x40\x00')
            drip(c, b'\x00', 2)
            return
        if mode == 'inject':
            c.sendall(PROCEED + b"<db:result from='h.test' to='x.test' "
                      b"type='valid'/>")
            time.sleep(5)
            return
        c.sendall(PROCEED)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        t = ctx.wrap_socket(c, server_side=True)
        t.settimeout(2)
        recv_until(t, b'>')
        t.sendall((HDR + FEAT).encode())
        recv_until(t, b'</db:result>')
        drip(t, b"<presence from='a@h.test' to='b@x.test'/>", 2)
    except Exception as e:
        print(mode, 'connection ended:', repr(e), flush=True)
    finally:
        try:
            c.close()
        except Exception:
            pass


def main(argv):
    mode, ip, port, crt, key = argv[1], argv[2], int(argv[3]), argv[4], argv[5]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(5)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, mode, crt, key),
                         daemon=True).start()


if __name__ == '__main__':
    main(sys.argv)
