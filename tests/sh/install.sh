# tests/sh/install.sh: make install puts binaries, man pages, the sample
# config, the systemd unit, a sysusers.d and a tmpfiles.d file under
# DESTDIR/PREFIX; the sample config is what xfed -p prints and parses once
# a domain is added. systemd's own tools, pointed at DESTDIR, make user and
# group xfed and the directories /var/lib/xfed and /run/xfed (0750, xfed's);
# the unit is Type=notify with UMask=0027, `systemd-analyze verify` finds
# nothing in it and `systemd-analyze security --offline=yes` rates it at
# most 2.0 ("OK"). Under umask 077 the modes are the same (install -m).
# xfed.conf is made from the sample, 0640, only where there is none: an
# edited one is kept, and an existing /etc/xfed keeps its mode.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
R=$T/root
U=$R/usr/lib/systemd/system/xfed.service
make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$R" PREFIX=/usr > "$T/make.log" 2>&1
check install_ran [ $? = 0 ]
for f in usr/sbin/xfed usr/sbin/xfedctl usr/share/man/man8/xfed.8 \
    usr/share/man/man8/xfedctl.8 usr/share/man/man5/xfed.conf.5 \
    etc/xfed/xfed.conf.sample usr/lib/systemd/system/xfed.service \
    usr/lib/sysusers.d/xfed.conf usr/lib/tmpfiles.d/xfed.conf; do
	check "installed $f" [ -s "$R/$f" ]
done
check unit_paths grep -q "^ExecStart=/usr/sbin/xfed -f -c /etc/xfed/xfed.conf" "$U"
check unit_check_first grep -q "^ExecStartPre=/usr/sbin/xfed -t -c /etc/xfed/xfed.conf" "$U"
check unit_notify grep -qx "Type=notify" "$U"
check unit_umask grep -qx "UMask=0027" "$U"
check unit_user grep -qx "User=xfed" "$U"
{ cat "$R/etc/xfed/xfed.conf.sample"; printf "domain example.org\nrequire_encryption no\nstore %s/x.db\n" "$T"; } > "$T/s.conf"
check sample_parses "$XFED_BUILD/xfed" -t -c "$T/s.conf"
check conf_from_sample cmp -s "$R/etc/xfed/xfed.conf" "$R/etc/xfed/xfed.conf.sample"
check conf_mode [ "$(stat -c %a "$R/etc/xfed/xfed.conf")" = 640 ]
# a second install over an edited config and a 0750 /etc/xfed
echo "domain mine.example" >> "$R/etc/xfed/xfed.conf"
cp "$R/etc/xfed/xfed.conf" "$T/edited.conf"
chmod 750 "$R/etc/xfed"
make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$R" PREFIX=/usr > "$T/make2.log" 2>&1
check install_again_ran [ $? = 0 ]
check conf_edited_kept cmp -s "$R/etc/xfed/xfed.conf" "$T/edited.conf"
check conf_kept_said grep -q "xfed.conf kept" "$T/make2.log"
check etc_mode_kept [ "$(stat -c %a "$R/etc/xfed")" = 750 ]

# the new xfed.conf's group, as on a real install (CONF_CHGRP=yes): a group
# that exists is set; a missing one is a warning, not a failed install
R2=$T/root2
make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$R2" PREFIX=/usr \
    CONF_CHGRP=yes XFED_GROUP="$(id -gn)" > "$T/make3.log" 2>&1
check install_chgrp_ran [ $? = 0 ]
check install_chgrp_group [ "$(stat -c %G "$R2/etc/xfed/xfed.conf")" = "$(id -gn)" ]
rm -rf "$R2"
make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$R2" PREFIX=/usr \
    CONF_CHGRP=yes XFED_GROUP=xfednone$$ > "$T/make4.log" 2>&1
check install_nogroup_ran [ $? = 0 ]
check install_nogroup_conf [ "$(stat -c %a "$R2/etc/xfed/xfed.conf")" = 640 ]
check install_nogroup_warns grep -q "^warning: no group xfednone$$ (systemd-sysusers makes it from /usr/lib/sysusers.d/xfed.conf): .*/etc/xfed/xfed.conf keeps group $(id -gn); once the group exists: chgrp xfednone$$ " "$T/make4.log"
check install_nogroup_no_chgrp_error sh -c "! grep -q 'chgrp: invalid group' '$T/make4.log'"

# sysusers and tmpfiles, applied to DESTDIR as the package's tools would
systemd-sysusers --root="$R" > "$T/sysusers.log" 2>&1
check sysusers_ran [ $? = 0 ]
check sysusers_user grep -q '^xfed:x:[0-9]*:[0-9]*:[^:]*:/var/lib/xfed:/usr/sbin/nologin$' "$R/etc/passwd"
check sysusers_group grep -q '^xfed:x:[0-9]*:' "$R/etc/group"
uid=$(awk -F: '$1 == "xfed" { print $3 }' "$R/etc/passwd")
gid=$(awk -F: '$1 == "xfed" { print $3 }' "$R/etc/group")
systemd-tmpfiles --root="$R" --create > "$T/tmpfiles.log" 2>&1
check tmpfiles_ran [ $? = 0 ]
for d in var/lib/xfed run/xfed; do
	got=$(stat -c '%a %u:%g' "$R/$d" 2>&1)
	check "tmpfiles $d" [ "$got" = "750 $uid:$gid" ]
done

# verify reads the unit as systemd would; its binaries are the installed ones
sed "s|/usr/sbin/xfed|$R/usr/sbin/xfed|g" "$U" > "$T/xfed.service"
systemd-analyze verify --man=no "$T/xfed.service" > "$T/verify.log" 2>&1
if [ $? = 0 ] && [ ! -s "$T/verify.log" ]; then ok unit_verify
else fail unit_verify "$(head -5 "$T/verify.log")"; fi
systemd-analyze security --offline=yes "$U" > "$T/security.log" 2>&1
level=$(sed -n 's/.*Overall exposure level for xfed.service: \([0-9.]*\).*/\1/p' "$T/security.log")
if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
	ok "unit_security $level"
else
	fail unit_security "exposure ${level:-unknown}, want at most 2.0: $(grep '✗' "$T/security.log" | head -10)"
fi
check unit_no_capabilities grep -qx "CapabilityBoundingSet=" "$U"

# Under umask 077 every file still gets its own mode (install -m): systemd
# reads the unit, users read the manual pages.
R2=$T/root077
(umask 077 && make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$R2" \
    PREFIX=/usr > "$T/make077.log" 2>&1)
check install_umask077_ran [ $? = 0 ]
(cd "$R2" && find . -type f -printf '%m %p\n' | sort) > "$T/modes077"
cat > "$T/modes.want" <<EOF
640 ./etc/xfed/xfed.conf
644 ./etc/xfed/xfed.conf.sample
644 ./usr/lib/systemd/system/xfed.service
644 ./usr/lib/sysusers.d/xfed.conf
644 ./usr/lib/tmpfiles.d/xfed.conf
644 ./usr/share/man/man5/xfed.conf.5
644 ./usr/share/man/man8/xfed.8
644 ./usr/share/man/man8/xfedctl.8
755 ./usr/sbin/xfed
755 ./usr/sbin/xfedctl
EOF
if cmp -s "$T/modes077" "$T/modes.want"; then ok install_umask077_file_modes
else fail install_umask077_file_modes "$(diff "$T/modes.want" "$T/modes077" | tr '\n' ' ')"; fi
bad=$(cd "$R2" && find . -type d ! -perm 755 | tr '\n' ' ')
check install_umask077_dir_modes [ -z "$bad" ]
t_exit
