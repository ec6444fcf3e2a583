#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds kyso out of tree: tests/build.sh BUILD_DIR [configure options…]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$1
shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	./autogen.sh >/dev/null
fi
mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" --enable-werror "$@" >configure.out
fi
make -j"$(nproc)" >make.out 2>&1 || { tail -40 make.out; exit 1; }
