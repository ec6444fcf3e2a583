#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The API reference stays true to the code: every error code kysod can answer
# (the table in src/common/errors.h) is in docs/api.md's table and in docs/openapi.yaml's Error
# schema, with the same HTTP status in api.md; every route kysod serves
# (src/kysod/router.c) is in both; the OpenAPI file is sound OpenAPI 3.1 and describes every
# event kind kysod sends as one of its webhooks.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/tap.sh"

ERRORS=$KYSO_SRCDIR/src/common/errors.h
ROUTER=$KYSO_SRCDIR/src/kysod/router.c
API=$KYSO_SRCDIR/docs/api.md
OPENAPI=$KYSO_SRCDIR/docs/openapi.yaml
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

mapfile -t codes < <(sed -n 's/^\tX([A-Z_]*, "\([a-z_]*\)", \([0-9]*\), .*$/\1 \2/p' "$ERRORS")
ok $(( ${#codes[@]} > 20 ? 0 : 1 )) "errors.h lists the error codes (${#codes[@]})"
for entry in "${codes[@]}"; do
	code=${entry% *}
	status=${entry#* }
	grep -Eq "^\| \`$code\` \| $status \|" "$API"
	ok $? "api.md: $code with status $status"
done
enum=$("$PY" -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print(" ".join(d["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]))
' "$OPENAPI" 2>&1)
ok $? "openapi.yaml parses and has the Error schema's code list"
for entry in "${codes[@]}"; do
	code=${entry% *}
	case " $enum " in
	*" $code "*) pass "openapi.yaml: $code" ;;
	*) fail "openapi.yaml: $code" ;;
	esac
done

mapfile -t routes < <(sed -n 's/^\t{ "\([A-Z]*\)", "\([^"]*\)", api_[a-z_]* },$/\1 \2/p' "$ROUTER")
ok $(( ${#routes[@]} > 5 ? 0 : 1 )) "router.c lists the routes (${#routes[@]})"
for entry in "${routes[@]}"; do
	method=${entry% *}
	path=${entry#* }
	doc=$(printf '%s' "$path" | sed 's|/\*$|/{|')
	grep -Fq "$method $doc" "$API"
	ok $? "api.md documents $method $path"
	"$PY" -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
method, path = sys.argv[2].lower(), sys.argv[3]
for p, ops in d["paths"].items():
    if (p == path or (path.endswith("/*") and p.startswith(path[:-1]) and "{" in p)) and method in ops:
        sys.exit(0)
sys.exit(1)
' "$OPENAPI" "$method" "$path"
	ok $? "openapi.yaml documents $method $path"
done
# The document is sound OpenAPI 3.1 (references resolve, schemas are JSON Schema 2020-12),
# and every event kind kysod sends is one of its webhooks.
hooks=$("$PY" "$KYSO_SRCDIR/tests/lib/openapi-check.py" --self-check "$OPENAPI" 2>&1)
ok $? "openapi.yaml: OpenAPI 3.1, every \$ref resolves, every schema is valid"
[ -n "$hooks" ] || diag "$hooks"
mapfile -t kinds < <({
	sed -n '/static const char \*const names\[\] = {/,/};/p' "$KYSO_SRCDIR/src/kysod/main.c"
	grep -hE 'events_publish(_owned)?\(|notify\(inv,' "$KYSO_SRCDIR"/src/kysod/*.c
} | grep -oE '"[a-z]+-[a-z]+"' | tr -d '"' | sort -u)
ok $(( ${#kinds[@]} >= 10 ? 0 : 1 )) "kysod's event kinds found in its sources (${#kinds[@]})"
for kind in "${kinds[@]}"; do
	case " $hooks " in
	*" $kind "*) pass "openapi.yaml: webhooks describes the event $kind" ;;
	*) fail "openapi.yaml: webhooks describes the event $kind" ;;
	esac
done
# ---------------------------------------------------------------- licence
# Every source, script, build, configuration and documentation file names its licence;
# data without comments (JSON, the fuzz corpora, the export list) is covered by COPYING.
if git -C "$KYSO_SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t unlabelled < <(git -C "$KYSO_SRCDIR" ls-files |
		grep -vE '(^|/)corpus/|^debian/|\.json$|^COPYING$|/LICENSE$|\.sym$' |
		while read -r f; do
			grep -q 'SPDX-License-Identifier: ' "$KYSO_SRCDIR/$f" 2>/dev/null || echo "$f"
		done)
	is "${#unlabelled[@]}" 0 "every source file has an SPDX-License-Identifier line"
	[ "${#unlabelled[@]}" = 0 ] || diag "    without: ${unlabelled[*]:0:20}"
	is "$(cd "$KYSO_SRCDIR" && git ls-files | grep -vE '^clients/js/|(^|/)corpus/' |
		xargs grep -h 'SPDX-License-Identifier: ' 2>/dev/null |
		grep -oE 'Identifier: [A-Za-z0-9.+-]+' | sort -u)" \
		"Identifier: LGPL-2.1-or-later" "outside clients/js every file is LGPL-2.1-or-later"
	is "$(head -n 1 "$KYSO_SRCDIR/COPYING" | tr -s ' ' | sed 's/^ //')" \
		"GNU LESSER GENERAL PUBLIC LICENSE" "COPYING holds the LGPL"
else
	skip 3 "not a git checkout: the files of the project cannot be listed"
fi

done_testing
