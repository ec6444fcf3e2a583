#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages, built and used as a user would: builds them with
# dpkg-buildpackage in a copy of the tree, checks them with lintian, installs them
# with apt, then runs the README's demo against the installed files (/usr/bin/kysod,
# /usr/libexec/kyso-p11, /usr/bin/kyso), builds a C program against libkyso-dev,
# imports python3-kyso, and checks the installed systemd user units.
#
#   bash tests/package.sh           as root on Debian 12 (installs what it needs)
#
# The packages are removed again at the end unless KYSO_PACKAGE_KEEP=1; the built
# .deb files are left in $KYSO_PACKAGE_OUT when that is set.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# the system's tools only (a python3 of pyenv or the like would build for itself)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
unset PYTHONPATH

step()
{
	printf '\n==> %s\n' "$*"
}

die()
{
	printf 'package test failed: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root: the packages are installed with apt"

# ---------------------------------------------------------------- tools
step "Packaging tools (tests/debian-packages-packaging) and the build dependencies"
mapfile -t tools < <(grep -v '^#' "$top/tests/debian-packages-packaging")
missing=()
for p in "${tools[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
(cd "$top" && dpkg-checkbuilddeps) || die "build dependencies missing (debian/control)"

W=$(mktemp -d "${TMPDIR:-/tmp}/kyso-package.XXXXXX")
INSTALLED=0
cleanup()
{
	if [ "$INSTALLED" = 1 ] && [ "${KYSO_PACKAGE_KEEP:-0}" != 1 ]; then
		apt-get purge -y -q kyso libkyso1 libkyso-dev python3-kyso >/dev/null 2>&1 || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
step "dpkg-buildpackage -us -uc -b in a copy of the tree ($W/src)"
mkdir "$W/src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# what git knows, with uncommitted changes (files deleted but still in git's
	# index are left out), without build directories
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | xargs -0 cp -a --parents -t "$W/src/") || die "cannot copy the tree"
else
	tar -C "$top" --exclude='./build*' --exclude='./fuzz' -cf - . | tar -C "$W/src" -xf -
fi
(cd "$W/src" && nice dpkg-buildpackage -us -uc -b >"$W/build.log" 2>&1) ||
	{ tail -40 "$W/build.log"; die "dpkg-buildpackage failed (the log is above)"; }
debs=()
for p in kyso libkyso1 libkyso-dev python3-kyso; do
	f=$(ls "$W"/${p}_*.deb 2>/dev/null | head -1)
	[ -n "$f" ] || die "no $p package was built"
	debs+=("$f")
	printf '    %s\n' "$(basename "$f")"
done

# ---------------------------------------------------------------- lintian
# Suppressed, and why:
#   initial-upload-closes-no-bugs  the first changelog entry closes no ITP bug:
#                                  the packages are not (yet) uploaded to Debian
# libkyso1 has no symbols file on purpose (lintian says so at info level only):
# libkyso's ABI changes before 1.0, and dh_makeshlibs -V makes programs depend on
# at least the version they were built with.
step "lintian (fails on errors and warnings)"
rc=0
lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs \
	"$W"/kyso_*.changes >"$W/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges' "$W/lintian.log" | sed 's/^/    /' || true
[ "$rc" = 0 ] || die "lintian found errors or warnings (above)"
echo "    no errors, no warnings"

# ---------------------------------------------------------------- install
step "apt-get install the four packages"
INSTALLED=1
apt-get install -y -q --no-install-recommends "${debs[@]}" >"$W/install.log" 2>&1 ||
	{ tail -20 "$W/install.log"; die "apt-get install failed"; }
for f in /usr/bin/kysod /usr/bin/kyso /usr/libexec/kyso-p11; do
	[ -x "$f" ] || die "$f is not installed"
done
for f in /usr/lib/systemd/user/kysod.socket /usr/lib/systemd/user/kysod.service \
	/usr/lib/udev/rules.d/70-kyso-tokens.rules /usr/share/kyso/tokens/softhsm2.conf \
	/usr/share/kyso/kysod.conf /usr/include/kyso/kyso.h; do
	[ -f "$f" ] || die "$f is not installed"
done
# manual pages are looked for in the packages: a minimal image may leave them out
contents=$(dpkg-deb -c "${debs[0]}")
for m in man1/kyso.1 man5/kysod.conf.5 man8/kysod.8 man8/kyso-p11.8; do
	grep -q "/usr/share/man/$m.gz\$" <<<"$contents" || die "kyso lacks $m"
done
printf '    %s\n' "$(kysod --version)"
# the postinst enables the socket for every user (deb-systemd-helper, no manager needed)
[ -L /etc/systemd/user/sockets.target.wants/kysod.socket ] ||
	die "kysod.socket is not enabled for the users (no link in /etc/systemd/user/sockets.target.wants)"
echo "    kysod.socket enabled for every user"
# kysod loads libcurl with dlopen (time-stamps, OCSP, CRLs): no shlibs dependency finds it
dpkg-query -W -f '${Depends}' kyso | grep -q 'libcurl4' ||
	die "kyso does not depend on libcurl4, which kysod loads when it first fetches"
# The build tree is gone: nothing below can use it.
rm -rf "$W/src"

# ---------------------------------------------------------------- the demo
step "The README's demo, against the installed files"
KYSO_INSTALLED=1 bash "$top/tests/lib/demo.sh" >"$W/demo.log" 2>&1 ||
	{ cat "$W/demo.log"; die "the demo failed against the installed packages"; }
grep -E 'kysod: |Verified|verified' "$W/demo.log" | sed 's/^ */    /'
grep -q 'kysod: /usr/bin/kysod, its helper: /usr/libexec/kyso-p11' "$W/demo.log" ||
	die "the demo did not run /usr/bin/kysod with /usr/libexec/kyso-p11"

# ---------------------------------------------------------------- libkyso-dev, python3-kyso
step "A C program built against libkyso-dev (pkg-config kyso)"
cat >"$W/client.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <kyso/kyso.h>

int main(void)
{
	struct kyso_client *c = kyso_client_new("/nonexistent/kyso.sock");
	int ok = c && !strcmp(kyso_client_socket(c), "/nonexistent/kyso.sock");

	printf("libkyso %s\n", kyso_version());
	kyso_client_free(c);
	return ok ? 0 : 1;
}
EOF
# shellcheck disable=SC2046
cc -Wall -Werror -o "$W/client" "$W/client.c" $(pkg-config --cflags --libs kyso) ||
	die "cannot build against libkyso-dev"
(cd / && "$W/client") || die "the program built against libkyso does not run"
ldd "$W/client" | grep -Eq 'libkyso\.so\.1 => (/usr)?/lib/[^ ]*/libkyso\.so\.1 ' ||
	die "the program is not linked with the installed libkyso.so.1"

step "python3-kyso"
where=$(cd / && python3 -c 'import kyso; print(kyso.__file__)') || die "cannot import kyso"
echo "    import kyso: $where"
case $where in
/usr/lib/python3/dist-packages/kyso/*) ;;
*) die "kyso was imported from $where, not from python3-kyso" ;;
esac

# ---------------------------------------------------------------- units
step "The installed systemd user units (tests/integration/t-units.sh)"
KYSO_UNIT_DIR=/usr/lib/systemd/user KYSO_SRCDIR=$top bash "$top/tests/integration/t-units.sh" \
	>"$W/units.log" 2>&1 || { cat "$W/units.log"; die "the installed units do not pass t-units.sh"; }
grep -E '^(# all|# →)' "$W/units.log" | sed 's/^/    /'

if [ -n "${KYSO_PACKAGE_OUT:-}" ]; then
	mkdir -p "$KYSO_PACKAGE_OUT"
	cp "$W"/*.deb "$W"/*.changes "$W"/*.buildinfo "$KYSO_PACKAGE_OUT/"
fi
printf '\nThe packages build, pass lintian, install, and run the demo.\n'
