#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kysod on real smart-card plumbing: OpenSC's PKCS#11 module over virtual PIV cards
# (tests/vcard/piv-card.py) in a private pcscd. Listing, signatures verified with openssl,
# card insertion and removal seen on /v1/events (with the latencies printed), removal in
# the middle of a signature, re-insertion, two cards at once, pcscd killed and restarted.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
kp_require

pcsc_start || bail_out "pcscd does not start"
kp_card a "$T/card-a"
kp_card b "$T/card-b" --cn "Nguyễn Văn An"
# A module that hangs must not hold the test for the default 120 s.
kp_write_conf request_timeout=10
start_kysod
events_start || bail_out "cannot read GET /v1/events"
pcsc_watch_start "$PCSC_READER0" "$PCSC_READER1" || diag "no plain PC/SC client: its timings are not shown"
pinentry_says "pin 123456"
LAT=()
declare -A PAR

# The ATR pcscd reports for the card in reader NUMBER, lowercase hex.
reader_atr()
{
	opensc-tool -r "$1" -a 2>/dev/null | tr -d ': \n' | tr 'A-F' 'a-f'
}

# reader_field NAME EXPR: a Python expression over the reader `r` of GET /v1/readers.
reader_field()
{
	json_get "[r for r in j['readers'] if r['name'] == '$1'][0]$2"
}

# sign_key NAME ALG [PADDING]: sign_and_verify, plus the GETPIN count before it in $PINS0.
sign_key()
{
	PINS0=$(getpin_count)
	sign_and_verify "$@"
}

# card_in NAME PORT [CARD-ARGS]: inserts card NAME and measures the latencies from the
# start of the card's process (4 TAP lines); the token must be the one expected.
card_in()
{
	local name=$1 port=$2 mark pmark t0 reader
	shift 2
	mark=$(events_mark)
	pmark=$(pcsc_watch_mark)
	t0=$(now_us)
	check "card $name inserted (pcscd sees it)" card_start "$name" "$port" "$T/card-$name" "$@"
	reader=$(card_reader "$name")
	wait_event "$mark" card-inserted "\"reader\":\"$reader\""
	ok $? "event card-inserted for $reader"
	local t_card=$EV_US
	wait_event "$mark" token-inserted "\"id\":\"${KP_TOKEN[$name]}\""
	ok $? "event token-inserted for card $name's token"
	local t_token=$EV_US
	is "$(json_get 'j["token"]["present"]' "$EV_DATA")" true "token-inserted: the token is present"
	wait_pcsc_watch "$pmark" "$reader" present 2
	LAT+=("card $name in $reader: process start -> PC/SC client $(ms_between "$t0" "$EV_US") ms, card-inserted $(ms_between "$t0" "$t_card") ms, token-inserted $(ms_between "$t0" "$t_token") ms")
	diag "${LAT[-1]}"
}

# same_helper DESC: the module still runs the helper of $HELPER_PID; when not, kysod's
# lines about its helpers are shown, for the cause.
same_helper()
{
	local pid
	pid=$(helper_field pid)
	if [ "$pid" = "$HELPER_PID" ]; then
		pass "$1"
	else
		fail "$1"
		diag "    helper $HELPER_PID, now $pid; kysod said:"
		grep -E 'helper|signal|no answer|slot list|kyso-p11\[(error|warn)' "$KYSOD_LOG" |
			tail -n 20 | sed 's/^/#     /'
	fi
}

# card_out NAME: removes card NAME (stops its process) and measures (3 TAP lines).
card_out()
{
	local name=$1 mark pmark t0 reader
	reader=$(card_reader "$name")
	mark=$(events_mark)
	pmark=$(pcsc_watch_mark)
	t0=$(now_us)
	check "card $name removed (pcscd sees it)" card_stop "$name"
	wait_event "$mark" card-removed "\"reader\":\"$reader\""
	ok $? "event card-removed for $reader"
	local t_card=$EV_US
	wait_event "$mark" token-removed "\"id\":\"${KP_TOKEN[$name]}\""
	ok $? "event token-removed for card $name's token"
	local t_token=$EV_US
	wait_pcsc_watch "$pmark" "$reader" empty 2
	LAT+=("card $name out of $reader: process stop -> PC/SC client $(ms_between "$t0" "$EV_US") ms, card-removed $(ms_between "$t0" "$t_card") ms, token-removed $(ms_between "$t0" "$t_token") ms")
	diag "${LAT[-1]}"
}

