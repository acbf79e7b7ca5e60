#!/usr/bin/python3
"""tests/sh/http_openapi.py BASE TOKENS-FILE: server/openapi.json against
the running server. Every path and method of the document is called with
its examples and must answer its documented success status with the
required top-level fields of its schema; without a token, 401; with a
weaker scope than documented, 403. Every route of server/http.c must be in
the document. Prints "ok NAME" / "FAIL NAME: why"."""
import json, re, sys, urllib.error, urllib.parse, urllib.request

base, tokfile = sys.argv[1], sys.argv[2]
tok = dict(l.split() for l in open(tokfile))
doc = json.load(open("server/openapi.json"))
fails = 0


def check(name, cond, why=""):
    global fails
    print("ok " + name if cond else "FAIL %s: %s" % (name, why))
    fails += 0 if cond else 1


def resolve(s):
    while isinstance(s, dict) and "$ref" in s:
        node = doc
        for p in s["$ref"][2:].split("/"):
            node = node[p]
        s = node
    return s


def call(method, path, body, token):
    req = urllib.request.Request(base + path, method=method.upper(),
                                 data=json.dumps(body).encode()
                                 if body is not None else None)
    if token:
        req.add_header("Authorization", "Bearer " + tok[token])
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


ops = [(p, m, o) for p, ms in doc["paths"].items() for m, o in ms.items()]
ops.sort(key=lambda x: x[2].get("x-last", False))
for path, method, op in ops:
    name = "%s_%s" % (method, path.strip("/").replace("/", "_")
                      .replace("{", "").replace("}", ""))
    url, query = path, {}
    for prm in op.get("parameters", []):
        prm = resolve(prm)
        if prm["in"] == "path":
            url = url.replace("{%s}" % prm["name"],
                              urllib.parse.quote(str(prm["example"]), safe="@"))
        elif prm["name"] != "user" or "ids" not in query:
            query[prm["name"]] = prm["example"]
    if query:
        url += "?" + urllib.parse.urlencode(query)
    body = None
    if "requestBody" in op:
        body = op["requestBody"]["content"]["application/json"]["example"]
    codes = sorted(c for c in op["responses"] if c.startswith("2"))
    secured = op.get("security") != []
    if secured:
        s, _, _ = call(method, url, body, None)
        check(name + "_401", s == 401 and "401" in op["responses"],
              "status %s without a token" % s)
    scope = op.get("x-scope")
    if scope in ("write", "admin"):
        s, _, _ = call(method, url, body, "read")
        check(name + "_403", s == 403 and "403" in op["responses"],
              "status %s with a read token" % s)
    s, text, ctype = call(method, url, body, "admin" if secured else None)
    want = int(codes[0])
    check(name + "_status", s == want, "status %s, documented %s: %s" % (
        s, want, text[:200]))
    content = op["responses"][codes[0]].get("content", {})
    if "application/json" in content and s == want:
        schema = resolve(content["application/json"]["schema"])
        j = json.loads(text)
        missing = [k for k in schema.get("required", []) if k not in j]
        check(name + "_fields", not missing, "missing %s in %s" % (
            missing, text[:200]))

routes = re.findall(r'\{ M_(\w+), "([^"]+)"', open("server/http.c").read())
for m, p in routes:
    pat = "^/" + re.sub(r"\*", r"\\{[a-z]+\\}", p) + "$"
    found = any(re.match(pat, dp) and m.lower() in ms
                for dp, ms in doc["paths"].items())
    check("documented_%s_%s" % (m, p.replace("/", "_").replace("*", "x")),
          found, "route %s %s is not in server/openapi.json" % (m, p))
sys.exit(1 if fails else 0)
