#!/usr/bin/python3
"""tests/sh/cmdscan.py FILE...: prints, one a line and sorted, the words that
stand where a script runs a command. Shell scripts: line start, after | ; &&
|| ( $( then do if ! and after wrappers such as timeout, env, ip netns exec,
sudo, chroot, unshare, nsenter, flock (its -c string too), ionice, setpriv
and the tests' own t_bg, check, wait_for, setsid, stdbuf, nice, xargs,
runuser (its -c string too) and find's -exec/-execdir/-ok; the string of
`sh -c` and `bash -c`, and the Python of `$PY -c` and `python3 -c`; heredocs that are shell (fed to sh or bash, or written to a *.sh file)
or Python (fed to python3/$PY, or written to a *.py file); quoted text and
comments are skipped, a quoted "$(...)" is scanned. Python files (*.py) and
Python heredocs: subprocess.run/call/check_call/check_output/Popen and
os.system/os.exec*/os.spawn*, also through `import subprocess as sp` and
`from subprocess import run`: a literal argv[0] or, with shell=True or
os.system, the shell text. C files (*.c): system(), popen() and exec*()
with a literal, a #define'd literal, or a buffer that snprintf() filled
from a literal format. A call whose program none of this tells is an error
on stderr (tests/sh/deps.sh fails on it): give it a literal, or run a
program the caller passed in. Function names the files define are left
out. tests/sh/deps.sh resolves what this prints; a word that is no command
(a case pattern, say) resolves to nothing there and is ignored, so the
scan may guess wide."""
import ast
import re
import sys

STARTS = {'\n', ';', ';;', '&', '&&', '|', '||', '(', '!', '{', 'then', 'do',
          'else', 'elif', 'if', 'while', 'until', 'time', 'exec', 'command'}
# wrapper -> words it takes before the command it runs
WRAPPERS = {'t_bg': 0, 'check': 1, 'wait_for': 1, 'lab_exec': 0,
            'lab_spawn': 1, 'nohup': 0}
# wrapper -> (its options that take a separate argument, how many operands
# come before the command it runs, its options whose argument is shell text)
OPT_WRAPPERS = {
    'setsid': ((), 0, ()), 'stdbuf': (('-i', '-o', '-e'), 0, ()),
    'nice': (('-n', '--adjustment'), 0, ()),
    'xargs': (('-I', '-n', '-P', '-L', '-s', '-d', '-E', '-a'), 0, ()),
    'runuser': (('-u', '-g', '-G', '-s', '-w'), 0, ()),
    'timeout': (('-k', '-s', '--kill-after', '--signal'), 1, ()),
    'setpriv': ((), 0, ()),
    'env': (('-u', '--unset', '-C', '--chdir'), 0, ()),
    'sudo': (('-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '-T',
              '--user', '--group', '--chdir', '--host', '--prompt',
              '--role', '--type', '--other-user', '--command-timeout',
              '--close-from'), 0, ()),
    'chroot': (('--userspec', '--groups'), 1, ()),
    'unshare': (('-S', '-G', '-R', '-w', '--setuid', '--setgid', '--root',
                 '--wd', '--map-user', '--map-group', '--propagation',
                 '--setgroups', '--map-users', '--map-groups'), 0, ()),
    'nsenter': (('-t', '--target', '-S', '--setuid', '-G', '--setgid'), 0,
                ()),
    'flock': (('-w', '--wait', '--timeout', '-E', '--conflict-exit-code'), 1,
              ('-c', '--command')),
    'ionice': (('-c', '--class', '-n', '--classdata'), 0, ()),
}
FIND_EXEC = ('-exec', '-execdir', '-ok', '-okdir')
PYTHONS = ('$PY', '$LAB_PY', 'python3', 'python')
ERRORS = []
ASSIGN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
HEREDOC = re.compile(r'<<-?\s*[\'"]?([A-Za-z_][A-Za-z0-9_]*)[\'"]?')
FUNC = re.compile(r'^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\)',
                  re.M)


SHELL_HD = re.compile(r'(^|[;&|(]\s*|\b(exec|timeout \S+)\s+)(sh|bash|dash)'
                      r'(\s+-s)?\s*<<|>\s*\S*\.sh[\'"]?\s*<<')
