"""tests/sh/capspeer.py: a scripted S2S peer (dialback, plain) for the
XEP-0115 caps tests: it plays the contacts' server, answers xfed's
disco#info queries or forges answers, and prints what xfed sends.

usage: capspeer.py MYDOM MYPORT XFEDDOM XFEDPORT SECS SCRIPT

Accepts any dialback. After authenticating its own stream to xfed, sends
each line of SCRIPT on it; a line may use {ID} and {NODE}, the id and node
of the newest caps query xfed sent. Lines starting with '#':
  #sleep S           wait S seconds;
  #query N S         wait (at most S seconds) until N caps queries came;
  #errall            answer every query not answered yet with an error,
                     from the JID asked;
  #wait TEXT S       wait (at most S seconds) until xfed sent TEXT;
  #mark NAME         print "MARK NAME" (the test acts on it).
Prints "IN< data" for what xfed sends, "SENT> line" for what it sends and
"QUERY to id node" for each caps query seen. Ends SECS seconds after the
script did.
"""
import re
import socket
import sys
import threading
import time

mydom, myport, xdom, xport = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4])
secs, sfile = float(sys.argv[5]), sys.argv[6]
NS = ("xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
      " xmlns:db='jabber:server:dialback'")
lock = threading.Lock()
seen = b''          # everything xfed sent on its streams to us
queries = []        # [to, id, node, answered, from]
DEADLINE = time.time() + 300


def log(line):
    with lock:
        print(line, flush=True)


def attr(tag, name):
    m = re.search(rb"\s" + name + rb"=(['\"])(.*?)\1", tag)
    return m.group(2).decode() if m else None


def scan(buf, pos):
    """Caps queries in buf from pos on; returns the new position."""
    for m in re.finditer(rb"<iq\b[^>]*>.*?</iq>", buf[pos:], re.S):
        iq = m.group(0)
        tag = re.match(rb"<iq\b[^>]*>", iq).group(0)
        qid = attr(tag, b"id")
        if qid is None or not qid.startswith("xfedcaps-"):
            pos += m.end()
            continue
        q = re.search(rb"<query\b[^>]*>|<query\b[^>]*/>", iq)
        node = attr(q.group(0), b"node") if q else None
        with lock:
            queries.append([attr(tag, b"to"), qid, node, False,
                            attr(tag, b"from")])
        log("QUERY %s %s %s" % (attr(tag, b"to"), qid, node))
        pos = pos + m.end()
    return pos


def serve(c):
    global seen
    c.settimeout(1)
    buf, pos, hdr = b'', 0, False
    while time.time() < DEADLINE:
        try:
            d = c.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            break
        buf += d
        with lock:
            seen += d
        log("IN< " + d.decode('utf-8', 'replace'))
        if not hdr and b'<stream:stream' in buf:
            c.sendall(("<?xml version='1.0'?><stream:stream %s id='c%d' "
                       "from='%s' to='%s' version='1.0'><stream:features>"
                       "<dialback xmlns='urn:xmpp:features:dialback'/>"
                       "</stream:features>" % (NS, time.time(), mydom, xdom)
                       ).encode())
            hdr = True
        for m in re.finditer(rb"<db:verify[^>]*id=['\"]([^'\"]+)['\"][^>]*>",
                             buf):
            c.sendall(("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                       % (mydom, xdom, m.group(1).decode())).encode())
        buf = re.sub(rb"<db:verify[^>]*id=['\"][^'\"]+['\"][^>]*>", b'', buf)
        if re.search(rb"<db:result[^/]*>[^<]+</db:result>", buf):
            c.sendall(("<db:result from='%s' to='%s' type='valid'/>"
                       % (mydom, xdom)).encode())
            buf = re.sub(rb"<db:result[^/]*>[^<]+</db:result>", b'', buf)
            pos = 0
        pos = scan(buf, pos)
    c.close()


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', myport))
    s.listen(8)
    s.settimeout(1)
    while time.time() < DEADLINE:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def until(cond, limit):
    end = time.time() + limit
    while time.time() < end:
        with lock:
            if cond():
                return True
        time.sleep(0.1)
    log("TIMEOUT")
    return False


threading.Thread(target=listener, daemon=True).start()
time.sleep(0.3)
o = socket.create_connection(('127.0.0.1', xport))
o.settimeout(1)
o.sendall(("<?xml version='1.0'?><stream:stream %s from='%s' to='%s' "
           "version='1.0'>" % (NS, mydom, xdom)).encode())
buf, sent, end = b'', False, time.time() + 10
while time.time() < end:
    try:
        d = o.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break
    buf += d
    if not sent and b'<stream:stream' in buf:
        o.sendall(("<db:result from='%s' to='%s'>0123456789abcdef"
                   "</db:result>" % (mydom, xdom)).encode())
        sent = True
    if b"type='valid'" in buf or b'type="valid"' in buf:
        log("AUTHENTICATED")
        break


def send(line):
    o.sendall(line.encode())
    log("SENT> " + line)


def drain():
    try:
        while o.recv(65536):
            pass
    except OSError:
        pass


threading.Thread(target=drain, daemon=True).start()
for line in open(sfile):
    line = line.rstrip('\n')
    if not line:
        continue
    w = line.split(' ', 2)
    if w[0] == '#sleep':
        time.sleep(float(w[1]))
    elif w[0] == '#query':
        until(lambda: len(queries) >= int(w[1]), float(w[2]))
    elif w[0] == '#wait':
        t, _, lim = line[6:].rpartition(' ')
        until(lambda: t.encode() in seen, float(lim))
    elif w[0] == '#mark':
        log("MARK " + w[1])
    elif w[0] == '#errall':
        with lock:
            todo = [q for q in queries if not q[3]]
            for q in todo:
                q[3] = True
        for q in todo:
            send("<iq type='error' id='%s' from='%s' to='%s'><error "
                 "type='cancel'><item-not-found xmlns='urn:ietf:params:"
                 "xml:ns:xmpp-stanzas'/></error></iq>" % (q[1], q[0], q[4]))
    else:
        with lock:
            last = queries[-1] if queries else ['', '', '', False, '']
        send(line.replace('{ID}', last[1]).replace('{NODE}', last[2] or ''))
    time.sleep(0.01)
time.sleep(secs)
log("DONE")
