"""tests/sh/probe.py: a raw TCP client for stream tests.

usage: probe.py HOST:PORT [--until TEXT] [--timeout SECS] CHUNK...

Sends each CHUNK (\\n and \\xNN escapes allowed; @@BIG:N@@ expands to N
bytes of text) and prints everything received until the peer closes, TEXT
has been seen, or the timeout runs out. Exit 0 when the peer closed or
TEXT was seen, 1 on timeout, 2 when it could not connect.
"""
import socket
import sys
import time


def expand(chunk):
    out = chunk.encode('utf-8').decode('unicode_escape').encode('latin-1')
    while b'@@BIG:' in out:
        a = out.index(b'@@BIG:')
        b = out.index(b'@@', a + 6)
        out = out[:a] + b'x' * int(out[a + 6:b]) + out[b + 2:]
    return out


def main(argv):
    until, timeout, chunks = None, 5.0, []
    target = argv[1]
    i = 2
    while i < len(argv):
        if argv[i] == '--until':
            until = argv[i + 1].encode()
            i += 2
        elif argv[i] == '--timeout':
            timeout = float(argv[i + 1])
            i += 2
        else:
            chunks.append(argv[i])
            i += 1
    host, port = target.rsplit(':', 1)
    try:
        s = socket.create_connection((host.strip('[]'), int(port)), timeout=2)
    except OSError as e:
        print('probe: connect %s: %s' % (target, e), file=sys.stderr)
        return 2
    deadline = time.time() + timeout
    got = b''
    try:
        for c in chunks:
            s.sendall(expand(c))
    except OSError:
        pass
    status = 1
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            status = 0
            break
        if not d:
            status = 0
            break
        got += d
        if until is not None and until in got:
            status = 0
            break
    sys.stdout.write(got.decode('utf-8', 'replace'))
    sys.stdout.write('\n')
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
