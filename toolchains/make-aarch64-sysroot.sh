#!/usr/bin/env bash
# make-aarch64-sysroot.sh DEST [--force]: the arm64 dependency sysroot
# (kept for existing commands; see make-debian-sysroot.sh).
exec "$(dirname "$0")/make-debian-sysroot.sh" arm64 "$@"
