# SPDX-License-Identifier: LGPL-2.1-or-later
# A test PKI for the certificate checks, CMS and timestamp tests: a root CA, an issuing
# CA, certificates issued with any validity and key usage, revocation (index.txt, CRLs),
# an OCSP responder (`openssl ocsp`) and a time-stamp authority (`openssl ts` behind
# tests/lib/tsa-server.py), all on loopback. Source it after kyso-env.sh:
#
#	. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
#	. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
#
# Provides:
#   ca_init                 root "Kyso Test Root CA" and issuing CA "Kyso Test Issuing CA";
#                           CA_ROOT CA_INT (PEM files), CA_BUNDLE (both in one file), CA_DIR
#   ca_issue NAME TYPE CN [--ku LIST|none] [--eku LIST] [--start T --end T] [--ocsp URL]
#                           [--crl URL] [--uid UID] [--ca other|root|SUB]   a key and
#                           certificate (--crl: a CRL distribution point URI) like
#                           _make_cert's ($T/keys/NAME.{key,pem,der}, CERT_* arrays); T as
#                           YYYYMMDDHHMMSSZ
#   ca_sub NAME CN [--ocsp URL] [--crl URL]   a subordinate CA under the root, issued with
#                           `openssl ca` (--crl: the root's CRL distribution point URI)
#                           so that the root can revoke it ($CA_DIR/NAME/ca.pem); issue
#                           under it with ca_issue --ca NAME
#   ca_revoke_in CA NAME|PEM [REASON]  revokes a certificate in CA's index (root, int, SUB)
#   ca_crl_of CA FILE       CA's CRL (PEM) as its index says now
#   ca_ocsp_start CA PORT   an OCSP responder for CA (root, int, SUB), its delegated
#                           responder certificate issued by CA; ca_ocsp_stop CA
#   ca_other_init           a second root ("Other Root CA") that is not in CA_BUNDLE
#   ca_revoke NAME          revokes NAME in the issuing CA's index
#   ca_forget NAME          drops NAME from the index (the OCSP responder answers unknown)
#   ca_crl FILE             the issuing CA's CRL (PEM) as the index says now
#   free_port               a TCP port free on 127.0.0.1 now
#   crl_serve_start DIR PORT  serves DIR over HTTP on 127.0.0.1:PORT (python3 -m
#                           http.server), its access log in $CA_DIR/http.log; crl_serve_stop
#   crl_fetches PATH        how many GET /PATH the server has answered so far
#   ocsp_start PORT         OCSP responder for the issuing CA (delegated responder cert)
#   ocsp_stop
#   tsa_init                TSA certificate (timeStamping) from the issuing CA, its config
#   tsa_start [MODE [PORT]] the TSA (MODE ok|http500|garbage|reject) on PORT or any free
#                           port; sets TSA_URL
#   tsa_stop
#   make_ca_token LABEL NAME:ID...   a SoftHSM2 token holding the keys and certificates

CA_DIR=$T/ca
CA_ROOT=$CA_DIR/root.pem
CA_INT=$CA_DIR/int.pem
CA_BUNDLE=$CA_DIR/bundle.pem
OCSP_PID=
TSA_PID=
TSA_URL=

# _ca_run DESC CMD...: runs an openssl command, bailing out with its output on failure.
_ca_run()
{
	local desc=$1
	shift
	"$@" >"$CA_DIR/last.log" 2>&1 || bail_out "$desc failed: $(cat "$CA_DIR/last.log")"
}

# _ca_genkey FILE TYPE
_ca_genkey()
{
	case $2 in
	rsa) _ca_run "genpkey rsa" openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$1" ;;
	p256) _ca_run "genpkey p256" openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
	p384) _ca_run "genpkey p384" openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
	*) bail_out "_ca_genkey: unknown key type $2" ;;
	esac
}

