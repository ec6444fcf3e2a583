#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso admin batch on SoftHSM2: bad manifests refused before anything is done; five tokens
# initialised one after the other from SoftHSM2's free slot (each init makes the next
# appear), the batch killed (SIGKILL) twice in a PIN dialog and restarted: the report has
# each token once and nothing was done twice (counted on the tokens with pkcs11-tool and
# softhsm2-util, in the audit log and in the dialogs); the requests checked with openssl
# req -verify; the test CA's certificates imported in a later run and signed with through
# kyso, verified by openssl. Then blank tokens appearing one after another while the batch
# waits (SoftHSM2 cannot add a token to a running module: each is made with softhsm2-util
# and its appearance is kysod's restart of the module's helper, which sends token-inserted),
# a row naming a serial, Ctrl-C in a step and while waiting, a token pulled out in a step and
# put back, a second batch on the same report, a batch killed in a PIN change (not repeated:
# --checked); the mock module for a token that refuses operations (operation_unsafe) and PINs
# at their last try and locked: no dialog, no try. t-admin-batch-piv.sh: virtual PIV cards.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-admin-batch.sh"
require_build "$KYSO_CLI"
require_softhsm

# PINs no other text of the test bed holds, so that a file holding one is found.
SO_PIN=so-8150263
PIN=u-3392714
SPARE_PIN=u-5501874
PIN2=u-7730915
CATALOGUE=catalogue=$KYSO_SRCDIR/drivers/tokens

helper_restart()
{
	local pid
	pid=$(helper_field pid)
	kill -KILL "$pid"
	wait_restarted "$pid" 10
}

# spare LABEL PIN: a blank initialised SoftHSM2 token, made beside the running module (which
# does not see it until its helper starts again); its serial in SPARE_SERIAL.
spare()
{
	softhsm2-util --init-token --free --label "$1" --pin "$2" --so-pin "$SO_PIN" \
		>"$T/spare.log" 2>&1 || bail_out "softhsm2-util --init-token: $(cat "$T/spare.log")"
	SPARE_SERIAL=$(_token_info "$1" | cut -f3)
	[ -n "$SPARE_SERIAL" ] || bail_out "no serial for the token $1"
}

# privkeys LABEL PIN: how many private keys the token LABEL holds, by pkcs11-tool.
privkeys()
{
	pkcs11-tool --module "$SOFTHSM" --token-label "$1" --login --pin "$2" --list-objects \
		--type privkey 2>/dev/null | grep -c '^Private Key Object'
}

# ---------------------------------------------------------------- kysod without admin
_softhsm_conf
write_conf --module "softhsm=$SOFTHSM" "$CATALOGUE"
start_kysod
printf 'steps,label\ninit,Trường 01\n' > "$T/off.csv"
kyso_exit "kysod without admin = yes" 1 admin batch "$T/off.csv"
like "$ERR" 'admin = yes.*\(admin_disabled\)' "the batch says provisioning is off (admin_disabled)"
if [ -e "$T/off-report.json" ] || [ -e "$T/off-csr" ]; then
	fail "nothing written when kysod does not provision"
else
	pass "nothing written when kysod does not provision"
fi
stop_kysod

# ---------------------------------------------------------------- bad manifests
write_conf --module "softhsm=$SOFTHSM" "$CATALOGUE" admin=yes pin_timeout=20
start_kysod

# bad DESC ERE: kyso admin batch $T/bad.csv is refused with a message matching ERE, and
# leaves no report and no request folder (3 TAP lines).
bad()
{
	rm -rf "$T/bad-report.json" "$T/bad-report.csv" "$T/bad-csr"
	kyso_exit "$1: refused" 1 admin batch "$T/bad.csv"
	like "$ERR" "$2" "$1: the message says why"
	if [ -e "$T/bad-report.json" ] || [ -e "$T/bad-report.csv" ] || [ -e "$T/bad-csr" ]; then
		fail "$1: nothing written"
	else
		pass "$1: nothing written"
	fi
}

