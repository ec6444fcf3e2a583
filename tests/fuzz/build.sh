#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer harnesses (tests/fuzz/fuzz-*.c) with clang, ASan and
# UBSan, out of tree: bash tests/fuzz/build.sh [OUT_DIR]   (default build-fuzz)
#
# kysod's sources (all of src/common, src/kysod but main.c, drivers/tokens and
# drivers/pcsc) go into one archive that every harness links; a generated
# Makefile rebuilds only what changed. Needs clang and libclang-rt-14-dev.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-fuzz}
CC=${CC_FUZZ:-clang}

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# libFuzzer is there: link an empty harness
cat >"$out/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return 0; }
EOF
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$out/probe" "$out/probe.c" 2>"$out/probe.err"; then
	cat "$out/probe.err" >&2
	echo "fuzz: $CC cannot link libFuzzer (apt-get install libclang-rt-14-dev)" >&2
	exit 1
fi

version=$(sed -n 's/^AC_INIT(\[kyso\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
printf '#define PACKAGE_VERSION "%s"\n' "${version:-0}" >"$out/config.h.new"
cmp -s "$out/config.h.new" "$out/config.h" || mv "$out/config.h.new" "$out/config.h"
rm -f "$out/config.h.new"

libs="libcrypto jansson libmicrohttpd inih libassuan gpg-error libpcsclite libcurl"
cd "$top"
core=$(ls src/common/*.c src/kysod/*.c drivers/tokens/*.c drivers/pcsc/*.c | grep -v '^src/kysod/main\.c$')
harnesses=$(ls tests/fuzz/fuzz-*.c)

{
	echo "CC = $CC"
	echo "TOP = $top"
	echo "SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	echo "CPPFLAGS = -I\$(TOP)/include -I\$(TOP)/src -I\$(TOP)/drivers -I$out" \
		"-D_GNU_SOURCE -DOPENSSL_API_COMPAT=0x10100000L -DSYSCONFDIR='\"/etc\"'" \
		"-DLIBEXECDIR='\"/usr/libexec/kyso\"' -DKYSO_TOKENS_DIR='\"/usr/share/kyso/tokens\"'" \
		"$(pkg-config --cflags $libs)"
	echo "CFLAGS = -g -O1 -pthread -Wall -Wextra -Wno-unused-parameter \$(SAN) -fsanitize=fuzzer-no-link"
	echo "HFLAGS = -g -O1 -pthread -Wall -Wextra -Wno-unused-parameter -Werror \$(SAN) -fsanitize=fuzzer-no-link"
	echo "LIBS = $(pkg-config --libs $libs) -lpthread -ldl"
	printf 'CORE_OBJS ='
	for f in $core; do printf ' obj/%s' "${f%.c}.o"; done
	echo
	printf 'HARNESSES ='
	for f in $harnesses; do printf ' %s' "$(basename "${f%.c}")"; done
	echo
	cat <<'EOF'
all: $(HARNESSES)
obj/%.o: $(TOP)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<
libkyso-fuzz.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^
fuzz-%: $(TOP)/tests/fuzz/fuzz-%.c libkyso-fuzz.a
	$(CC) $(CPPFLAGS) $(HFLAGS) -fsanitize=fuzzer -MMD -MP -MF obj/$@.d -o $@ $< libkyso-fuzz.a $(LIBS)
-include $(CORE_OBJS:.o=.d) $(HARNESSES:%=obj/%.d)
.PHONY: all
EOF
} >"$out/Makefile.new"
cmp -s "$out/Makefile.new" "$out/Makefile" || mv "$out/Makefile.new" "$out/Makefile"
rm -f "$out/Makefile.new"
make -C "$out" -j"$(nproc)" >"$out/make.out" 2>&1 || { tail -40 "$out/make.out" >&2; exit 1; }
echo "fuzz: harnesses built in $out"
