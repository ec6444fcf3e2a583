#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what is missing, builds kyso, and runs the demo: a SoftHSM2 token with an
# RSA-2048 and a P-256 key, kysod serving it, a record hash signed through the socket
# and the signature verified with openssl.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tests/install-deps.sh"
echo "kyso: building (see build/make.out)"
bash "$top/tests/build.sh" "$top/build"
KYSO_SRCDIR=$top KYSO_BUILDDIR=$top/build exec bash "$top/tests/lib/demo.sh"