HDR='steps,label,cn,o,c,uid,key_type'
printf 'label,cn\nTrường 01,An\n' > "$T/bad.csv"
bad "no steps column" 'header has no steps column'
printf 'steps,cn,key_type\ninit keygen,An,p256\n' > "$T/bad.csv"
bad "init without a label column" 'bad.csv line 2: init needs a label'
printf 'steps,label,cn\ninit,Tr\xfd\xf4ng 01,An\n' > "$T/bad.csv"
bad "a label in Windows-1258, not UTF-8" 'line 2: byte 0xfd is not UTF-8.*CSV UTF-8'
printf '%s\ninit keygn csr,Trường 01,An,Trường Kyso,VN,CCCD:1,p256\n' "$HDR" > "$T/bad.csv"
bad "an unknown step" 'line 2: unknown step "keygn"'
printf 'steps,serial,cn\npin-change,0a1b2c3d,An\npin-change,0a1b2c3d,Bình\n' > "$T/bad.csv"
bad "two rows with one serial" 'line 3: serial 0a1b2c3d is named on line 2 already'
printf '%s\ninit,Trường 01,An,,,,\ninit,Trường 01,Bình,,,,\n' "$HDR" > "$T/bad.csv"
bad "two new tokens with one label" 'line 3: label "Trường 01" is given to the token of line 2'
{ echo "$HDR"; for i in $(seq 12000); do printf 'init keygen csr,Trường %04d,Nguyễn Văn An %04d,Trường THPT Chu Văn An,VN,CCCD:0010990%05d,p256\n' "$i" "$i" "$i"; done; } > "$T/bad.csv"
bad "a manifest over 1 MiB" 'bytes; at most 1048576'
printf 'steps,label,cnn\ninit,Trường 01,An\n' > "$T/bad.csv"
bad "an unknown column" 'line 1: unknown column "cnn"'
printf 'steps,label\ninit,Trường Trung học phổ thông Kyso\n' > "$T/bad.csv"
bad "a label over 32 bytes" 'label is 39 bytes long; a token label is at most 32 bytes'
printf 'steps,label,cn\ninit,"Trường 01,An\n' > "$T/bad.csv"
bad "a quoted value not closed" 'line 2: a quoted value is not closed'
: > "$T/bad.csv"
bad "an empty file" 'the file is empty'
printf '%s\n' "$HDR" > "$T/bad.csv"
bad "a header and no rows" 'no rows after the header'
printf '%s\ninit keygen,Trường 01,An,,,,rsa1024\n' "$HDR" > "$T/bad.csv"
bad "a key type kysod does not make" 'key_type "rsa1024" is not rsa2048'
printf '%s\ninit keygen csr,Trường 01,An,,Việt Nam,,p256\n' "$HDR" > "$T/bad.csv"
bad "a country that is not two capitals" "c must be a country's two capital letters"
printf '%s\ninit keygen csr,Trường 01,%s,,,,p256\n' "$HDR" "$(printf 'Ă%.0s' $(seq 65))" > "$T/bad.csv"
bad "a CN over 64 characters" 'cn is 65 characters long; at most 64'
printf 'steps,cn\nimport,An\n' > "$T/bad.csv"
bad "import with no certificate and no csr" 'import needs a certificate file'
printf 'steps,label,cn\ninit,"Trường\n01",An\n' > "$T/bad.csv"
bad "a line break inside a value" 'label holds a control character or a line break'
{ echo "steps"; for i in $(seq 25); do echo "init"; done; } > "$T/bad.csv"
bad "25 rows, each wrong" '5 more problems not shown'
like "$ERR" 'has 25 problems; nothing was done' "the count of problems is given"
printf '%s\ninit,Trường 01,An,,,,\n' "$HDR" > "$T/good.csv"
printf 'not a certificate\n' > "$T/notcert.pem"
kyso_exit "--chain with a file that holds no certificate" 1 admin batch "$T/good.csv" \
	--chain "$T/notcert.pem"
like "$ERR" 'holds no PEM certificate; nothing was done' "the message names the chain file"
kyso_exit "no manifest: a usage error" 2 admin batch
# As a Vietnamese spreadsheet saves it: a byte order mark, semicolons, CRLF, quoted values.
printf '\xef\xbb\xbfSTEPS;Label;CN;O;C;UID;Key_Type\r\ninit keygen csr;Trường 01;"Nguyễn Văn An";"Trường THPT Chu Văn An; Hà Nội";VN;CCCD:001099012345;p256\r\n;;;;;;\r\n' \
	> "$T/excel.csv"
kyso_ok "--check of a manifest saved by a spreadsheet (BOM, semicolons, CRLF)" admin batch \
	"$T/excel.csv" --check
