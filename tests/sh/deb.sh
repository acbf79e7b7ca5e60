# tests/sh/deb.sh: the Debian package (slow: a full build). `make deb`
# builds it with dpkg-buildpackage -b from a copy of the tree in a private
# folder and runs lintian, which must report no error. The .deb holds the
# daemon, xfedctl, the manual pages, the unit, the sysusers.d and tmpfiles.d
# files and /etc/xfed/xfed.conf as a conffile; its postinst makes the user
# before the directories and neither enables nor starts the unit; the
# packaged binaries run and the packaged config parses once given a domain.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
D=$T/deb
make -s -C "$XFED_SRC" deb DEB_DIR="$D" > "$T/make.log" 2>&1
rc=$?
deb=$(ls "$D"/xfed_*_*.deb 2>/dev/null | head -1)
if [ $rc = 0 ] && [ -n "$deb" ]; then
	ok deb_built
else
	fail deb_built "make deb: exit $rc: $(tail -15 "$T/make.log")"
	exit 1
fi
check deb_tree_clean [ ! -e "$XFED_SRC/debian/xfed" -a ! -e "$XFED_SRC/debian/files" -a ! -e "$XFED_SRC/debian/.debhelper" ]

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' > "$T/contents"
for f in /usr/sbin/xfed /usr/sbin/xfedctl /usr/share/man/man8/xfed.8.gz \
    /usr/share/man/man8/xfedctl.8.gz /usr/share/man/man5/xfed.conf.5.gz \
    /usr/lib/systemd/system/xfed.service /usr/lib/sysusers.d/xfed.conf \
    /usr/lib/tmpfiles.d/xfed.conf /etc/xfed/xfed.conf \
    /usr/share/doc/xfed/copyright; do
	check "deb_has $f" grep -qx "$f" "$T/contents"
done
dpkg-deb -e "$deb" "$T/ctrl"
check deb_conffile grep -qx /etc/xfed/xfed.conf "$T/ctrl/conffiles"
su=$(grep -n 'systemd-sysusers' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
tf=$(grep -n 'systemd-tmpfiles' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
check deb_postinst_user_first [ -n "$su" ] && [ -n "$tf" ] && [ "$su" -lt "$tf" ]
check deb_unit_not_enabled sh -c "! grep -q 'deb-systemd-helper enable\|deb-systemd-invoke start' '$T/ctrl/postinst'"
check deb_depends_sysusers sh -c "dpkg-deb -f '$deb' Depends | grep -q systemd"

# lintian: no error (make deb fails on one); its report is kept
if grep -q '^E: ' "$D/lintian.log"; then
	fail deb_lintian "$(grep '^E: ' "$D/lintian.log" | head -5)"
else
	ok "deb_lintian $(grep -c '^[WI]: ' "$D/lintian.log") warnings or notes"
fi

# what the package installs runs
dpkg-deb -x "$deb" "$T/root"
check deb_xfed_runs sh -c "'$T/root/usr/sbin/xfed' -V | grep -q '^xfed '"
{ cat "$T/root/etc/xfed/xfed.conf"; printf 'domain example.org\nrequire_encryption no\nstore %s/x.db\n' "$T"; } > "$T/x.conf"
check deb_conf_parses "$T/root/usr/sbin/xfed" -t -c "$T/x.conf"
check deb_unit_paths grep -q '^ExecStart=/usr/sbin/xfed -f -c /etc/xfed/xfed.conf$' "$T/root/usr/lib/systemd/system/xfed.service"
t_exit
