# tests/sh/deb.sh: the Debian package (slow: a full build). `make deb`
# builds it with dpkg-buildpackage -b from a copy of the tree in a private
# folder and runs lintian, which must report no error. The .deb holds the
# daemon, xfedctl, the manual pages, the unit, the sysusers.d and tmpfiles.d
# files and /etc/xfed/xfed.conf as a conffile, 0640 and given to group xfed
# by the postinst's dpkg-statoverride (it may hold secrets), which the
# postrm removes on purge; the unit is in /usr/lib/systemd/system and
# dh_installsystemd's snippets (state, purge) are in the maintainer scripts;
# the postinst makes the user before the directories and neither enables
# nor starts the unit; an upgrade does not stop xfed in the preinst and
# the postinst try-restarts it (a running xfed runs the new version), the
# prerm stops it on remove only; lintian reports neither error nor warning; the
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
check deb_unit_usr_lib sh -c "! grep -q '^/lib/systemd' '$T/contents'"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' > "$T/modes"
check deb_conf_mode grep -qx -- '-rw-r----- root/root ./etc/xfed/xfed.conf' "$T/modes"
check deb_unit_mode grep -qx -- '-rw-r--r-- root/root ./usr/lib/systemd/system/xfed.service' "$T/modes"
dpkg-deb -e "$deb" "$T/ctrl"
check deb_conffile grep -qx /etc/xfed/xfed.conf "$T/ctrl/conffiles"
su=$(grep -n 'systemd-sysusers' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
so=$(grep -n 'dpkg-statoverride --update --add root xfed 0640 /etc/xfed/xfed.conf' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
check deb_conf_group_after_user [ -n "$su" ] && [ -n "$so" ] && [ "$su" -lt "$so" ]
check deb_postrm_override grep -q 'dpkg-statoverride --remove /etc/xfed/xfed.conf' "$T/ctrl/postrm"
check deb_systemd_state grep -q "deb-systemd-helper update-state 'xfed.service'" "$T/ctrl/postinst"
check deb_systemd_purge grep -q "deb-systemd-helper purge 'xfed.service'" "$T/ctrl/postrm"
su=$(grep -n 'systemd-sysusers' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
tf=$(grep -n 'systemd-tmpfiles' "$T/ctrl/postinst" | head -1 | cut -d: -f1)
check deb_postinst_user_first [ -n "$su" ] && [ -n "$tf" ] && [ "$su" -lt "$tf" ]
# enabled again on upgrade only where the operator had enabled it
check deb_unit_not_enabled awk '/deb-systemd-invoke start/ { bad = 1 }
    /was-enabled/ { guard = 1 } /^\t*fi$/ { guard = 0 }
    /deb-systemd-helper enable/ && !guard { bad = 1 } END { exit bad }' "$T/ctrl/postinst"
# upgrade: no stop before unpacking, a try-restart after (runs only if
# it was running); remove: the prerm stops it, an upgrade's prerm does not
check deb_upgrade_no_preinst_stop sh -c "! grep -qs 'deb-systemd-invoke stop' '$T/ctrl/preinst'"
check deb_upgrade_try_restart awk '/if \[ -n "\$2" \]; then/ { up = 1 }
    up && /deb-systemd-invoke try-restart .xfed.service./ { ok = 1 }
    END { exit !ok }' "$T/ctrl/postinst"
check deb_remove_stops awk '/\[ "\$1" = remove \]/ { rm = 1 }
    rm && /deb-systemd-invoke stop xfed.service/ { ok = 1 }
    END { exit !ok }' "$T/ctrl/prerm"
# each stop in the prerm is under an if that tests for remove
check deb_upgrade_prerm_no_stop awk '/^[ \t]*if / { cond = $0 }
    /deb-systemd-invoke stop/ && cond !~ /"\$1" = remove/ { bad = 1 }
    END { exit bad }' "$T/ctrl/prerm"
check deb_depends_sysusers sh -c "dpkg-deb -f '$deb' Depends | grep -q systemd"

# lintian: no error (make deb fails on one) and no warning
if grep -q '^[EW]: ' "$D/lintian.log"; then
	fail deb_lintian "$(grep '^[EW]: ' "$D/lintian.log" | head -5)"
else
	ok "deb_lintian $(grep -c '^[IN]: ' "$D/lintian.log") notes"
fi

# what the package installs runs
dpkg-deb -x "$deb" "$T/root"
check deb_xfed_runs sh -c "'$T/root/usr/sbin/xfed' -V | grep -q '^xfed '"
{ cat "$T/root/etc/xfed/xfed.conf"; printf 'domain example.org\nrequire_encryption no\nstore %s/x.db\n' "$T"; } > "$T/x.conf"
check deb_conf_parses "$T/root/usr/sbin/xfed" -t -c "$T/x.conf"
check deb_unit_paths grep -q '^ExecStart=/usr/sbin/xfed -f -c /etc/xfed/xfed.conf$' "$T/root/usr/lib/systemd/system/xfed.service"
t_exit