# _ca_conf DIR: the `openssl ca` configuration of the CA in DIR.
_ca_conf()
{
	local dir=$1
	mkdir -p "$dir/newcerts"
	: > "$dir/index.txt"
	printf 'unique_subject = no\n' > "$dir/index.txt.attr"
	printf '1000\n' > "$dir/serial"
	printf '1000\n' > "$dir/crlnumber"
	cat > "$dir/ca.cnf" <<-EOF
	[ca]
	default_ca = issuing
	[issuing]
	dir = $dir
	database = \$dir/index.txt
	new_certs_dir = \$dir/newcerts
	serial = \$dir/serial
	crlnumber = \$dir/crlnumber
	certificate = \$dir/ca.pem
	private_key = \$dir/ca.key
	default_md = sha256
	default_days = 730
	default_crl_days = 7
	policy = any
	unique_subject = no
	copy_extensions = none
	email_in_dn = no
	utf8 = yes
	string_mask = utf8only
	preserve = yes
	[any]
	C = optional
	O = optional
	CN = supplied
	UID = optional
	EOF
}

# _ca_make_root DIR CN
_ca_make_root()
{
	local dir=$1 cn=$2
	mkdir -p "$dir"
	_ca_genkey "$dir/ca.key" p256
	_ca_run "root CA $cn" openssl req -new -x509 -key "$dir/ca.key" -sha256 -days 3650 \
		-subj "/C=VN/O=Kyso Test/CN=$cn" -utf8 -out "$dir/ca.pem" \
		-addext "basicConstraints=critical,CA:true" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash"
	_ca_conf "$dir"
}

ca_init()
{
	mkdir -p "$CA_DIR"
	_ca_make_root "$CA_DIR/root" "Kyso Test Root CA"
	mkdir -p "$CA_DIR/int"
	_ca_genkey "$CA_DIR/int/ca.key" p256
	_ca_run "issuing CA request" openssl req -new -key "$CA_DIR/int/ca.key" \
		-subj "/C=VN/O=Kyso Test/CN=Kyso Test Issuing CA" -utf8 -out "$CA_DIR/int/ca.csr"
	printf '%s\n' "basicConstraints=critical,CA:true,pathlen:0" \
		"keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" > "$CA_DIR/int/ext.cnf"
	_ca_run "issuing CA" openssl x509 -req -in "$CA_DIR/int/ca.csr" -CA "$CA_DIR/root/ca.pem" \
		-CAkey "$CA_DIR/root/ca.key" -set_serial 0x10 -days 3000 -sha256 \
		-extfile "$CA_DIR/int/ext.cnf" -out "$CA_DIR/int/ca.pem"
	_ca_conf "$CA_DIR/int"
	cp "$CA_DIR/root/ca.pem" "$CA_ROOT"
	cp "$CA_DIR/int/ca.pem" "$CA_INT"
	cat "$CA_ROOT" "$CA_INT" > "$CA_BUNDLE"
}

ca_other_init()
{
	_ca_make_root "$CA_DIR/other" "Other Root CA"
}