# idle_cpu WHAT: kysod, left alone for 2 s, takes under a fifth of one CPU (its user and
# system time, all threads; a thread spinning on PC/SC takes most of it).
idle_cpu()
{
	local t0 t1 hz
	hz=$(getconf CLK_TCK)
	t0=$(awk '{print $14 + $15}' "/proc/$KYSOD_PID/stat")
	sleep 2
	t1=$(awk '{print $14 + $15}' "/proc/$KYSOD_PID/stat")
	ok $(((t1 - t0) * 5 < 2 * hz ? 0 : 1)) "idle $1, kysod took $(((t1 - t0) * 1000 / hz)) ms of CPU in 2 s"
}

# ---------------------------------------------------------------- readers, no card
api GET /v1/readers
is "$STATUS $(json_get 'j["pcsc"]')" "200 up" "GET /v1/readers: pcscd is up"
is "$(json_get '" | ".join(r["name"] for r in sorted(j["readers"], key=lambda r: r["name"]))')" \
	"$PCSC_READER0 | $PCSC_READER1" "both vpcd readers listed"
is "$(reader_field "$PCSC_READER0" '["card_present"]')" false "no card in reader 0 yet"
api GET /v1/tokens
is "$(json_get 'len(j["tokens"])')" 0 "no token before a card is inserted"

# ---------------------------------------------------------------- idle, the readers watched
# kysod waits for pcscd's next event: it does not poll the readers in a loop (pcsc-lite
# answers a zero timeout at once when nothing changed; a loop of those took a whole CPU).
idle_cpu "with pcscd up and no card"

# ---------------------------------------------------------------- insertion and listing
card_in a "$PCSC_PORT0"
api GET /v1/readers
is "$(reader_field "$PCSC_READER0" '["card_present"]')" true "GET /v1/readers: a card in reader 0"
ATR0=$(reader_atr 0)
like "$ATR0" '^3b[0-9a-f]+$' "opensc-tool reads the ATR of reader 0 ($ATR0)"
is "$(reader_field "$PCSC_READER0" '["atr"]')" "$ATR0" "GET /v1/readers: reader 0's ATR is the card's"
idle_cpu "with a card in reader 0"
is "$(reader_field "$PCSC_READER1" '["card_present"]') $(reader_field "$PCSC_READER1" '.get("atr", "-")')" \
	"false -" "reader 1: no card, no ATR"

api GET "/v1/tokens/${KP_TOKEN[a]}"
is "$STATUS" 200 "GET /v1/tokens/{id}: the token id is SHA-256 over manufacturer, model, serial"
is "$(json_get 'j["label"]')" "Phạm Thị Hoa" "token label: the cardholder's name (UTF-8)"
is "$(json_get '"%s|%s|%s" % (j["manufacturer"], j["model"], j["serial"])')" \
	"piv_II|PKCS#15 emulated|${KP_SERIAL[a]}" "token manufacturer, model (OpenSC's PIV driver) and serial (GUID)"
is "$(json_get '"%s %s %s %s %s" % (j["module"], j["present"], j["pin"]["state"], j["pin"]["logged_in"], j["pin"]["protected_path"])')" \
	"opensc True ok False False" "token: module opensc, present, PIN ok, not logged in, no PIN pad"