PY_HD = re.compile(r'(\$PY|\$LAB_PY|python3?)\b[^<]*<<|>\s*\S*\.py[\'"]?\s*<<')


def strip_heredocs(text):
    """The text without heredoc bodies, and the bodies that are shell and
    Python: (text, [shell body], [python body])."""
    out, end, body, kind, sh, py = [], None, [], None, [], []
    for line in text.split('\n'):
        if end is not None:
            if line.strip() == end:
                end = None
                {'sh': sh, 'py': py}.get(kind, []).append('\n'.join(body))
            else:
                body.append(line)
            out.append('')
            continue
        m = HEREDOC.search(line)
        if m and '<<<' not in line:
            end, body = m.group(1), []
            kind = 'sh' if SHELL_HD.search(line) else \
                'py' if PY_HD.search(line) else None
        out.append(line)
    return '\n'.join(out), sh, py


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


def scan(toks, found):
    i, start = 0, True
    while i < len(toks):
        t = toks[i]
        if t in STARTS:
            start, i = True, i + 1
            continue
        if t in FIND_EXEC:		# find ... -exec PROGRAM ... ;
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
        if t == 'runuser':		# runuser [-l] USER -c 'TEXT'
            j = i + 1
            while j < len(toks) and toks[j] not in STARTS and \
                    toks[j] not in ('-c', '--command', '--', '-u'):
                j += 1
            if j + 1 < len(toks) and toks[j] in ('-c', '--command'):
                found.add(t)
                scan_shell(toks[j + 1], found)
                i = j + 2
                continue
        if t in OPT_WRAPPERS:
            found.add(t)
            args, operands, shell_c = OPT_WRAPPERS[t]
            i += 1
            while i < len(toks) and toks[i].startswith('-') and \
                    toks[i] != '--':
                if toks[i] in shell_c and i + 1 < len(toks):
                    scan_shell(toks[i + 1], found)
                i += 2 if toks[i] in args + shell_c else 1
            if i < len(toks) and toks[i] == '--':
                i += 1
            i += operands
            # flock FILE -c TEXT: the text is the command
            if i + 1 < len(toks) and toks[i] in shell_c:
                scan_shell(toks[i + 1], found)
                i += 2
                continue
            start = True
            continue
        if t in PYTHONS and i + 2 < len(toks) and toks[i + 1] == '-c':
            found.add(t)
            scan_python(re.sub(r'\$\{?(\w+)\}?', r'\1', toks[i + 2]),
                        'a %s -c string' % t, found, ERRORS)
            i += 3
            continue
        if t in ('sh', 'bash', 'dash') and i + 2 < len(toks) and \
                toks[i + 1] == '-c':
            found.add(t)
            scan_shell(toks[i + 2], found)
            i += 3
            continue
        if t == 'ip' and toks[i + 1:i + 3] == ['netns', 'exec']:
            found.add(t)
            i += 4
            start = True
            continue
        if '$' not in t and (('/' not in t) or t.startswith('/')):
            found.add(t)
        i += 1


def scan_shell(text, found):
    lex = Lexer(text)
    scan(lex.words(), found)
    for sub in lex.subs:
        scan(sub, found)


SUBPROCESS = {'run', 'call', 'check_call', 'check_output', 'Popen',
              'create_subprocess_exec', 'create_subprocess_shell'}