# ca_issue NAME TYPE CN [options]: see the top of the file.
ca_issue()
{
	local name=$1 type=$2 cn=$3 ku="digitalSignature,nonRepudiation" eku= start= end= ocsp=
	local ca=int dir=$T/keys dates=() uid= crl=
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--ku) ku=$2; shift ;;
		--eku) eku=$2; shift ;;
		--start) start=$2; shift ;;
		--end) end=$2; shift ;;
		--ocsp) ocsp=$2; shift ;;
		--crl) crl=$2; shift ;;
		--ca) ca=$2; shift ;;
		--uid) uid=$2; shift ;;
		*) bail_out "ca_issue: bad argument $1" ;;
		esac
		shift
	done
	_ca_genkey "$dir/$name.key" "$type"
	_ca_run "request for $name" openssl req -new -key "$dir/$name.key" -utf8 \
		-subj "/C=VN/O=Trường Kyso/CN=$cn${uid:+/UID=$uid}" -out "$dir/$name.csr"
	{
		echo "[leaf]"
		echo "basicConstraints = critical,CA:false"
		[ "$ku" != none ] && echo "keyUsage = critical,$ku"
		[ -n "$eku" ] && echo "extendedKeyUsage = $eku"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[ -n "$ocsp" ] && echo "authorityInfoAccess = OCSP;URI:$ocsp"
		[ -n "$crl" ] && echo "crlDistributionPoints = URI:$crl"
		[ "$eku" = OCSPSigning ] && echo "noCheck = ignored"
	} > "$dir/$name.ext"
	[ -n "$start" ] && dates+=(-startdate "$start")
	[ -n "$end" ] && dates+=(-enddate "$end")
	_ca_run "certificate for $name" openssl ca -batch -notext -config "$CA_DIR/$ca/ca.cnf" \
		-in "$dir/$name.csr" -out "$dir/$name.pem" -extfile "$dir/$name.ext" \
		-extensions leaf "${dates[@]}"
	openssl x509 -in "$dir/$name.pem" -outform DER -out "$dir/$name.der" ||
		bail_out "openssl x509 -outform DER failed"
	CERT_PEM[$name]=$dir/$name.pem
	CERT_DER[$name]=$dir/$name.der
	CERT_ID[$name]=$(openssl dgst -sha256 -r "$dir/$name.der" | cut -d' ' -f1)
	CERT_CN[$name]=$cn
	KEY_TYPE[$name]=$type
}

ca_revoke()
{
	_ca_run "revoking $1" openssl ca -config "$CA_DIR/int/ca.cnf" -revoke "$T/keys/$1.pem" \
		-crl_reason keyCompromise
}

ca_forget()
{
	local serial
	serial=$(openssl x509 -in "$T/keys/$1.pem" -noout -serial | cut -d= -f2)
	awk -F'\t' -v s="$serial" '$4 != s' "$CA_DIR/int/index.txt" > "$CA_DIR/int/index.new" &&
		mv "$CA_DIR/int/index.new" "$CA_DIR/int/index.txt"
}

ca_crl()
{
	_ca_run "CRL" openssl ca -config "$CA_DIR/int/ca.cnf" -gencrl -out "$1"
}

