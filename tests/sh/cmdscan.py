#!/usr/bin/python3
"""tests/sh/cmdscan.py FILE...: prints, one a line and sorted, the words that
stand where a shell script runs a command (line start, after | ; && || ( $(
then do if ! and after wrappers such as timeout, env, ip netns exec and the
tests' own t_bg, check, wait_for). Heredoc bodies, quoted text and comments
are skipped; a quoted "$(...)" is scanned too. Function names the files
define are left out. tests/sh/deps.sh resolves what this prints; a word that
is no command (a case pattern, say) resolves to nothing there and is
ignored, so the scan may guess wide."""
import re
import sys

STARTS = {'\n', ';', ';;', '&', '&&', '|', '||', '(', '!', '{', 'then', 'do',
          'else', 'elif', 'if', 'while', 'until', 'time', 'exec', 'command'}
# wrapper -> words it takes before the command it runs
WRAPPERS = {'t_bg': 0, 'check': 1, 'wait_for': 1, 'lab_exec': 0,
            'lab_spawn': 1, 'nohup': 0, 'xargs': 0}
ASSIGN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
HEREDOC = re.compile(r'<<-?\s*[\'"]?([A-Za-z_][A-Za-z0-9_]*)[\'"]?')
FUNC = re.compile(r'^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)',
                  re.M)


def strip_heredocs(text):
    out, end = [], None
    for line in text.split('\n'):
        if end is not None:
            if line.strip() == end:
                end = None
            out.append('')
            continue
        m = HEREDOC.search(line)
        if m and '<<<' not in line:
            end = m.group(1)
        out.append(line)
    return '\n'.join(out)


class Lexer:
    """Splits shell text into words and operators; each $(...) becomes a
    token list of its own in self.subs, inside double quotes too."""
    OPS = (';;', '&&', '||', ';', '&', '|', '(', ')', '\n', '<', '>')

    def __init__(self, text):
        self.t, self.i, self.subs = text, 0, []

    def sub(self):
        self.i += 2			# past "$("
        self.subs.append(self.words(True))

    def skip_braces(self):
        depth = 0
        while self.i < len(self.t):
            c = self.t[self.i]
            self.i += 1
            if c == '{':
                depth += 1
            elif c == '}':
                depth -= 1
                if depth == 0:
                    return

    def dquote(self, word):
        self.i += 1
        while self.i < len(self.t) and self.t[self.i] != '"':
            c = self.t[self.i]
            if c == '\\':
                word.append(self.t[self.i:self.i + 2])
                self.i += 2
            elif self.t.startswith('$(', self.i):
                word.append('$')
                self.sub()
            else:
                word.append(c)
                self.i += 1
        self.i += 1

    def words(self, nested=False):
        toks, word, t = [], [], self.t
        while self.i < len(t):
            c = t[self.i]
            if c in ' \t\r' or (nested and c == ')') or \
                    any(t.startswith(o, self.i) for o in self.OPS):
                if word:
                    toks.append(''.join(word))
                    word = []
                if c in ' \t\r':
                    self.i += 1
                    continue
                if nested and c == ')':
                    self.i += 1
                    return toks
                op = next(o for o in self.OPS if t.startswith(o, self.i))
                toks.append(op)
                self.i += len(op)
            elif c == '#' and not word:
                while self.i < len(t) and t[self.i] != '\n':
                    self.i += 1
            elif c == '\\':		# a newline after it joins lines
                word.append(t[self.i + 1:self.i + 2].strip('\n'))
                self.i += 2
            elif c == "'":
                j = t.find("'", self.i + 1)
                j = len(t) if j < 0 else j
                word.append(t[self.i + 1:j])
                self.i = j + 1
            elif c == '"':
                self.dquote(word)
            elif t.startswith('$(', self.i):
                word.append('$')
                self.sub()
            elif t.startswith('${', self.i):
                word.append('$')
                self.skip_braces()
            else:
                word.append(c)
                self.i += 1
        if word:
            toks.append(''.join(word))
        return toks


def skip_options(toks, i):
    while i < len(toks) and toks[i].startswith('-'):
        i += 1
    return i


def scan(toks, found):
    i, start = 0, True
    while i < len(toks):
        t = toks[i]
        if t in STARTS:
            start, i = True, i + 1
            continue
        if not start:
            i += 1
            continue
        if ASSIGN.match(t):
            i += 1
            continue
        start = False
        if i + 1 < len(toks) and toks[i + 1] == ')':
            i += 2			# a case pattern
            start = True
            continue
        if t in WRAPPERS:
            found.add(t)
            i += 1 + WRAPPERS[t]
            start = True
            continue
        if t == 'env':
            found.add(t)
            i = skip_options(toks, i + 1)
            start = True
            continue
        if t in ('timeout', 'setpriv', 'nice'):
            found.add(t)
            i += 1
            while i < len(toks) and toks[i].startswith('-'):
                i += 2 if toks[i] in ('-k', '-s', '-n') else 1
            if t == 'timeout':
                i += 1
            start = True
            continue
        if t == 'ip' and toks[i + 1:i + 3] == ['netns', 'exec']:
            found.add(t)
            i += 4
            start = True
            continue
        if '$' not in t and (('/' not in t) or t.startswith('/')):
            found.add(t)
        i += 1


def main():
    found, funcs = set(), set()
    for path in sys.argv[1:]:
        text = open(path).read()
        funcs.update(FUNC.findall(text))
        lex = Lexer(strip_heredocs(text))
        scan(lex.words(), found)
        for sub in lex.subs:
            scan(sub, found)
    for w in sorted(found - funcs):
        if re.match(r'^(\[|[A-Za-z0-9_./][A-Za-z0-9_./+-]*)$', w):
            print(w)
    return 0


sys.exit(main())