api GET "/v1/certificates?token=${KP_TOKEN[a]}"
is "$(json_get '" ".join(sorted(c["id"] for c in j["certificates"]))')" \
	"$(printf '%s\n' "${CERT_ID[a-9a]}" "${CERT_ID[a-9c]}" "${CERT_ID[a-9d]}" "${CERT_ID[a-9e]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the 4 certificates of the card, ids = SHA-256 of their DER"
api GET "/v1/certificates/${CERT_ID[a-9a]}"
is "$(json_get '"%s %s %s %s %s" % (j["token"], j["key_id"], j["key_type"], j["key_bits"], j["subject_cn"])')" \
	"${KP_TOKEN[a]} 01 rsa 2048 Phạm Thị Hoa" "9A: token, key id 01, RSA 2048, holder"
is "$(json_get 'j["pem"]' | openssl x509 -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -c1-64)" \
	"${CERT_ID[a-9a]}" "9A: the PEM is the card's certificate"
api GET "/v1/certificates/${CERT_ID[a-9c]}"
is "$(json_get '"%s %s %s %s" % (j["key_id"], j["key_type"], j["curve"], ",".join(j["key_usage"]))')" \
	"02 ec P-256 digitalSignature,nonRepudiation" "9C: key id 02, EC P-256, key usage"
is "$(json_get 'j["usable"]') $(json_get 'j["problems"]')" "true []" "9C: usable, no problems"
api GET "/v1/certificates/${CERT_ID[a-9d]}"
is "$(json_get 'j["usable"]') $(json_get 'j["problems"]') $(json_get '",".join(j["key_usage"])')" \
	'false ["certificate_usage"] keyAgreement' "9D (key management): not usable for signatures"
api GET "/v1/certificates/${CERT_ID[a-9e]}"
is "$(json_get '"%s %s %s" % (j["key_id"], j["curve"], j["subject_cn"])')" "04 P-256 Card Authentication" \
	"9E: key id 04, P-256, Card Authentication"

# ---------------------------------------------------------------- signatures
sign_key a-9a sha256 pkcs1
is "$(getpin_count)" $((PINS0 + 1)) "the first signature asked the PIN once"
sign_key a-9a sha256 pss
sign_key a-9a sha384 pkcs1
sign_key a-9a sha512 pss
sign_key a-9e sha256
sign_key a-9e sha384
is "$(getpin_count)" 1 "the login is kept: one GETPIN for 6 signatures"
is "$(token_pin "${KP_TOKEN[a]}" logged_in true)" true "the token is logged in"
n=$(getpin_count)
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9d]}" sha256)"
is_error 422 certificate_usage "the key management certificate (9D, keyAgreement) is refused: 422 certificate_usage"
is "$(getpin_count)" "$n" "...without a PIN dialog"

# ---------------------------------------------------------------- removal, insertion
HELPER_PID=$(helper_field pid)
card_out a
api GET "/v1/tokens/${KP_TOKEN[a]}"
is "$STATUS $(json_get 'j["present"]')" "200 false" "a removed token stays listed, present false"
api GET /v1/certificates
is "$(json_get 'len(j["certificates"])')" 0 "no certificates listed for an absent token"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
is_error 409 token_not_present "signing with the removed token's certificate: 409 token_not_present"
api GET /v1/readers
is "$(reader_field "$PCSC_READER0" '["card_present"]') $(reader_field "$PCSC_READER0" '.get("atr", "-")')" \
	"false -" "GET /v1/readers: reader 0 empty again"