free_port()
{
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

CRL_SERVE_PID=

crl_serve_start()
{
	local dir=$1 port=$2 i
	"$PY" -u -m http.server --bind 127.0.0.1 --directory "$dir" "$port" \
		>>"$CA_DIR/http.log" 2>&1 &
	CRL_SERVE_PID=$!
	BG_PIDS+=("$CRL_SERVE_PID")
	for ((i = 0; i < 50; i++)); do
		"$PY" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null &&
			return 0
		kill -0 "$CRL_SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	bail_out "the CRL server does not listen: $(cat "$CA_DIR/http.log")"
}

crl_serve_stop()
{
	[ -n "$CRL_SERVE_PID" ] || return 0
	kill "$CRL_SERVE_PID" 2>/dev/null
	wait "$CRL_SERVE_PID" 2>/dev/null
	CRL_SERVE_PID=
}

crl_fetches()
{
	grep -c "\"GET /$1 HTTP" "$CA_DIR/http.log"
}

# ocsp_start PORT: the responder listening on PORT. A restart on the same port waits for the
# port to be free again (another process may hold it a while): the responder is started again
# until it listens, for up to 30 s.
ocsp_start()
{
	local port=$1 i try
	if [ ! -f "$T/keys/ocsp-responder.pem" ]; then
		ca_issue ocsp-responder p256 "Kyso Test OCSP Responder" --ku digitalSignature \
			--eku OCSPSigning
	fi
	for ((try = 0; try < 300; try++)); do
		openssl ocsp -index "$CA_DIR/int/index.txt" -port "$port" \
			-rsigner "$T/keys/ocsp-responder.pem" -rkey "$T/keys/ocsp-responder.key" \
			-CA "$CA_INT" -ignore_err >"$CA_DIR/ocsp.log" 2>&1 &
		OCSP_PID=$!
		BG_PIDS+=("$OCSP_PID")
		# (a probe connection that sends nothing would hold up this single-threaded responder)
		for ((i = 0; i < 300; i++)); do
			grep -q "waiting for OCSP client connections" "$CA_DIR/ocsp.log" && return 0
			kill -0 "$OCSP_PID" 2>/dev/null || break
			sleep 0.1
		done
		wait "$OCSP_PID" 2>/dev/null
		grep -Eqi 'in use|bind|setup of accept' "$CA_DIR/ocsp.log" || break
		sleep 0.1
	done
	bail_out "the OCSP responder does not listen on port $port: $(cat "$CA_DIR/ocsp.log")"
}

ocsp_stop()
{
	[ -n "$OCSP_PID" ] || return 0
	kill "$OCSP_PID" 2>/dev/null
	wait "$OCSP_PID" 2>/dev/null
	OCSP_PID=
}

tsa_init()
{
	local dir=$CA_DIR/tsa
	mkdir -p "$dir"
	ca_issue tsa p256 "Kyso Test Time-Stamp Authority" --ku digitalSignature \
		--eku critical,timeStamping
	cp "$T/keys/tsa.pem" "$T/keys/tsa.key" "$dir/"
	printf '01\n' > "$dir/serial"
	cat > "$dir/tsa.cnf" <<-EOF
	[tsa]
	default_tsa = tsa_ok
	[tsa_ok]
	dir = $dir
	serial = \$dir/serial
	crypto_device = builtin
	signer_cert = \$dir/tsa.pem
	certs = $CA_INT
	signer_key = \$dir/tsa.key
	signer_digest = sha256
	default_policy = 1.3.6.1.4.1.99999.1
	digests = sha256, sha384, sha512
	accuracy = secs:1
	ordering = yes
	tsa_name = yes
	ess_cert_id_chain = no
	ess_cert_id_alg = sha256
	[tsa_reject]
	dir = $dir
	serial = \$dir/serial
	crypto_device = builtin
	signer_cert = \$dir/tsa.pem
	signer_key = \$dir/tsa.key
	signer_digest = sha256
	default_policy = 1.3.6.1.4.1.99999.1
	digests = md5
	EOF
}

# tsa_start [MODE [PORT]]: as ocsp_start, a restart on the same port waits for it to be free.
tsa_start()
{
	local mode=${1:-ok} port=${2:-0} i try
	for ((try = 0; try < 300; try++)); do
		rm -f "$CA_DIR/tsa/port"
		: > "$CA_DIR/tsa/start.log"
		"$PY" "$KYSO_SRCDIR/tests/lib/tsa-server.py" "$CA_DIR/tsa/tsa.cnf" "$CA_DIR/tsa/port" \
			"$mode" "$port" 2>"$CA_DIR/tsa/start.log" &
		TSA_PID=$!
		BG_PIDS+=("$TSA_PID")
		for ((i = 0; i < 300; i++)); do
			[ -s "$CA_DIR/tsa/port" ] && break
			kill -0 "$TSA_PID" 2>/dev/null || break
			sleep 0.1
		done
		[ -s "$CA_DIR/tsa/port" ] && break
		wait "$TSA_PID" 2>/dev/null
		cat "$CA_DIR/tsa/start.log" >> "$CA_DIR/tsa/server.log"
		grep -q 'Address already in use' "$CA_DIR/tsa/start.log" || break
		sleep 0.1
	done
	[ -s "$CA_DIR/tsa/port" ] || bail_out "the test TSA did not start: $(cat "$CA_DIR/tsa/start.log")"
	TSA_URL=http://127.0.0.1:$(cat "$CA_DIR/tsa/port")/tsa
}

tsa_stop()
{
	[ -n "$TSA_PID" ] || return 0
	kill "$TSA_PID" 2>/dev/null
	wait "$TSA_PID" 2>/dev/null
	TSA_PID=
}

# make_ca_token LABEL NAME:ID...: a SoftHSM2 token with the named keys and certificates.
make_ca_token()
{
	local label=$1 arg
	shift
	_softhsm_conf
	softhsm2-util --init-token --free --label "$label" --pin 123456 --so-pin 12345678 \
		>"$T/softhsm/init-$label.log" 2>&1 ||
		bail_out "softhsm2-util --init-token $label failed: $(cat "$T/softhsm/init-$label.log")"
	for arg in "$@"; do
		_import "${arg%%:*}" "$label" "${arg#*:}" "${arg%%:*}"
	done
}

# ca_sub NAME CN [--ocsp URL] [--crl URL]: see the top of the file.
ca_sub()
{
	local name=$1 cn=$2 ocsp= crl= dir=$CA_DIR/$1
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--ocsp) ocsp=$2; shift ;;
		--crl) crl=$2; shift ;;
		*) bail_out "ca_sub: bad argument $1" ;;
		esac
		shift
	done
	mkdir -p "$dir"
	_ca_genkey "$dir/ca.key" p256
	_ca_run "sub-CA request $cn" openssl req -new -key "$dir/ca.key" -utf8 \
		-subj "/C=VN/O=Kyso Test/CN=$cn" -out "$dir/ca.csr"
	{
		echo "[sub]"
		echo "basicConstraints = critical,CA:true,pathlen:0"
		echo "keyUsage = critical,keyCertSign,cRLSign"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[ -n "$ocsp" ] && echo "authorityInfoAccess = OCSP;URI:$ocsp"
		[ -n "$crl" ] && echo "crlDistributionPoints = URI:$crl"
	} > "$dir/ext.cnf"
	_ca_run "sub-CA $cn" openssl ca -batch -notext -config "$CA_DIR/root/ca.cnf" \
		-in "$dir/ca.csr" -out "$dir/ca.pem" -extfile "$dir/ext.cnf" -extensions sub -days 3000
	_ca_conf "$dir"
}

