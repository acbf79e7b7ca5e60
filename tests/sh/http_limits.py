"""tests/sh/http_limits.py: raw HTTP clients for tests/sh/http_limits.sh.
  raw PORT HEX        sends the bytes (hex), prints the status line, the
                      Content-Type and the body of the answer
  whole PORT HEX      sends the bytes (hex), prints everything answered
                      (several answers on a kept-alive connection)
  slow PORT           sends a request's headers one byte a second; prints
                      "closed after N bytes" when xfed closes, "answered"
                      if it answers, "open" if it is still open after 30 s
  silent PORT         connects and sends nothing: prints the status line
                      xfed answers unasked, or "open" (10 s)
  nofile PORT PID N   lowers xfed's descriptor limit to what it has open,
                      connects N times and holds them 3 s, restores the
                      limit, closes them: prints "held N"
  idle PORT           connects and sends nothing; "closed" or "open" (30 s)
  overcap PORT PID N  (over a cap) connects N times, sends nothing, keeps
                      its ends open and reads each to xfed's close (10 s
                      each): prints "refused R" (R answered 503) and
                      "held H", the descriptors xfed has then beyond those
                      it had before
"""
import os
import resource
import socket
import sys
import time


def answer(s):
    data = b''
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    return data


def main():
    what, port = sys.argv[1], int(sys.argv[2])
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    if what == 'raw':
        s.sendall(bytes.fromhex(sys.argv[3]))
        data = answer(s)
        head, _, body = data.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        print(lines[0])
        for l in lines[1:]:
            if l.lower().startswith('content-type:'):
                print(l)
        print(body.decode('utf-8', 'replace').strip())
    elif what == 'whole':
        s.sendall(bytes.fromhex(sys.argv[3]))
        sys.stdout.write(answer(s).decode('latin-1'))
    elif what == 'silent':
        s.settimeout(10)
        try:
            data = answer(s)
            print(data.split(b'\r\n')[0].decode('latin-1') or 'closed')
        except socket.timeout:
            print('open')
    elif what == 'overcap':
        pid, n = int(sys.argv[3]), int(sys.argv[4])
        s.close()
        before = len(os.listdir('/proc/%d/fd' % pid))
        held, refused = [], 0
        for _ in range(n):
            c = socket.create_connection(('127.0.0.1', port))
            c.settimeout(10)
            held.append(c)
        for c in held:
            if answer(c).startswith(b'HTTP/1.1 503 '):
                refused += 1
        # every connection was closed by xfed (its end read): its
        # descriptor must be gone already, not held for a while
        after = len(os.listdir('/proc/%d/fd' % pid))
        for c in held:
            c.close()
        print('refused %d' % refused)
        print('held %d' % max(0, after - before))
    elif what == 'nofile':
        pid, n = int(sys.argv[3]), int(sys.argv[4])
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        have = len(os.listdir('/proc/%d/fd' % pid))
        held = []
        try:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (have, old[1]))
            for _ in range(n):
                held.append(socket.create_connection(('127.0.0.1', port)))
            time.sleep(3)
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        for h in held:
            h.close()
        print('held %d' % len(held))
    elif what == 'slow':
        req = b'GET /health HTTP/1.1\r\nHost: x\r\n' + b'X-Slow: ' + b'a' * 60
        sent = 0
        try:
            for c in req:
                s.sendall(bytes([c]))
                sent += 1
                s.settimeout(1)
                try:
                    b = s.recv(1)
                    if not b:
                        print('closed after %d bytes' % sent)
                        return
                    print('answered')
                    return
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            print('closed after %d bytes' % sent)
            return
        print('open')
    elif what == 'idle':
        try:
            print('closed' if s.recv(1) == b'' else 'answered')
        except socket.timeout:
            print('open')
        except ConnectionResetError:
            print('closed')


main()
