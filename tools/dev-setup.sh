#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso dev-setup DIR: everything an application developer needs to sign through kysod
# without a smart card: a SoftHSM2 token "kyso-dev" with two teachers' keys and
# certificates (RSA-2048 and EC P-256, Vietnamese names) issued by a test CA, a kysod.conf
# for it (its own socket and audit log), and a PIN dialog that answers by itself (or one in
# the terminal). Prints how to start kysod against it.
#
# Run by `kyso dev-setup DIR [OPTIONS]`, or directly: tools/dev-setup.sh DIR [OPTIONS].
set -euo pipefail

PIN=123456
SO_PIN=12345678
LABEL=kyso-dev

usage()
{
	cat <<EOF
Usage: kyso dev-setup DIR [--pinentry scripted|terminal|PROGRAM] [--force]

Makes a test token (SoftHSM2) with certificates, a kysod.conf and a PIN dialog in DIR, for
developing an application against kyso without a smart card.

  --pinentry scripted   a dialog that answers the PIN by itself (the default); what it
                        does is the first line of DIR/pinentry.answer: "pin $PIN",
                        "cancel" (the user cancels) or "pin 000000" (a wrong PIN)
  --pinentry terminal   pinentry-tty or pinentry-curses: type the PIN where kysod runs
  --pinentry PROGRAM    any pinentry program (pinentry-gnome3, …)
  --force               remake DIR's token, keys and configuration
EOF
}

die()
{
	printf 'kyso dev-setup: %s\n' "$*" >&2
	exit 1
}

dir= pinentry=scripted force=0 bindir= helper=
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--force) force=1 ;;
	--pinentry) [ $# -ge 2 ] || die "--pinentry needs a value"; pinentry=$2; shift ;;
	--pinentry=*) pinentry=${1#*=} ;;
	# given by the kyso command: where it and kysod are, and kysod's helper
	--bindir) bindir=$2; shift ;;
	--helper) helper=$2; shift ;;
	-*) usage >&2; exit 2 ;;
	*) [ -z "$dir" ] || { usage >&2; exit 2; }; dir=$1 ;;
	esac
	shift
done
[ -n "$dir" ] || { usage >&2; exit 2; }

for tool in softhsm2-util pkcs11-tool openssl; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (apt-get install softhsm2 opensc openssl)"
done
module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
	[ -r "$m" ] && { module=$m; break; }
done
[ -n "$module" ] || die "SoftHSM2's PKCS#11 module is missing (apt-get install softhsm2)"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/run/kyso.sock
[ "${#sock}" -lt 100 ] || die "$sock is too long for a Unix socket: choose a shorter DIR"
if [ -e "$dir/kysod.conf" ] && [ "$force" = 0 ]; then
	die "$dir is set up already (--force makes it again)"
fi

kysod=
if [ -n "$bindir" ] && [ -x "$bindir/kysod" ]; then
	kysod=$bindir/kysod
elif command -v kysod >/dev/null; then
	kysod=$(command -v kysod)
fi
if [ -z "$helper" ] && [ -n "$bindir" ] && [ -x "$bindir/kyso-p11" ]; then
	helper=$bindir/kyso-p11		# a build tree: the helper is next to kysod
fi

case $pinentry in
scripted) pinentry_prog=$dir/pinentry ;;
terminal)
	pinentry_prog=
	for p in pinentry-tty pinentry-curses; do
		command -v "$p" >/dev/null && { pinentry_prog=$(command -v "$p"); break; }
	done
	[ -n "$pinentry_prog" ] || die "no terminal pinentry (apt-get install pinentry-tty)" ;;
