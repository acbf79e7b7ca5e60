# tests/sh/bench_prosody.sh: `make bench`'s Prosody comparison
# (tests/bench/prosody.sh) keeps working, on a small scale: in the interop
# lab, Prosody 0.12's user with a roster written into its internal storage
# logs in over c2s and its presence reaches every contact's domain through
# SRV records and real dialback (XEP-0220 2.1.2), cold and warm; then xfed
# the same way in the same namespace. Needs what the interop lab needs
# (root, tools/deps check); without it it fails, it does not skip.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

if BENCH_PRESENCE_N=40 BENCH_DOMAINS=4 timeout 300 \
    bash "$XFED_SRC/tests/bench/prosody.sh" "$XFED_BUILD" "$T/out" \
    > "$T/log" 2>&1; then
	ok comparison_ran
else
	fail comparison_ran "$(tail -n 20 "$T/log")"
fi
# every receiving domain got its stream, verified by dialback, from each
check prosody_one_stream_per_domain grep -qx "prosody_presence_streams 4" "$T/out"
check xfed_one_stream_per_domain grep -qx "xfed_presence_streams 4" "$T/out"
for k in prosody_presence_cold_ms prosody_presence_warm_ms \
    xfed_presence_cold_ms xfed_presence_warm_ms; do
	check "figure_$k" grep -Eq "^$k [0-9]+\.[0-9]$" "$T/out"
done
# the lab's Prosody options were replaced, not given twice
check prosody_no_duplicate_option sh -c "! grep -q 'Duplicate option' '$T/log'"
t_exit
