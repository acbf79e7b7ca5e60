# tests/sh/deps.sh: every program the build and the tests run comes from a
# Debian package that tools/deps installs, so a fresh machine that ran
# tools/deps builds and passes make check.
#   programs   a maintained list (Makefile, configure, tools/*, the python
#              and packaging steps) plus tests/sh/cmdscan.py's scan of the
#              shell scripts under tests/ and tools/ (with `sh -c` and
#              `$PY -c` strings, wrappers such as setsid, runuser, stdbuf,
#              sudo, chroot, unshare, nsenter, flock, ionice, env, ip
#              netns exec, xargs and find -exec, and shell and Python
#              heredocs), the
#              Python files under tests/ (subprocess, os.system, aliased
#              or imported by name) and the C files (system, popen,
#              exec*); a call whose program the scan cannot tell fails it;
#              the scan is itself checked on a file of each construct
#   make deb   `tools/deps deb` covers debian/control's Build-Depends and
#              the programs the package build runs, without the test stack
#   resolved   command -v on Debian's default PATH (never /usr/local or a
#              user's shims), then dpkg -S on the path as found, its
#              readlink -f target (alternatives, /usr/bin/cc -> gcc-12) and
#              both with and without the /usr prefix (merged /usr: /bin/ip
#              is /usr/bin/ip)
#   accepted   a package `tools/deps list check` prints, one those pull in
#              through Depends/Pre-Depends (apt installs them with it), or an
#              Essential/Priority: required package (every Debian system)
# A listed program that is not installed fails; a scanned word that is no
# command on this machine (a case label, a variable) is not a program.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# program: where it runs
LISTED="
cc:configure,Makefile gcc:configure make:Makefile ar:Makefile
autoreconf:Makefile aclocal:autoreconf autoconf:autoreconf
autoheader:autoreconf pkg-config:configure install:Makefile
clang:Makefile(fuzz) python3:tests,tools/conf-man openssl:tests/tls,tools/run-default
sqlite3:tests ip:tests/interop ss:tests/interop dnsmasq:tests/interop
prosody:tests/interop prosodyctl:tests/interop ejabberdctl:tests/interop
setpriv:tests/interop man:tests/sh/docs.sh timeout:tests/run
dpkg-query:tools/deps apt-get:tools/deps tar:Makefile(deb)
dpkg-buildpackage:Makefile(deb) dh:debian/rules lintian:Makefile(deb)
dpkg-deb:tests/sh/deb.sh systemd-analyze:tests/sh/install.sh
systemd-sysusers:tests/sh/install.sh systemd-tmpfiles:tests/sh/install.sh
getent:Makefile(install) chgrp:Makefile(install) id:Makefile(install)
"

"$XFED_SRC/tools/deps" list check > "$T/pkgs" 2> "$T/err"
check deps_list [ -s "$T/pkgs" -a ! -s "$T/err" ]

# The packages tools/deps brings: its list and their dependencies, closed.
dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Essential}\t${Priority}\t${Pre-Depends}, ${Depends}\t${Provides}\n' \
    > "$T/dpkg" 2>/dev/null
cat > "$T/closure.py" <<'EOF'
import re, sys
want = open(sys.argv[1]).read().split()
inst, deps, base, prov = set(), {}, set(), {}
for line in open(sys.argv[2]):
    st, name, ess, prio, dep, pv = line.rstrip('\n').split('\t')
    if not st.startswith('ii'):
        continue
    inst.add(name)
    if ess == 'yes' or prio == 'required':
        base.add(name)
    deps[name] = [[re.sub(r'[ :(].*', '', a.strip()) for a in d.split('|')]
                  for d in dep.split(',') if d.strip()]
    for p in pv.split(','):
        if p.strip():
            prov.setdefault(re.sub(r'[ :(].*', '', p.strip()), []).append(name)
seen, todo = set(), [p for p in want if p in inst]
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    for alts in deps.get(p, []):
        for a in alts:
            todo += [a] if a in inst else prov.get(a, [])
for p in sorted(seen):
    print(p, 'pulled')
for p in sorted(base - seen):
    print(p, 'base')
EOF
$PY - "$T/pkgs" "$T/dpkg" > "$T/allowed" < "$T/closure.py"
check deps_closure [ -s "$T/allowed" ]

