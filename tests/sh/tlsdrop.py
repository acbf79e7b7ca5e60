# tests/sh/tlsdrop.py PORT CAFILE fin|rst: opens an inbound stream to xfed
# on 127.0.0.1:PORT, STARTTLS, a second header over TLS, then drops the
# connection without TLS close_notify: a FIN (fin) or an RST (rst).
import socket, ssl, struct, sys

port, cafile, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
hdr = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
       "xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns:db='jabber:server:dialback' from='drop.test' to='y.test' "
       "version='1.0'>").encode()


def read_until(s, mark):
    b = b''
    while mark not in b:
        d = s.recv(65536)
        if not d:
            sys.exit("closed before %r" % mark)
        b += d


s = socket.create_connection(('127.0.0.1', port), timeout=10)
s.sendall(hdr)
read_until(s, b'</stream:features>')
s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
read_until(s, b'<proceed')
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
t = ctx.wrap_socket(s, server_hostname='y.test')
t.sendall(hdr)
read_until(t, b'</stream:features>')
if how == 'rst':
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
else:
    t.shutdown(socket.SHUT_RDWR)
t.close()