# _ca_pem NAME|PEM: the certificate file of a name ca_issue or ca_sub made.
_ca_pem()
{
	if [ -f "$1" ]; then echo "$1"
	elif [ -f "$T/keys/$1.pem" ]; then echo "$T/keys/$1.pem"
	else echo "$CA_DIR/$1/ca.pem"
	fi
}

ca_revoke_in()
{
	local ca=$1 pem
	pem=$(_ca_pem "$2")
	_ca_run "revoking $2 in $ca" openssl ca -config "$CA_DIR/$ca/ca.cnf" -revoke "$pem" \
		${3:+-crl_reason "$3"}
}

ca_crl_of()
{
	_ca_run "CRL of $1" openssl ca -config "$CA_DIR/$1/ca.cnf" -gencrl -out "$2"
}

declare -A CA_OCSP_PID=()

ca_ocsp_start()
{
	local ca=$1 port=$2 i log=$CA_DIR/ocsp-$1.log
	if [ ! -f "$T/keys/ocsp-$ca.pem" ]; then
		ca_issue "ocsp-$ca" p256 "Kyso Test OCSP $ca" --ku digitalSignature \
			--eku OCSPSigning --ca "$ca"
	fi
	openssl ocsp -index "$CA_DIR/$ca/index.txt" -port "$port" \
		-rsigner "$T/keys/ocsp-$ca.pem" -rkey "$T/keys/ocsp-$ca.key" \
		-CA "$CA_DIR/$ca/ca.pem" -ignore_err >"$log" 2>&1 &
	CA_OCSP_PID[$ca]=$!
	BG_PIDS+=("$!")
	for ((i = 0; i < 50; i++)); do
		grep -q "waiting for OCSP client connections" "$log" && return 0
		kill -0 "${CA_OCSP_PID[$ca]}" 2>/dev/null || break
		sleep 0.1
	done
	bail_out "the OCSP responder of $ca does not listen: $(cat "$log")"
}

ca_ocsp_stop()
{
	local pid=${CA_OCSP_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	CA_OCSP_PID[$1]=
}