def scan_python(text, where, found, errors):
    """subprocess and os calls with what they run, from Python source."""
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        errors.append('%s: not Python (%s)' % (where, e.msg))
        return
    # import subprocess as sp; from subprocess import run as r
    mods, funcs = {'subprocess': 'subprocess', 'asyncio': 'asyncio',
                   'os': 'os'}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in ('subprocess', 'asyncio', 'os'):
                    mods[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and \
                node.module in ('subprocess', 'asyncio', 'os'):
            for a in node.names:
                if a.name == '*':
                    errors.append('%s:%d: from %s import *: name what '
                                  'runs' % (where, node.lineno,
                                            node.module))
                funcs[a.asname or a.name] = (node.module, a.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else \
            f.id if isinstance(f, ast.Name) else ''
        mod = mods.get(f.value.id, '') if isinstance(f, ast.Attribute) and \
            isinstance(f.value, ast.Name) else ''
        if isinstance(f, ast.Name) and f.id in funcs:
            mod, name = funcs[f.id]
        shell = any(k.arg == 'shell' and isinstance(k.value, ast.Constant)
                    and k.value.value for k in node.keywords)
        if name in SUBPROCESS and mod in ('subprocess', 'asyncio'):
            shell = shell or name == 'create_subprocess_shell'
        elif mod == 'os' and (name == 'system' or name == 'popen'):
            shell = True
        elif mod == 'os' and re.match(r'^(exec|spawn)[lv]p?e?$', name):
            pass
        else:
            continue
        a = node.args[1] if name.startswith('spawn') and \
            len(node.args) > 1 else node.args[0]
        if isinstance(a, (ast.List, ast.Tuple)) and a.elts:
            a = a.elts[0]
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            if shell:
                scan_shell(a.value, found)
            elif a.value.split():
                found.add(a.value.split()[0])
        elif not isinstance(a, (ast.Name, ast.Subscript, ast.Attribute)):
            # a variable is a program the caller passed in (its own
            # scan has it); anything else cannot be told
            errors.append('%s:%d: cannot tell what %s runs'
                          % (where, node.lineno, name))


C_CALL = re.compile(r'\b(system|popen|exec[lv]p?e?|posix_spawnp?)\s*\(\s*'
                    r'([^,)]*)')
C_DEFINE = re.compile(r'^#define\s+(\w+)\s+"([^"]*)"', re.M)


def scan_c(text, where, found, errors):
    """system(), popen() and exec*() in C source."""
    text = re.sub(r'/\*.*?\*/|//[^\n]*',
                  lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    defs = dict(C_DEFINE.findall(text))
    for m in C_CALL.finditer(text):
        fn, arg = m.group(1), m.group(2).strip()
        line = text.count('\n', 0, m.start()) + 1
        if fn.startswith('posix_spawn'):	# (pid, path, ...)
            arg = text[m.end():].split(',')[1].strip() if ',' in \
                text[m.end():m.end() + 200] else ''
        lit = re.match(r'^"((?:[^"\\]|\\.)*)"', arg)
        if lit:
            text_ = lit.group(1)
        elif arg in defs:
            text_ = defs[arg]
        else:
            # a buffer snprintf() filled from literal formats before
            fmts = re.findall(r'snprintf\s*\(\s*%s\s*,[^,]*,\s*"((?:[^"\\]|'
                              r'\\.)*)"' % re.escape(arg), text[:m.start()])
            if not fmts:
                errors.append('%s:%d: cannot tell what %s() runs'
                              % (where, line, fn))
                continue
            for f in fmts:
                scan_shell(re.sub(r'%[-0-9.]*[a-z]+', 'x', f), found)
            continue
        if fn in ('system', 'popen'):
            scan_shell(text_, found)
        else:
            found.add(text_)


def main():
    found, funcs, errors = set(), set(), []
    for path in sys.argv[1:]:
        text = open(path).read()
        if path.endswith('.py'):
            scan_python(text, path, found, errors)
            continue
        if path.endswith('.c'):
            scan_c(text, path, found, errors)
            continue
        funcs.update(FUNC.findall(text))
        text, shell, python = strip_heredocs(text)
        scan_shell(text, found)
        for body in shell:
            funcs.update(FUNC.findall(body))
            scan_shell(body, found)
        for body in python:
            # $VARS the shell expands in an unquoted heredoc: names here
            scan_python(re.sub(r'\$\{?(\w+)\}?', r'\1', body),
                        path + ' (a heredoc)', found, errors)
    for e in errors + ERRORS:
        print('cmdscan: ' + e, file=sys.stderr)
    for w in sorted(found - funcs):
        if re.match(r'^(\[|[A-Za-z0-9_./][A-Za-z0-9_./+-]*)$', w):
            print(w)
    return 0


sys.exit(main())