like "$OUT" 'The manifest .*excel.csv is good: 1 row;' "--check says the manifest is good"
if [ -e "$T/excel-report.json" ] || [ -e "$T/excel-csr" ]; then
	fail "--check writes nothing"
else
	pass "--check writes nothing"
fi
is "$(grep -c '^GETPIN' "$KYSO_PINENTRY_LOG")" 0 "no bad manifest got as far as a PIN dialog"
is "$(grep -c '"event":"admin"' "$AUDIT_LOG" 2>/dev/null)" 0 "no bad manifest reached kysod"

# ---------------------------------------------------------------- five tokens, killed twice
cat > "$T/teachers.csv" <<'EOF'
steps,label,cn,o,ou,l,c,uid,key_type
init keygen csr import,Trường Kyso 01,Nguyễn Văn An,Trường THPT Chu Văn An,Tổ Toán - Tin,Hà Nội,VN,CCCD:001099012345,p256
init keygen csr import,Trường Kyso 02,Trần Thị Bích Ngọc,Trường THPT Chu Văn An,Tổ Văn,Hà Nội,VN,CCCD:001099012346,rsa2048
init keygen csr import,Trường Kyso 03,Lê Hoàng Phúc,Trường THPT Chu Văn An,Tổ Ngoại ngữ,Hà Nội,VN,CCCD:001099012347,p256
init keygen csr import,Trường Kyso 04,Phạm Thị Hoa,Trường THPT Chu Văn An,Tổ Sử - Địa,Hà Nội,VN,CCCD:001099012348,p384
init keygen csr import,Trường Kyso 05,Đỗ Minh Đức,Trường THPT Chu Văn An,Tổ Thể dục,Hà Nội,VN,CCCD:001099012349,rsa2048
EOF
R=$T/teachers-report
# Each token: the init's SO PIN and user PIN, then the user PIN for keygen and for csr.
pins $(for i in 1 2 3 4 5; do echo "$SO_PIN $PIN $PIN $PIN"; done)
# Dialog 11 is the third token's keygen: the batch is killed as it opens; kysod goes on.
act_signal 11 KILL
batch_run "run 1, killed in the third token's keygen dialog" 137 run1 "$T/teachers.csv"
like "$OUT" 'Row 2: done but import' "run 1: two rows were done before"
wait_admin keygen ok 3
ok $? "kysod finished the keygen of the killed run"
is "$(report "$R" 'len(j["tokens"])')" 3 "the report has the three tokens begun"
is "$(entry "$R" 3 '["status"] + " " + e["running"] + " " + e["steps"]["init"]["result"]')" \
	"running keygen ok" "row 3: init done, keygen begun and not finished"
is "$(entry "$R" 1 '["status"]') $(entry "$R" 2 '["status"]')" "waiting waiting" \
	"rows 1 and 2: done but import, which waits for the certificate"
is "$(($(wc -l < "$R.csv") - 1))" 3 "the CSV report has a line per token begun"

# Run 2 is killed in the fourth token's first init dialog: kysod finishes that init, and the
# fourth token reaches the report without its serial.
act_signal 13 KILL
batch_run "run 2, killed in the fourth token's init dialog" 137 run2 "$T/teachers.csv"
like "$OUT" 'keygen: done already \(found on the token\)' \
	"run 2: the third token's keygen is not repeated: its key is on the token"
wait_admin init ok 4
ok $? "kysod finished the init of the killed run"
is "$(entry "$R" 4 '["serial"] + "/" + e["running"]')" "/init" \
	"row 4 is in the report, begun in init, without a serial yet"

batch_run "run 3 goes to the end" 0 run3 "$T/teachers.csv"
like "$OUT" 'Row 4: the token an earlier run was initialising is there, serial [0-9a-f]{16}' \
	"run 3 finds the token the killed run initialised, by its label"
like "$OUT" 'Batch .*teachers.csv: 5 rows: 0 done, 5 waiting for the certificate\.' \
	"run 3: every row done but import, which waits for the CA"
is "$(dialogs) $(queue_left)" "20 0" "20 dialogs in all, four per token: nothing was asked twice"
is "$(report "$R" 'len(j["tokens"])') $(report "$R" 'len(set(e["serial"] for e in j["tokens"]))')" \
	"5 5" "the report has each of the five tokens once, by its serial"
