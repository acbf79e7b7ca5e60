# tests/sh/cli_block.sh: xfedctl block add, del and list: domain rules and
# per-user blocks (XEP-0191) in the store, and every refusal with one line.
. "$(dirname "$0")/lib.sh"
t_init
cli_init example.test

ctl user add romeo
ctl block add Spam.Example.
expect block_domain_prepared 0 '^blocked spam.example$'
[ "$(sql "SELECT action FROM domain_rules WHERE domain = 'spam.example'")" = block ] &&
    ok block_domain_stored || fail block_domain_stored "no row"
ctl block add --allow friend.example
expect allow_domain 0 '^allowed friend.example$'
ctl block add --allow spam.example
expect rule_changed 0 '^allowed spam.example$'
ctl block list
expect block_list 0 '^allow	friend.example$'
ctl block list --json
json_ok block_list_json
[ "$(json_get 1 domain)" = friend.example ] && [ "$(json_get 1 action)" = allow ] &&
    ok block_list_json_fields || fail block_list_json_fields "$(cat "$OUT")"
unchanged block_hosted 1 'example.test is hosted here' block add example.test
unchanged block_bad_domain 1 'invalid domain "a..b"' block add a..b
unchanged block_domain_with_at 1 'invalid domain "a@b.example": a domain has no @ or /' \
    block add a@b.example
unchanged block_missing 2 'missing DOMAIN, or NAME JID' block add
unchanged block_extra 2 'unexpected argument "x"' block add romeo a.example x
unchanged block_del_missing 1 'no rule for nothere.example' block del nothere.example
ctl block del spam.example
expect block_del 0 '^removed the rule for spam.example$'

ctl block add romeo Eve@Evil.Example/Phone
expect user_block_add 0 '^romeo@example.test blocks eve@evil.example/Phone$'
unchanged user_block_again 1 'romeo@example.test blocks eve@evil.example/Phone already' \
    block add romeo eve@evil.example/Phone
unchanged user_block_allow 2 '--allow is for domains' block add --allow romeo x.example
unchanged user_block_no_user 1 'no user juliet@example.test' block add juliet x.example
unchanged user_block_bad_jid 1 'invalid JID "a@@b"' block add romeo 'a@@b'
ctl block add romeo evil.example
ctl block list romeo
expect user_block_list 0 '^romeo@example.test	evil.example$'
ctl block list romeo --json
json_ok user_block_list_json
unchanged user_block_del_missing 1 'romeo@example.test does not block x.example' \
    block del romeo x.example
ctl block del romeo evil.example
expect user_block_del 0 '^romeo@example.test no longer blocks evil.example$'
ctl user del romeo
[ "$(sql "SELECT count(*) FROM blocks")" = 0 ] && ok user_blocks_cascade ||
    fail user_blocks_cascade "rows left"
t_exit
