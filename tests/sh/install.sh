# tests/sh/install.sh: make install puts binaries, man pages, the sample
# config and the systemd unit under DESTDIR/PREFIX; the sample config is
# what xfed -p prints and parses once a domain is added.
. "$XFED_SRC/tests/sh/lib.sh"
t_init
make -s -C "$XFED_SRC" install B="$XFED_BUILD" DESTDIR="$T/root" PREFIX=/usr > "$T/make.log" 2>&1
check install_ran [ $? = 0 ]
for f in usr/sbin/xfed usr/sbin/xfedctl usr/share/man/man8/xfed.8 \
    usr/share/man/man8/xfedctl.8 usr/share/man/man5/xfed.conf.5 \
    etc/xfed/xfed.conf.sample usr/lib/systemd/system/xfed.service; do
	check "installed $f" [ -s "$T/root/$f" ]
done
check unit_paths grep -q "^ExecStart=/usr/sbin/xfed -f -c /etc/xfed/xfed.conf" \
    "$T/root/usr/lib/systemd/system/xfed.service"
{ cat "$T/root/etc/xfed/xfed.conf.sample"; printf "domain example.org\nrequire_encryption no\nstore %s/x.db\n" "$T"; } > "$T/s.conf"
check sample_parses "$XFED_BUILD/xfed" -t -c "$T/s.conf"
t_exit