is "$(report "$R" '" ".join(str(e["row"]) + ":" + e["status"] for e in sorted(j["tokens"], key=lambda e: e["row"]))')" \
	"1:waiting 2:waiting 3:waiting 4:waiting 5:waiting" "each row has its token"
is "$(entry "$R" 3 '["steps"]["keygen"]["result"]') $(entry "$R" 4 '["steps"]["init"]["result"]')" \
	"present present" "the report says which steps were found done rather than done again"
is "$(($(wc -l < "$R.csv") - 1))" 5 "the CSV report has a line per token"
is "$(head -n 1 "$R.csv" | tr -d '\r' | cut -d, -f1-7)" "serial,token,row,line,label,cn,status" \
	"the CSV report's header"
is "$(stat -c %a "$R.json") $(stat -c %a "$R.csv")" "600 600" \
	"the reports are readable by their owner only (names, id numbers)"
is "$(admin_count init ok) $(admin_count keygen ok) $(admin_count csr ok)" "5 5 5" \
	"kysod's audit log: five inits, five keygens, five requests"
for i in 1 2 3 4 5; do
	n=$(softhsm2-util --show-slots 2>/dev/null | grep -c "Label: *Trường Kyso 0$i *\$")
	k=$(privkeys "Trường Kyso 0$i" "$PIN")
	is "$n $k" "1 1" "token Trường Kyso 0$i exists once and holds one private key"
done
for i in 1 2 3 4 5; do
	s=$(entry "$R" "$i" '["serial"]')
	openssl req -in "$T/teachers-csr/$s.csr" -verify -noout >/dev/null 2>&1
	ok $? "row $i: openssl req -verify accepts the request $s.csr"
done
S1=$(entry "$R" 1 '["serial"]')
is "$(openssl req -in "$T/teachers-csr/$S1.csr" -noout -subject -nameopt utf8,sep_comma_plus 2>/dev/null)" \
	"subject=C=VN,L=Hà Nội,O=Trường THPT Chu Văn An,OU=Tổ Toán - Tin,CN=Nguyễn Văn An,UID=CCCD:001099012345" \
	"the request keeps the Vietnamese names of the manifest"
like "$(openssl req -in "$T/teachers-csr/$(entry "$R" 4 '["serial"]').csr" -noout -text 2>/dev/null)" \
	'ASN1 OID: secp384r1' "row 4's request holds a P-384 key (its key_type)"
is "$(stat -c %a "$T/teachers-csr/$S1.csr")" 600 "requests are readable by their owner only"

D0=$(dialogs)
batch_run "run 4, with no certificate yet" 0 run4 "$T/teachers.csv"
is "$(dialogs)" "$D0" "run 4 asks nothing"
is "$(report "$R" 'len(j["tokens"])')" 5 "the report still has five tokens"

# The CA issues the five certificates; run 5 imports them with the chain.
ca_init
for i in 1 2 3 4 5; do
	s=$(entry "$R" "$i" '["serial"]')
	printf '%s\n' "basicConstraints=critical,CA:false" \
		"keyUsage=critical,digitalSignature,nonRepudiation" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" > "$T/keys/t$i.ext"
	openssl x509 -req -in "$T/teachers-csr/$s.csr" -CA "$CA_INT" -CAkey "$CA_DIR/int/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 365 -sha256 -extfile "$T/keys/t$i.ext" \
		-out "$T/teachers-csr/$s.pem" >"$T/keys/t$i.log" 2>&1 ||
		bail_out "the CA did not issue row $i: $(cat "$T/keys/t$i.log")"
	CERT_PEM[t$i]=$T/teachers-csr/$s.pem
	CERT_ID[t$i]=$(openssl x509 -in "$T/teachers-csr/$s.pem" -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1)
done
KEY_TYPE[t1]=p256
KEY_TYPE[t2]=rsa
pins $PIN $PIN $PIN $PIN $PIN
batch_run "run 5 imports the certificates the CA issued" 0 run5 "$T/teachers.csv" \
	--chain "$CA_BUNDLE"
like "$OUT" 'Batch .*: 5 rows: 5 done\.' "run 5: every row done"
is "$(dialogs) $(queue_left)" "25 0" "one dialog per import"
for i in 1 2 3 4 5; do
	is "$(entry "$R" "$i" '["certificate"] + " " + e["status"]')" "${CERT_ID[t$i]} done" \
		"row $i: the certificate's id in the report"
