# tests/sh/http_openapi.sh: server/openapi.json matches what the server
# answers (tests/sh/http_openapi.py): documented paths and methods exist,
# answer their documented status with the documented fields, refuse
# without a token and with too weak a scope; every route is documented.
. "$XFED_SRC/tests/sh/lib.sh"
t_init

D=$T/a
http_conf "$D" "require_encryption no"
actl() { "$XFED_BUILD/xfedctl" -c "$D/xfed.conf" "$@"; }
http_tokens "$D/xfed.conf" "$T/tokens"
actl user add oa > /dev/null && actl user add ob > /dev/null &&
    actl send oa ob@a.localhost "first" > /dev/null
check setup [ $? = 0 ]
$PY -c 'import json; json.load(open("server/openapi.json"))' &&
    ok openapi_is_json || fail openapi_is_json "server/openapi.json"
start_api "$D" ||
    { fail start "xfed did not start"; exit 1; }
(cd "$XFED_SRC" && $PY tests/sh/http_openapi.py "http://127.0.0.1:$PH" \
    "$T/tokens") > "$T/py" 2>&1
cat "$T/py"
grep -q '^FAIL\|Traceback' "$T/py" && t_fails=$((t_fails + 1))
stop_xfed
check stopped_clean [ $? = 0 ]
t_exit
