# tests/sh/cli_user.sh: xfedctl user add, del, set, list, show, and what every
# command shares (help, usage, the config, one-line errors).
. "$(dirname "$0")/lib.sh"
t_init
cli_init example.test other.test

ctl user add romeo --name "Romeo Montague"
expect user_add 0 '^added romeo@example.test$'
[ "$(sql "SELECT name FROM users WHERE localpart = 'romeo'")" = "Romeo Montague" ] &&
    ok user_add_stored || fail user_add_stored "row not as added"
ctl user add Juliet@Other.Test
expect user_add_other_domain_folded 0 '^added juliet@other.test$'
unchanged user_add_duplicate 1 'user romeo@example.test already exists' \
    user add romeo
unchanged user_add_duplicate_case 1 'already exists' user add ROMEO
unchanged user_add_invalid 1 'invalid user name "ro meo"' user add "ro meo"
unchanged user_add_bad_char 1 'invalid user name' user add "a<b"
# look-alikes and invisible characters (PRECIS UsernameCaseMapped, RFC 8265)
unchanged user_add_rlo 1 'invalid user name ".*": localpart contains a disallowed character' \
    user add "$(printf 'alice\342\200\256')"
unchanged user_add_zwsp 1 'localpart contains a disallowed character' \
    user add "$(printf 'al\342\200\213ice')"
unchanged user_add_symbol 1 'localpart contains a disallowed character' \
    user add "$(printf 'henry\342\205\243')"
unchanged user_add_bidi 1 'localpart mixes text directions' \
    user add "$(printf 'a\327\220')"
ctl user add "$(printf '\357\274\241lice@other.test')"
expect user_add_fullwidth_mapped 0 '^added alice@other.test$'
unchanged user_add_fullwidth_duplicate 1 'user alice@other.test already exists' \
    user add alice@other.test
unchanged user_add_not_hosted 1 'not hosted' user add x@elsewhere.test
unchanged user_add_resource 1 'no /resource' user add x@example.test/r
unchanged user_add_missing 2 'missing NAME; usage: xfedctl user add' user add
unchanged user_add_extra 2 'unexpected argument' user add a b
unchanged user_add_bad_option 2 'unknown option --nmae' user add a --nmae x
unchanged user_add_option_value 2 '--name needs a value' user add a --name

ctl user list
expect user_list 0 '^juliet@other.test$'
grep -q $'^romeo@example.test\tRomeo Montague$' "$OUT" &&
    ok user_list_name || fail user_list_name "$(cat "$OUT")"
ctl user list --json
expect user_list_json 0
json_ok user_list_json_valid
[ "$(json_get 1 user)" = romeo@example.test ] &&
    [ "$(json_get 1 name)" = "Romeo Montague" ] &&
    [ "$(json_get 1 disabled)" = False ] &&
    ok user_list_json_fields || fail user_list_json_fields "$(cat "$OUT")"
unchanged user_list_extra 2 'unexpected argument' user list x

ctl user show romeo
expect user_show 0 '^name: +Romeo Montague$'
grep -Eq '^presence: +unavailable' "$OUT" && ok user_show_presence ||
    fail user_show_presence "$(cat "$OUT")"
ctl user show romeo --json
expect user_show_json 0
json_ok user_show_json_valid
[ "$(json_get 1 presence show)" = unavailable ] && ok user_show_json_fields ||
    fail user_show_json_fields "$(cat "$OUT")"
# Names the JSON escaper must carry: quotes, backslash, control, UTF-8.
sql "UPDATE users SET name = 'Q\"B\\' || char(1) || 'é' WHERE localpart = 'romeo'"
ctl user show romeo --json
json_ok user_show_json_escaped
[ "$(json_get 1 name)" = "$(printf 'Q"B\\\001é')" ] && ok user_json_roundtrip ||
    fail user_json_roundtrip "$(cat "$OUT")"
sql "UPDATE users SET name = CAST(x'41ff42' AS TEXT) WHERE localpart = 'romeo'"
ctl user list --json
json_ok user_json_invalid_utf8
unchanged user_show_unknown 1 'no user nobody@example.test' user show nobody

# user set: the fields given change, "" clears one, the others stay.
printf '\211PNG\r\n\032\nrest' > "$T/a.png"
ctl user set romeo --name "Romeo M." --nick ro --email r@m.example \
    --url https://m.example --note "a note" --avatar "$T/a.png"
expect user_set 0 '^updated romeo@example.test$'
[ "$(sql "SELECT name || '|' || nickname || '|' || email || '|' || url ||
    '|' || note || '|' || avatar_type || '|' || length(avatar) || '|' ||
    disabled FROM users WHERE localpart = 'romeo'")" = \
    "Romeo M.|ro|r@m.example|https://m.example|a note|image/png|12|0" ] &&
    ok user_set_stored || fail user_set_stored "$(sql 'SELECT * FROM users')"
ctl user set romeo --nick "" --disable
expect user_set_clear_disable 0 '^updated'
[ "$(sql "SELECT name || '|' || ifnull(nickname, 'NULL') || '|' ||
    length(avatar) || '|' || disabled FROM users WHERE localpart = 'romeo'")" = \
    "Romeo M.|NULL|12|1" ] && ok user_set_keeps_others ||
    fail user_set_keeps_others "$(sql 'SELECT * FROM users')"
ctl user set romeo --avatar "" --enable
[ "$(sql "SELECT ifnull(avatar, 'NULL') || '|' || ifnull(avatar_type, 'NULL')
    || '|' || disabled FROM users WHERE localpart = 'romeo'")" = "NULL|NULL|0" ] &&
    ok user_set_avatar_removed || fail user_set_avatar_removed "$(cat "$ERR")"
echo "not an image" > "$T/a.txt"
unchanged user_set_not_image 1 'not a PNG, JPEG, GIF or WebP image' \
    user set romeo --avatar "$T/a.txt"
head -c 70000 /dev/zero > "$T/big.png"
unchanged user_set_avatar_too_big 1 'larger than 65536 bytes' \
    user set romeo --avatar "$T/big.png"
unchanged user_set_no_file 1 'nope.png: No such file' \
    user set romeo --avatar "$T/nope.png"
unchanged user_set_name_too_long 2 '--name: at most 1024 bytes' \
    user set romeo --name "$(head -c 1025 /dev/zero | tr '\0' a)"
unchanged user_set_unknown 1 'no user nobody@example.test' \
    user set nobody --name x

ctl user del romeo
expect user_del 0 '^deleted romeo@example.test'
unchanged user_del_again 1 'no user romeo@example.test' user del romeo
unchanged user_del_missing 2 'missing NAME' user del

# Help, usage and configuration.
ctl user add --help
expect help_command 0 '^usage: xfedctl \[-c file\] user add NAME'
ctl --help
expect help_global 0 '^  inbox'
ctl user
expect noun_without_verb 2 '' 'user: missing command \(add, del, set, list, show\)'
ctl user --help
expect noun_help 0 'user del NAME'
"$XFED_BUILD/xfedctl" -c "$CONF" frob > "$OUT" 2> "$ERR"; RC=$?
expect unknown_command 2 '' 'unknown command "frob"'
"$XFED_BUILD/xfedctl" -c "$T/nope.conf" user list > "$OUT" 2> "$ERR"; RC=$?
[ "$RC" = 1 ] && grep -q 'nope.conf' "$ERR" && ok missing_config ||
    fail missing_config "exit $RC: $(cat "$ERR")"
"$XFED_BUILD/xfedctl" -c "$T/nope.conf" user list --help > "$OUT" 2> "$ERR"; RC=$?
expect help_without_config 0 '^usage:'
t_exit
