#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian 12 packages kyso needs to build and test, when missing.
set -euo pipefail

mapfile -t packages < <(grep -v '^#' "$(dirname "$0")/debian-packages")

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
apt-get install -y -q "${missing[@]}"