done
api GET "/v1/admin/tokens"
is "$(json_get 'sum(1 for t in j["tokens"] for c in t["certificates"] if c["key"] == "present")')" 5 \
	"the five certificates are next to their keys"
is "$(json_get 'sum(1 for t in j["tokens"] for c in t["certificates"] if c["ca"])')" 10 \
	"each token has the two CA certificates of the chain"
pinentry_says "pin $PIN"
echo "Sổ điểm lớp 10A1" > "$T/record.txt"
for i in 1 2; do
	kyso_ok "kyso sign with row $i's certificate" sign --cert "${CERT_ID[t$i]:0:12}" \
		--file "$T/record.txt" --out "$T/t$i.sig"
	openssl x509 -in "${CERT_PEM[t$i]}" -noout -pubkey > "$T/t$i.pub"
	openssl dgst -sha256 -verify "$T/t$i.pub" -signature "$T/t$i.sig" "$T/record.txt" \
		>/dev/null 2>&1
	ok $? "row $i: the signature verifies with openssl against the certificate"
done
D0=$(dialogs)
batch_run "run 6, everything done, --json" 0 run6 --json "$T/teachers.csv"
like "$ERR" 'Batch .*: 5 rows: 5 done\.' "run 6: every row is done already (progress on stderr)"
is "$(json_get '" ".join(e["status"] for e in j["tokens"])' "$OUT")" "done done done done done" \
	"run 6 --json: the report on stdout"
is "$(dialogs)" "$D0" "run 6 asks nothing"

# The report binds the manifest's rows: a row changed after the batch began it is refused.
cp "$T/teachers.csv" "$T/teachers.orig"
sed -i 's/Trần Thị Bích Ngọc/Trần Thị Ngọc/' "$T/teachers.csv"
cp "$R.json" "$T/report.before"
kyso_exit "a manifest whose row 2 changed after the batch began it" 1 admin batch "$T/teachers.csv"
like "$ERR" 'row 2 \(line 3\) of .*teachers.csv changed since the batch began it' \
	"the message names the row (manifest_changed)"
cmp -s "$R.json" "$T/report.before"
ok $? "the report is left as it was"
cp "$T/teachers.orig" "$T/teachers.csv"
printf '{"report":"kyso admin batch","version":1,"tokens":[{"row":1}]}' > "$T/broken-report.json"
kyso_exit "a report kyso did not write" 1 admin batch "$T/teachers.csv" --report "$T/broken-report"
like "$ERR" 'entry 1 is not one kyso wrote.*report_invalid' "the message says so (report_invalid)"

# ---------------------------------------------------------------- tokens appearing one after another
cat > "$T/spares.csv" <<EOF
serial,steps,cn,o,c,key_type
,pin-change keygen csr,Vũ Thị Lan,Trường THPT Chu Văn An,VN,p256
,pin-change keygen csr,Bùi Quang Huy,Trường THPT Chu Văn An,VN,p256
SERIAL_C,pin-change keygen csr,Ngô Thanh Tâm,Trường THPT Chu Văn An,VN,p256
,keygen csr,Đinh Thị Mai,Trường THPT Chu Văn An,VN,rsa2048
EOF
spare "Dự phòng C" "$SPARE_PIN"
SERIAL_C=$SPARE_SERIAL
sed -i "s/SERIAL_C/$SERIAL_C/" "$T/spares.csv"
SR=$T/spares-report
pins $SPARE_PIN $PIN2 $PIN2 $PIN2
batch_bg spares1 "$T/spares.csv"
wait_out 'Waiting for a token: rows 1, 2, 3, 4 left'
ok $? "the batch waits for tokens: no token it may take is there"
like "$(cat "$T/spares1.out")" 'Trường Kyso 03", serial [0-9a-f]+: not in the report, and it holds keys or certificates' \
	"the tokens of the other batch are not taken: they hold keys"