# The same card again, slow this time: 1.5 s per private key operation.
card_in a "$PCSC_PORT0" --delay-ms 1500 --hold-file "$T/card.hold" --verbose
api GET /v1/certificates
is "$(json_get '" ".join(sorted(c["id"] for c in j["certificates"] if c["token"] == "'"${KP_TOKEN[a]}"'"))')" \
	"$(printf '%s\n' "${CERT_ID[a-9a]}" "${CERT_ID[a-9c]}" "${CERT_ID[a-9d]}" "${CERT_ID[a-9e]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the re-inserted token's certificates are listed again"
sign_key a-9a sha256 pss
is "$(getpin_count)" $((PINS0 + 1)) "after re-insertion the PIN is asked again, once (fresh login)"
is "$(helper_field pid) $(helper_field restarts)" "$HELPER_PID 0" "no helper restart for a card change"

# ---------------------------------------------------------------- removal during a signature
# The card holds the signature while $T/card.hold exists: it is pulled out while busy, not
# within some delay.
touch "$T/card.hold"
make_hash sha256
lines=$(wc -l <"$PCSC_DIR/card-a.log")
mark=$(events_mark)
curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
	--data-binary "$(sign_body "${CERT_ID[a-9a]}" sha256)" -o "$T/pulled.json" -w '%{http_code}' \
	http://localhost/v1/sign >"$T/pulled.code" 2>&1 &
SIGN_PID=$!
BG_PIDS+=("$SIGN_PID")
for ((i = 0; i < 250; i++)); do
	tail -n +"$((lines + 1))" "$PCSC_DIR/card-a.log" | grep -q 'general authenticate with key 9a: held' && break
	sleep 0.02
done
ok $((i >= 250)) "the card is busy with the signature (held)"
t0=$(now_us)
check "card a pulled out during the signature" card_stop a
wait "$SIGN_PID"
t1=$(now_us)
code=$(cat "$T/pulled.code") BODY=$(cat "$T/pulled.json")
STATUS=$code
like "$STATUS $(err_code)" '^(503 token_removed|409 token_not_present)$' \
	"the signature in flight is answered token_removed (or token_not_present)" ||
	diag "    got: $STATUS $BODY"
LAT+=("removal during a signature: answered $(ms_between "$t0" "$t1") ms after the card process stopped")
diag "${LAT[-1]}"
wait_event "$mark" token-removed "\"id\":\"${KP_TOKEN[a]}\""
ok $? "event token-removed after the removal during a signature"
status_ok "kysod answers after the removal during a signature"
api GET /v1/status
is "$(json_get 'j["modules"][0]["state"]')" running "the helper runs"

rm -f "$T/card.hold"
card_in a "$PCSC_PORT0"
sign_key a-9a sha256
is "$(getpin_count)" $((PINS0 + 1)) "signing works again after re-insertion, with one new GETPIN"
sign_key a-9e sha256
is "$(getpin_count)" "$PINS0" "...and the login is kept"

# ---------------------------------------------------------------- two cards
card_in b "$PCSC_PORT1"
api GET /v1/tokens
is "$(json_get '" ".join(sorted(t["id"] for t in j["tokens"] if t["present"]))')" \
	"$(printf '%s\n' "${KP_TOKEN[a]}" "${KP_TOKEN[b]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"both cards' tokens are present"
isnt "${KP_TOKEN[a]}" "${KP_TOKEN[b]}" "two cards, two token ids"
api GET "/v1/tokens/${KP_TOKEN[b]}"
is "$(json_get '"%s|%s" % (j["label"], j["serial"])')" "Nguyễn Văn An|${KP_SERIAL[b]}" "card b: its own label and serial"
api GET /v1/readers
is "$(reader_field "$PCSC_READER1" '["card_present"]') $(reader_field "$PCSC_READER1" '["atr"]')" \
	"true $(reader_atr 1)" "GET /v1/readers: card b in reader 1 with its ATR"
sign_key b-9a sha256 pss
is "$(getpin_count)" $((PINS0 + 1)) "card b asks its own PIN"
# A token the helper's libp11 slot list does not know makes it rebuild the list, which
# may end the kept logins of the module's other tokens (docs/architecture.md): card a
# asks its PIN at most once more.
sign_key a-9a sha256 pss
PINS_A=$(getpin_count)
ok $(( PINS_A - PINS0 - 1 == 0 || PINS_A - PINS0 - 1 == 1 ? 0 : 1 )) \
	"card a asks its PIN at most once after card b's insertion ($((PINS_A - PINS0 - 1)) asked)"
sign_key a-9a sha256 pkcs1
is "$(getpin_count)" "$PINS_A" "card a then signs on without a PIN"
is "$(token_pin "${KP_TOKEN[a]}" logged_in true) $(token_pin "${KP_TOKEN[b]}" logged_in true)" \
	"true true" "GET /v1/tokens: both tokens logged in"

# Both at once: each signature verifies against its own card's certificate.
make_hash sha256
PINS0=$(getpin_count)
for name in a b; do
	curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		--data-binary "$(sign_body "${CERT_ID[$name-9a]}" sha256 pss)" -o "$T/par-$name.json" \
		-w '%{http_code}' http://localhost/v1/sign >"$T/par-$name.code" 2>&1 &
	PAR[$name]=$!
done
for name in a b; do
	wait "${PAR[$name]}"
	BODY=$(cat "$T/par-$name.json")
	if [ "$(cat "$T/par-$name.code")" = 200 ] && save_signature "$T/par-$name.sig" &&
		verify_sig "${CERT_PEM[$name-9a]}" "$HASH_HEX" "$T/par-$name.sig" sha256 pss; then
		pass "card $name signs at the same time as the other card; the signature verifies"
	else
		fail "card $name signs at the same time as the other card; the signature verifies"
		diag "    $(cat "$T/par-$name.code") $BODY"
	fi
done
! cmp -s "$T/par-a.sig" "$T/par-b.sig"
ok $? "two different signatures"
is "$(getpin_count)" "$PINS0" "no PIN asked for the two logged-in cards"
api POST /v1/logout "{\"token\":\"${KP_TOKEN[b]}\"}"
is "$(json_get 'j["logged_out"]')" 1 "logout of card b alone"
is "$(token_pin "${KP_TOKEN[a]}" logged_in true)" true "card a stays logged in"
card_out b
sign_key a-9a sha384 pss
is "$(getpin_count)" "$PINS0" "card a signs on without a PIN after card b left"

# ---------------------------------------------------------------- pcscd stops and comes back
mark=$(events_mark)
t0=$(now_us)
kill -TERM "$PCSC_PCSCD_PID"
wait "$PCSC_PCSCD_PID" 2>/dev/null
PCSC_PCSCD_PID=
wait_event "$mark" pcsc-down
ok $? "event pcsc-down"
LAT+=("pcscd stopped -> pcsc-down $(ms_between "$t0" "$EV_US") ms")
wait_event "$mark" card-removed "\"reader\":\"$PCSC_READER0\"" 2
ok $? "event card-removed for reader 0 with pcscd gone"
api GET /v1/readers
is "$STATUS $(json_get 'j["pcsc"]') $(json_get 'len(j["readers"])')" "200 down 0" \
	"GET /v1/readers: pcsc down, no readers"
wait_event "$mark" token-removed "\"id\":\"${KP_TOKEN[a]}\"" 5
ok $? "event token-removed: without pcscd the token is gone"
kp_wait_token a no 1
ok $? "GET /v1/tokens: the token is not present while pcscd is down"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
is_error 409 token_not_present "signing while pcscd is down: 409 token_not_present"
status_ok "kysod answers while pcscd is down"
same_helper "the helper lives on while pcscd is down"

mark=$(events_mark)
t0=$(now_us)
pcsc_start || bail_out "pcscd does not start again"
wait_event "$mark" pcsc-up
ok $? "event pcsc-up"
t_up=$EV_US
wait_event "$mark" card-inserted "\"reader\":\"$PCSC_READER0\""
ok $? "event card-inserted: card a is seen in reader 0 again"
wait_event "$mark" token-inserted "\"id\":\"${KP_TOKEN[a]}\"" 10
ok $? "event token-inserted: card a's token is back"
LAT+=("pcscd started -> pcsc-up $(ms_between "$t0" "$t_up") ms, token-inserted $(ms_between "$t0" "$EV_US") ms")
api GET /v1/readers
is "$(json_get 'j["pcsc"]') $(reader_field "$PCSC_READER0" '["card_present"]') $(reader_field "$PCSC_READER0" '["atr"]')" \
	"up true $ATR0" "GET /v1/readers: pcsc up, card a in reader 0 with its ATR"
sign_key a-9a sha256
is "$(getpin_count)" $((PINS0 + 1)) "after pcscd's restart signing works, with a new login"
same_helper "the same helper throughout"

events_stop
pcsc_watch_stop
stop_kysod
diag "latencies:"
for l in "${LAT[@]}"; do
	diag "  $l"
done
# A helper that died: what it wrote as it died (glibc's message, its stack from
# crash-report.c) and kysod's lines just before, for whoever reads the failure.
for f in "$T"/kysod*.log; do
	grep -B 8 -A 48 '^kyso-p11: fatal signal' "$f" 2>/dev/null | while IFS= read -r l; do
		diag "  $l"
	done
done
done_testing
