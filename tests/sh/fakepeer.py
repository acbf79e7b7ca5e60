"""tests/sh/fakepeer.py: a TCP server that answers every connection with
fixed bytes, for outbound streams meeting a broken peer.

usage: fakepeer.py PORT COUNT-FILE REPLY

Listens on 127.0.0.1:PORT, writes REPLY (\\n escapes allowed) after the
first bytes arrive, closes, and keeps the number of connections so far in
COUNT-FILE. Runs until killed.
"""
import socket
import sys


def main(argv):
    port, countfile = int(argv[1]), argv[2]
    reply = argv[3].encode('utf-8').decode('unicode_escape').encode('latin-1')
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(64)
    n = 0
    with open(countfile, 'w') as f:
        f.write('0\n')
    while True:
        c, _ = s.accept()
        n += 1
        with open(countfile, 'w') as f:
            f.write('%d\n' % n)
        c.settimeout(2)
        try:
            c.recv(4096)
            c.sendall(reply)
        except OSError:
            pass
        c.close()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