kyso_exit "a second batch on the same report is refused" 1 admin batch "$T/spares.csv"
like "$ERR" 'another kyso admin batch is writing the report' "the message says why (report_busy)"
helper_restart
ok $? "the helper starts again: the token made beside it appears"
wait_out 'Row 3: done\.'
ok $? "the token appeared is taken by the row naming its serial (row 3)"
wait_out 'Waiting for a token: rows 1, 2, 4 left'
ok $? "then the batch waits again"
spare "Dự phòng A" "$SPARE_PIN"
SERIAL_A=$SPARE_SERIAL
pins $SPARE_PIN $PIN2 $PIN2 $PIN2
helper_restart
wait_out 'Row 1: done\.'
ok $? "the next token takes the first free row (row 1)"
is "$(entry "$SR" 1 '["serial"]')" "$SERIAL_A" "row 1 is the token that appeared"
wait_out 'Waiting for a token: rows 2, 4 left'
spare "Dự phòng B" "$SPARE_PIN"
SERIAL_B=$SPARE_SERIAL
pins $SPARE_PIN $PIN2 $PIN2 $PIN2
# B's dialogs: the PIN change's two, then keygen's: Ctrl-C as keygen's dialog opens.
act_signal $(($(dialogs) + 3)) INT
helper_restart
batch_wait
is "$BATCH_RC" 1 "Ctrl-C in a step: the batch ends after it, exit 1"
like "$ERR" 'stopping after the current step' "it says it stops after the current step"
like "$OUT" 'keygen: done; key id' "the step under way was finished"
like "$OUT" 'Stopped: run the same command again to go on' "and says how to go on"
is "$(entry "$SR" 2 '["status"] + " " + e["steps"]["keygen"]["result"] + " " + str("csr" in e["steps"])')" \
	"stopped ok False" "row 2: keygen done, csr not begun"
batch_bg spares2 "$T/spares.csv"
wait_out 'Waiting for a token: row 4 left'
ok $? "run 2 goes on with row 2 and waits for row 4's token"
like "$(cat "$T/spares2.out")" 'csr: done' "row 2's request is made"
unlike "$(cat "$T/spares2.out")" 'pin-change: kysod asks|keygen: kysod asks' \
	"row 2's PIN change and keygen are not repeated"
is "$(queue_left)" 0 "row 2 asked the one dialog it had left"
is "$(privkeys "Dự phòng B" "$PIN2")" 1 "token B holds one private key"
T0=$(now_ms)
kill -INT "$BATCH_PID"
batch_wait 10
is "$BATCH_RC" 1 "Ctrl-C while waiting for a token: the batch ends, exit 1"
ok $(( $(now_ms) - T0 < 5000 ? 0 : 1 )) "it ends at once ($(( $(now_ms) - T0 )) ms)"

# Row 4's token is pulled out in its keygen: as the dialog opens, its directory is moved
# away and the helper restarted (a module that no longer has the token). The step fails, the
# row waits for the token, and goes on once it is put back.
spare "Dự phòng D" "$PIN2"
DDIR=$(dirname "$(grep -l "Dự phòng D" "$T"/softhsm/tokens/*/token.object)")
pinentry_says "pin $PIN2"
batch_bg spares3 "$T/spares.csv"
wait_out 'Waiting for a token: row 4 left'
act $(($(dialogs) + 1)) "mv '$DDIR' '$T/pulled' && kill -KILL \$(curl -s --unix-socket '$SOCK' http://localhost/v1/status | '$PY' -c 'import json, sys; print(json.load(sys.stdin)[\"modules\"][0][\"pid\"])')"
helper_restart
wait_out 'Row 4: stopped; it goes on when the token is inserted again'
ok $? "the token pulled out in a step: the row waits for it"
like "$(cat "$T/spares3.out")" 'keygen: FAILED: .*\((token_not_present|token_removed|token_not_found|module_crashed)\)' \
	"the step says what happened"
mv "$T/pulled" "$DDIR"
helper_restart
batch_wait
is "$BATCH_RC" 0 "the token put back: the batch goes on, and ends"
like "$OUT" 'Row 4: done\.' "row 4 is done once the token is back"
is "$(entry "$SR" 4 '["status"] + " " + e["steps"]["keygen"]["result"] + " " + e["steps"]["csr"]["result"]')" \
	"done ok ok" "row 4 is done"
is "$(privkeys "Dự phòng D" "$PIN2")" 1 "token D holds one private key: nothing half-made is left"
is "$(report "$SR" '" ".join(str(e["row"]) + ":" + e["status"] for e in sorted(j["tokens"], key=lambda e: e["row"]))')" \
	"1:done 2:done 3:done 4:done" "the spares' report: every row done, each token once"
for s in "$SERIAL_A" "$SERIAL_B" "$SERIAL_C"; do
	openssl req -in "$T/spares-csr/$s.csr" -verify -noout >/dev/null 2>&1
	ok $? "the request of token $s verifies"
