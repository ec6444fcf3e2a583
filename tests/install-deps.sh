#!/bin/bash
# Installs the Debian 12 packages kyso needs to build and test, when missing.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config
	libp11-dev libp11-kit-dev libssl-dev libmicrohttpd-dev libjansson-dev libinih-dev
	libassuan-dev libgpg-error-dev libpcsclite-dev libcurl4-openssl-dev libcmocka-dev
	softhsm2 opensc openssl curl python3 python3-cryptography ca-certificates util-linux procps valgrind
	pcscd vsmartcard-vpcd iproute2 poppler-utils xmlsec1
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "kyso: these packages are missing; install them as root:" >&2
	echo "  apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "kyso: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
