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
  pipeline PORT       pipelines GET /health requests and reads no answer,
                      up to 64 MB, until a send waits 3 s: prints
                      "blocked" or "took all", then "sent MB" (what
                      xfed and the kernel's buffers took)
  nofile PORT PID N   lowers xfed's descriptor limit to what it has open,
                      connects N times and holds them 3 s, restores the
                      limit, closes them: prints "held N"
  idle PORT [SRC]     connects (from SRC) and sends nothing; "closed" or
                      "open" (30 s)
  overcap PORT PID N  (over a cap) connects N times, sends nothing, keeps
                      its ends open and reads each to xfed's close (10 s
                      each): prints "refused R" (R answered 503) and
                      "held H", how many of them xfed still has a
                      descriptor for
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
    src = (sys.argv[3], 0) if what == 'idle' and len(sys.argv) > 3 else None
    s = socket.create_connection(('127.0.0.1', port), timeout=30,
                                 source_address=src)
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
    elif what == 'pipeline':
        req = b'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' * 3000
        s.settimeout(3)
        sent, blocked = 0, False
        while sent < 64 << 20:
            try:
                sent += s.send(req)
            except socket.timeout:
                blocked = True
                break
        print('blocked' if blocked else 'took all')
        print('sent %d' % (sent >> 20))
    elif what == 'overcap':
        pid, n = int(sys.argv[3]), int(sys.argv[4])
        s.close()
        held, refused = [], 0
        for _ in range(n):
            c = socket.create_connection(('127.0.0.1', port))
            c.settimeout(10)
            held.append(c)
        for c in held:
            if answer(c).startswith(b'HTTP/1.1 503 '):
                refused += 1
        # every connection was closed by xfed (its end read); libevent
        # closes a freed socket in its loop pass's finalizers, after the
        # FIN: one more connection, answered, is a pass later. Then
        # xfed's side of none of the N may still be one of its descriptors.
        c = socket.create_connection(('127.0.0.1', port))
        c.settimeout(10)
        answer(c)
        c.close()
        ports = set(c.getsockname()[1] for c in held)
        mine = set()
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                mine.add(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
            except OSError:
                pass
        still = 0
        with open('/proc/net/tcp') as f:
            for l in f.readlines()[1:]:
                w = l.split()
                if (int(w[1].split(':')[1], 16) == port and
                        int(w[2].split(':')[1], 16) in ports and
                        'socket:[%s]' % w[9] in mine):
                    still += 1
        for c in held:
            c.close()
        print('refused %d' % refused)
        print('held %d' % still)
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