/*) [ -x "$pinentry" ] || die "$pinentry is not an executable program"; pinentry_prog=$pinentry ;;
*) pinentry_prog=$(command -v "$pinentry") || die "no program $pinentry" ;;
esac

rm -rf "$dir/tokens" "$dir/keys"
mkdir -p "$dir/tokens" "$dir/keys" "$dir/run"
chmod 0700 "$dir/keys" "$dir/run"
umask 077

cat > "$dir/softhsm2.conf" <<EOF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF=$dir/softhsm2.conf
softhsm2-util --init-token --free --label "$LABEL" --pin "$PIN" --so-pin "$SO_PIN" \
	>"$dir/keys/init.log" 2>&1 || die "softhsm2-util --init-token failed: $(cat "$dir/keys/init.log")"

k=$dir/keys
# the test CA
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/ca.key" 2>/dev/null
cat > "$k/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
x509_extensions = ca
[dn]
C = VN
O = Sở Giáo dục và Đào tạo (thử nghiệm)
CN = Kyso Dev CA
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[teacher]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl req -new -x509 -config "$k/ca.cnf" -key "$k/ca.key" -days 3650 -sha256 \
	-set_serial 0x4b59534f01 -out "$dir/ca.pem" 2>"$k/ca.err" ||
	die "cannot make the CA: $(cat "$k/ca.err")"

# teacher NAME KEYTYPE CN ID SERIAL: a key and a certificate the CA issues, on the token
teacher()
{
	local name=$1 type=$2 cn=$3 id=$4 serial=$5
	case $type in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/$name.key" ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$k/$name.key" ;;
	esac 2>/dev/null || die "cannot make the $type key of $cn"
	openssl req -new -key "$k/$name.key" -utf8 -subj "/C=VN/O=Trường THPT Kyso (thử nghiệm)/CN=$cn" \
		-out "$k/$name.csr" 2>"$k/$name.err" || die "cannot make the request of $cn: $(cat "$k/$name.err")"
	openssl x509 -req -in "$k/$name.csr" -CA "$dir/ca.pem" -CAkey "$k/ca.key" \
		-set_serial "0x$serial" -days 825 -sha256 -extfile "$k/ca.cnf" -extensions teacher \
		-out "$dir/$name.pem" 2>"$k/$name.err" || die "cannot issue $cn's certificate: $(cat "$k/$name.err")"
	openssl x509 -in "$dir/$name.pem" -outform DER -out "$k/$name.der"
	softhsm2-util --import "$k/$name.key" --token "$LABEL" --label "$name" --id "$id" \
		--pin "$PIN" >"$k/$name.import" 2>&1 || die "cannot import $cn's key: $(cat "$k/$name.import")"
	pkcs11-tool --module "$module" --token-label "$LABEL" --login --pin "$PIN" \
		--write-object "$k/$name.der" --type cert --id "$id" --label "$name" \
		>"$k/$name.import" 2>&1 || die "cannot write $cn's certificate: $(cat "$k/$name.import")"
	openssl dgst -sha256 -r "$k/$name.der" | cut -d' ' -f1
}
rsa_id=$(teacher teacher-rsa rsa "Nguyễn Thị Hồng Nhung" 01 4b59534f0101)
ec_id=$(teacher teacher-ec ec "Trần Văn Bình" 02 4b59534f0102)
# the token holds the keys: the copies made here are not needed any more
rm -f "$k"/*.key

if [ "$pinentry" = scripted ]; then
	printf 'pin %s\n' "$PIN" > "$dir/pinentry.answer"
	cat > "$dir/pinentry" <<EOF
#!/bin/sh
# A PIN dialog for development (kyso dev-setup): it answers without asking anyone. Its
# first line of $dir/pinentry.answer decides: "pin VALUE" gives VALUE, "cancel" (or an empty
# file) cancels, as a user would. What the dialog says is appended to
# $dir/pinentry.log (never the PIN).
answer=$dir/pinentry.answer
log=$dir/pinentry.log
EOF
	cat >> "$dir/pinentry" <<'EOF'
action()
{
	first=
	[ -r "$answer" ] && IFS= read -r first < "$answer"
	printf '%s' "$first"
}
printf 'OK Pleased to meet you\n'
while IFS= read -r line; do
	case $line in
	SETDESC*|SETPROMPT*|SETTITLE*|SETERROR*)
		printf '%s %s\n' "$(date '+%F %T')" "$line" | sed 's/%0A/ /g' >> "$log" ;;
	esac
	case ${line%% *} in
	GETPIN)
		case $(action) in
		pin\ *) printf 'D %s\nOK\n' "$(action | sed 's/^pin //; s/%/%25/g')" ;;
		*) printf 'ERR 83886179 Operation cancelled <Pinentry>\n' ;;
		esac ;;
	CONFIRM)
		case $(action) in
		pin\ *) printf 'OK\n' ;;
		*) printf 'ERR 83886179 Operation cancelled <Pinentry>\n' ;;
		esac ;;
	GETINFO)
		case ${line#* } in
		pid) printf 'D %s\nOK\n' "$$" ;;
		version) printf 'D 1.2.1\nOK\n' ;;
		flavor) printf 'D kyso-dev\nOK\n' ;;
		*) printf 'OK\n' ;;
		esac ;;
	BYE) printf 'OK closing connection\n'; exit 0 ;;
	*) printf 'OK\n' ;;
	esac
done
EOF
	chmod 0700 "$dir/pinentry"
fi

module_dir=$(dirname "$(realpath "$module")")
{
	printf '# kysod for development (kyso dev-setup): the SoftHSM2 token in %s\n' "$dir"
	printf '[kysod]\n'
	printf 'socket = %s\n' "$sock"
	printf 'pinentry = %s\n' "$pinentry_prog"
	[ -n "$helper" ] && printf 'helper = %s\n' "$helper"
	printf 'allow_modules = /usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so %s/*.so\n' "$module_dir"
	printf '# the test CA; its certificates name no OCSP responder or CRL\n'
	printf 'ca_bundle = %s/ca.pem\nocsp = off\n' "$dir"
	printf 'audit_log = %s/audit.log\n' "$dir"
	printf 'log_level = info\n'
	printf '\n[module softhsm]\npath = %s\n' "$module"
} > "$dir/kysod.conf"

cat > "$dir/env.sh" <<EOF
# . $dir/env.sh: the environment for kysod and its clients (kyso dev-setup)
export SOFTHSM2_CONF=$dir/softhsm2.conf
export KYSO_SOCKET=$sock
export KYSO_CONF=$dir/kysod.conf
EOF
cat > "$dir/certificates.txt" <<EOF
$rsa_id  RSA-2048  Nguyễn Thị Hồng Nhung  $dir/teacher-rsa.pem
$ec_id  EC P-256  Trần Văn Bình  $dir/teacher-ec.pem
EOF

cat <<EOF
kyso development setup in $dir
  token "$LABEL" (SoftHSM2, PIN $PIN) with two teachers' keys and certificates:
    RSA-2048  Nguyễn Thị Hồng Nhung  $rsa_id
    EC P-256  Trần Văn Bình          $ec_id
  issued by "Kyso Dev CA" ($dir/ca.pem, kysod's ca_bundle)
EOF
if [ "$pinentry" = scripted ]; then
	cat <<EOF
  PIN dialog: answers "$PIN" by itself; put "cancel" or "pin 000000" in
    $dir/pinentry.answer to play a user who cancels or mistypes; what it showed is in
    $dir/pinentry.log
EOF
else
	printf '  PIN dialog: %s\n' "$pinentry_prog"
fi
cat <<EOF

Start kysod against it (in the foreground; Ctrl-C stops it):
  . $dir/env.sh
  ${kysod:-kysod} -f -c "\$KYSO_CONF"

Then, in another shell (after . $dir/env.sh):
  kyso certs
  kyso sign --cert ${ec_id:0:8} --file README.md --out /tmp/README.sig
  curl --unix-socket "\$KYSO_SOCKET" http://localhost/v1/certificates
  python3 -c 'import kyso; print(kyso.Client().certificates(usable=True))'   # clients/python
EOF