# What each program is here: "PROGRAM<tab>WHERE<tab>STRICT<tab>TYPE<tab>PATH".
listed=$(for e in $LISTED; do echo "${e%%:*}"; done)
$PY "$XFED_SRC/tests/sh/cmdscan.py" "$XFED_SRC"/tests/sh/*.sh \
    "$XFED_SRC"/tests/interop/*.sh "$XFED_SRC"/tests/tls/*.sh \
    "$XFED_SRC"/tests/run "$XFED_SRC"/tools/deps "$XFED_SRC"/tools/run-default \
    "$XFED_SRC"/tools/bench "$XFED_SRC"/.ci/run \
    "$XFED_SRC"/tests/*/*.py "$XFED_SRC"/tests/*.c "$XFED_SRC"/tests/*/*.c \
    "$XFED_SRC"/tools/*.c "$XFED_SRC"/server/*.c "$XFED_SRC"/store/*.c \
    "$XFED_SRC"/s2s/*.c "$XFED_SRC"/dialback/*.c "$XFED_SRC"/sasl/*.c \
    > "$T/scanned" 2> "$T/err"
check deps_scan [ -s "$T/scanned" -a ! -s "$T/err" ]

# the scan itself: what runs through `$PY -c`, an aliased subprocess and
# the wrappers is found (made-up program names, one per construct)
cat > "$T/scan.sh" <<'EOF'
$PY -c 'import subprocess; subprocess.run(["p_pyc", "x"])'
python3 -c 'import os; os.system("p_pyc3 y")'
setsid -f p_setsid arg
runuser -u nobody -- p_runuser x
runuser -l nobody -c 'p_runuser_c y'
stdbuf -oL p_stdbuf
stdbuf -o L p_stdbuf2
ls | xargs -n 1 p_xargs
ls | xargs -I {} p_xargs_i {}
find . -name x -exec p_find {} \;
find . -execdir p_finddir {} +
nice -n 5 p_nice
timeout -k 5 10 p_timeout
sudo -u nobody -E p_sudo x
sudo -- p_sudo2
chroot --userspec=1:1 /srv/root p_chroot
chroot /srv/root p_chroot2 y
unshare -n -m p_unshare
unshare --net=/run/ns -S 0 p_unshare2
nsenter -t 1 -n -m p_nsenter
nsenter --net=/run/netns/a -- p_nsenter2
flock -w 5 /tmp/lock p_flock arg
flock /tmp/lock -c 'p_flock_c y'
ionice -c 2 -n 7 p_ionice
ionice -c3 p_ionice2
env -u HOME -i A=1 p_env
setpriv --reuid=1 --init-groups p_setpriv
ip netns exec ns1 p_netns
sudo -u nobody timeout 5 nice -n 3 ionice -c 3 p_chain
EOF
cat > "$T/scan.py" <<'EOF'
import subprocess as sp
from subprocess import run, Popen as P
import os as o
sp.run(["p_alias"])
run(["p_from"])
P(["p_from_as"])
o.system("p_os_alias x")
EOF
$PY "$XFED_SRC/tests/sh/cmdscan.py" "$T/scan.sh" "$T/scan.py" > "$T/scan.out" 2> "$T/scan.err"
for p in p_pyc p_pyc3 p_setsid p_runuser p_runuser_c p_stdbuf p_stdbuf2 \
    p_xargs p_xargs_i p_find p_finddir p_nice p_timeout p_alias p_from \
    p_sudo p_sudo2 p_chroot p_chroot2 p_unshare p_unshare2 p_nsenter \
    p_nsenter2 p_flock p_flock_c p_ionice p_ionice2 p_env p_setpriv p_netns \
    p_chain \
    p_from_as p_os_alias; do
	check "cmdscan_finds $p" grep -qx "$p" "$T/scan.out"
done
check cmdscan_fixture_no_error [ ! -s "$T/scan.err" ]
# what a wrapper takes before the command is not taken for a program
for w in nobody /srv/root /tmp/lock HOME 5 2 7 1 ns1 /run/ns; do
	check "cmdscan_skips_wrapper_operand $w" sh -c "! grep -qx -- '$w' '$T/scan.out'"
done
echo 'from subprocess import *' > "$T/star.py"
$PY "$XFED_SRC/tests/sh/cmdscan.py" "$T/star.py" > /dev/null 2> "$T/scan.err"
check cmdscan_star_import_fails grep -q "from subprocess import \*" "$T/scan.err"
{
	for e in $LISTED; do
		printf '%s\t%s\t1\t%s\t%s\n' "${e%%:*}" "${e#*:}" \
		    "$(type -t "${e%%:*}")" "$(command -v "${e%%:*}")"
	done
	for p in $(grep -vxF "$listed" "$T/scanned"); do
		printf '%s\ta script under tests/ or tools/\t0\t%s\t%s\n' "$p" \
		    "$(type -t "$p")" "$(command -v "$p")"
	done
} > "$T/progs"

# Every path a program may be known to dpkg by: as found, resolved, with or
# without /usr. One dpkg -S for all ("diversion by ..." lines are not owners).
$PY - "$T/progs" > "$T/paths" <<'EOF'
import os, sys
for line in open(sys.argv[1]):
    prog, where, strict, kind, path = line.rstrip('\n').split('\t')
    if kind != 'file':
        continue
    for p in (path, os.path.realpath(path)):
        for c in (p, p[4:] if p.startswith('/usr/') else '/usr' + p):
            print(c)
EOF
dpkg -S $(sort -u "$T/paths") 2>/dev/null | grep -v '^diversion ' > "$T/owners"

$PY - "$T/progs" "$T/owners" "$T/pkgs" "$T/allowed" > "$T/verdicts" <<'EOF'
import os, sys
owner = {}
for line in open(sys.argv[2]):
    pkgs, path = line.rstrip('\n').split(': ', 1)
    owner[path] = pkgs.split(',')[0].split(':')[0].strip()
listed = set(open(sys.argv[3]).read().split())
allowed = dict(l.split() for l in open(sys.argv[4]))
for line in open(sys.argv[1]):
    prog, where, strict, kind, path = line.rstrip('\n').split('\t')
    name = 'deps ' + prog
    if kind in ('builtin', 'keyword'):
        if strict == '1':
            print('ok %s (shell builtin)' % name)
        continue
    if kind != 'file':
        if strict == '1':
            print('FAIL %s: not installed (used by %s)' % (name, where))
        continue
    pkg = None
    for p in (path, os.path.realpath(path)):
        for c in (p, p[4:] if p.startswith('/usr/') else '/usr' + p):
            pkg = pkg or owner.get(c)
    if pkg is None:
        print('FAIL %s: %s belongs to no Debian package (used by %s)'
              % (name, path, where))
    elif pkg in listed:
        print('ok %s (%s)' % (name, pkg))
    elif pkg in allowed:
        print('ok %s (%s, %s)' % (name, pkg, allowed[pkg]))
    else:
        print('FAIL %s: %s is in package %s, which tools/deps does not '
              'install (used by %s): add it to tools/deps'
              % (name, path, pkg, where))
EOF
cat "$T/verdicts"
grep -q '^FAIL' "$T/verdicts" && t_fails=$((t_fails + 1))

# make deb needs what building the package needs, not the test stack:
# tools/deps deb is every Build-Depends of debian/control and the
# programs the package build runs, and none of the peers or clang.
check deb_target_uses_deb_set grep -q '^	@tools/deps deb' "$XFED_SRC/Makefile"
"$XFED_SRC/tools/deps" list deb > "$T/debpkgs"
sed -n '/^Build-Depends:/,/^[A-Z]/p' "$XFED_SRC/debian/control" |
    sed 's/^Build-Depends://; /^[A-Z]/d' | tr ',' '\n' |
    sed 's/(.*//; s/[[:space:]]//g; /^$/d; s/^debhelper-compat$/debhelper/' > "$T/builddeps"
missing=$(grep -vxF -f "$T/debpkgs" "$T/builddeps" | tr '\n' ' ')
check "deb_set_has_build_depends ${missing:-}" [ -z "$missing" ]
extra=$(grep -xE 'prosody|ejabberd|clang|dnsmasq-base|python3-slixmpp|prometheus|lua-unbound' "$T/debpkgs" | tr '\n' ' ')
check "deb_set_no_test_stack ${extra:-}" [ -z "$extra" ]
$PY - "$T/debpkgs" "$T/dpkg" > "$T/allowed_deb" < "$T/closure.py"
for prog in dpkg-buildpackage dh dh_installsystemd dpkg-statoverride lintian tar autoreconf aclocal make gcc pkg-config install; do
	path=$(command -v "$prog")
	pkg=$(dpkg -S "$path" "$(readlink -f "$path")" 2>/dev/null | grep -v '^diversion ' | head -1 | cut -d: -f1)
	if [ -z "$pkg" ] && [ "${path#/usr/}" != "$path" ]; then
		pkg=$(dpkg -S "${path#/usr}" 2>/dev/null | head -1 | cut -d: -f1)
	fi
	check "deb_set_runs $prog ($pkg)" grep -q "^$pkg " "$T/allowed_deb"
done
t_exit