done

# A batch killed in a PIN change: whether the PIN changed cannot be seen on the token, so the
# next run does not repeat the step; it says so, and goes on once told the token was checked.
spare "Dự phòng E" "$SPARE_PIN"
SERIAL_E=$SPARE_SERIAL
printf 'serial,steps,cn,key_type\n%s,pin-change keygen,Trịnh Văn Sơn,p256\n' "$SERIAL_E" > "$T/e.csv"
helper_restart
pins $SPARE_PIN $PIN2 $PIN2
act_signal $(($(dialogs) + 1)) KILL
N0=$(admin_count pin-change ok)
batch_run "killed in a PIN change's dialog" 137 e1 "$T/e.csv"
wait_admin pin-change ok $((N0 + 1))
ok $? "kysod finished the PIN change"
D0=$(dialogs)
batch_run "the next run" 1 e2 "$T/e.csv"
like "$OUT" 'pin-change: FAILED: an earlier run was stopped in this step.*--checked.*\(outcome_unknown\)' \
	"it does not repeat the PIN change, and says why"
is "$(dialogs)" "$D0" "no dialog"
is "$(entry "$T/e-report" 1 '["status"]')" check "the report marks the token to be checked"
batch_run "--checked with the token's serial" 0 e3 "$T/e.csv" --checked "$SERIAL_E"
like "$OUT" 'pin-change: checked by hand' "the PIN change is taken as checked"
is "$(entry "$T/e-report" 1 '["steps"]["keygen"]["result"] + " " + e["status"]')" "ok done" \
	"the row goes on with its keygen"
is "$(privkeys "Dự phòng E" "$PIN2") $(queue_left)" "1 0" \
	"the PIN was changed once: the new PIN logs in, and the key is there"
stop_kysod

# ---------------------------------------------------------------- a token that refuses
# The mock module's token: outside the catalogue (only a PIN change is safe), its PIN at its
# last try, then locked. The batch spends no try: kysod refuses before any dialog.
require_mock
make_mock_key p256
export KYSO_MOCK_PIN_STATE=final_try
write_conf --module "mock=$MOCK_MODULE" "$CATALOGUE" admin=yes
start_kysod
printf 'serial,steps\n0001,pin-change\n' > "$T/mock.csv"
D0=$(dialogs)
batch_run "a PIN change at the last try" 1 mock1 "$T/mock.csv"
like "$OUT" 'pin-change: FAILED: .*one try left.*\(last_try\)' "the batch reports last_try"
like "$OUT" 'row 1 \(line 2\), serial 0001: failed at pin-change, last_try' \
	"the summary names the row and the error"
is "$(dialogs)" "$D0" "no dialog: no try spent"
stop_kysod
export KYSO_MOCK_PIN_STATE=locked
start_kysod
batch_run "the same row, its PIN locked" 1 mock2 "$T/mock.csv"
like "$OUT" 'pin-change: FAILED: .*\(pin_locked\)' "the batch reports pin_locked"
is "$(dialogs)" "$D0" "no dialog"
printf 'serial,steps,key_type,key_label\n0001,keygen,p256,x\n' > "$T/mock2.csv"
batch_run "keygen on a token whose family the catalogue does not know" 1 mock3 "$T/mock2.csv"
like "$OUT" 'keygen: FAILED: .*\(operation_unsafe\)' "the batch reports operation_unsafe"
is "$(dialogs)" "$D0" "no dialog"
is "$(entry "$T/mock-report" 1 '["error"]["code"]')" pin_locked "the report keeps the error"
stop_kysod
unset KYSO_MOCK_PIN_STATE

# ---------------------------------------------------------------- no PIN anywhere
for pin in "$SO_PIN" "$PIN" "$SPARE_PIN" "$PIN2"; do
	if grep -rqF -- "$pin" "$T"/*.out "$T"/*.err "$T"/*-report.json "$T"/*-report.csv \
		"$AUDIT_LOG" "$T"/kysod.*.log "$KYSO_PINENTRY_LOG"; then
		fail "no output, report or log holds the PIN $pin"
	else
		pass "no output, report or log holds the PIN $pin"
	fi
done
"$KYSO_CLI" audit verify "$AUDIT_LOG" >"$T/verify.out" 2>&1
ok $? "kyso audit verify: the audit log's chain is whole"

done_testing
