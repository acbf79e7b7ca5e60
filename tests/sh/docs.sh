# tests/sh/docs.sh: every config key is documented in the README and in
# xfed.conf(5); the man pages format without warnings.

keys=$("$XFED_BUILD/xfed" -p | sed -n 's/^#\([a-z_]*\).*/\1/p')
[ -n "$keys" ] || { echo "FAIL docs_keys: xfed -p printed no keys"; exit 1; }
for f in README server/xfed.conf.5; do
	missing=
	for k in $keys; do
		grep -q "$k" "$f" || missing="$missing $k"
	done
	if [ -z "$missing" ]; then echo "ok docs_keys $f"
	else echo "FAIL docs_keys $f: undocumented:$missing"; fi
done
# xfedctl's exit statuses (tools/xfedctl.h) are all in its EXIT STATUS.
st=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' tools/xfedctl.8)
missing=
for n in $(sed -n 's/^#define CTL_[A-Z]*[[:space:]]*\([0-9]\)$/\1/p' tools/xfedctl.h); do
	printf '%s\n' "$st" | grep -q "exits* .*$n\|^$n \|, $n \| $n for\|$n when" ||
	    missing="$missing $n"
done
if [ -z "$missing" ]; then echo "ok docs_ctl_exit"
else echo "FAIL docs_ctl_exit: not in xfedctl.8 EXIT STATUS:$missing"; fi
for m in server/xfed.8 server/xfed.conf.5 tools/xfedctl.8; do
	[ -f "$m" ] || { echo "FAIL docs_man $m: missing"; continue; }
	w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null)
	if [ -z "$w" ]; then echo "ok docs_man $m"; else echo "FAIL docs_man $m: $w"; fi
done
