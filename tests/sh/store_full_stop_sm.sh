# tests/sh/store_full_stop_sm.sh: store_full_stop.sh with certificates:
# STARTTLS, SASL EXTERNAL and XEP-0198 both ways (S2S 7.6, 1.23).
STOP_SM=1
. "$XFED_SRC/tests/sh/store_full_stop.sh"
