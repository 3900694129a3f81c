#!/usr/bin/env bash
# make-debian-sysroot.sh ARCH DEST [--force]      ARCH: arm64 or armhf
#
# Builds a small "dependency sysroot" for cross-compiling edgegen to
# aarch64-linux-gnu (arm64: 64-bit Raspberry Pi OS) or arm-linux-gnueabihf
# (armhf: 32-bit Raspberry Pi OS) on a Debian 12 (bookworm) x86-64 host,
# WITHOUT enabling dpkg multiarch (no `dpkg --add-architecture`, nothing is
# installed: a multiarch install of libxnnpack0:armhf would replace the
# host's XNNPACK and remove what depends on it).
#
# It uses a private, throw-away apt state (lists, cache, status) configured for
# ARCH but pointing at the host's own apt sources (same Debian mirrors, same
# keyrings), downloads the ARCH .debs with `apt-get download` and unpacks
# them with `dpkg-deb -x` into DEST.  Result (TRIPLET: aarch64-linux-gnu or
# arm-linux-gnueabihf):
#
#   DEST/usr/include/{xnnpack.h,cpuinfo.h,pthreadpool.h,flatbuffers/,doctest/,spng.h,CLI/,nlohmann/}
#   DEST/usr/lib/TRIPLET/{libXNNPACK,libcpuinfo,libpthreadpool,libflatbuffers,libspng,libz}.so*
#   DEST/usr/lib/cmake/{cpuinfo,doctest}/, DEST/usr/lib/TRIPLET/cmake/flatbuffers/
#
# libspng/zlib, CLI11 and nlohmann/json are for the edgegen command line
# (cli/), which cross-builds without the converter.
#
# libc/libstdc++/libgcc come from the cross toolchain (/usr/TRIPLET, packages
# g++-aarch64-linux-gnu / g++-arm-linux-gnueabihf), not from here.
#
# Idempotent: if DEST already holds a complete sysroot for the same package
# list (stamp file DEST/.edgegen-sysroot.stamp) it does nothing.  --force
# rebuilds.  DEST is replaced as a whole (built in a staging dir next to it
# and renamed), so do not point it at a directory holding anything else.
#
# Environment:
#   EDGEGEN_APT_SOURCES  a sources file (.list or .sources) to use instead of
#                        the host's /etc/apt/sources.list{,.d}.
#
# Only apt's own network access is used (the configured Debian mirrors).

set -euo pipefail

readonly STAMP_FORMAT=2

# Packages unpacked into the sysroot.  flatbuffers-compiler{,-dev} (which
# libflatbuffers-dev depends on) are deliberately left out: the target flatc is
# useless on the host, and FlatcTargets.cmake from flatbuffers-compiler-dev
# would make find_package(FlatBuffers) fail because it references a target
# bin/flatc that is not there.  Use the host's /usr/bin/flatc instead.
readonly PACKAGES=(
  libxnnpack-dev libxnnpack0
  libcpuinfo-dev libcpuinfo0
  libpthreadpool-dev libpthreadpool0
  libflatbuffers-dev libflatbuffers2
  doctest-dev
  libspng-dev libspng0 zlib1g-dev zlib1g
  libcli11-dev nlohmann-json3-dev
)
# Dependencies satisfied by the cross toolchain or intentionally skipped.
readonly PROVIDED_OR_SKIPPED=(
  libc6 libgcc-s1 libstdc++6 gcc-12-base
  flatbuffers-compiler flatbuffers-compiler-dev
  # libc6-dev (zlib1g-dev depends on it) and what it pulls in: the cross
  # toolchain has the C library's headers and libraries.
  libc6-dev libc-dev-bin linux-libc-dev libcrypt-dev libcrypt1 libnsl-dev libnsl2
  libtirpc-dev libtirpc3 libtirpc-common rpcsvc-proto libssl3 libcom-err2
  libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0
)

die()  { echo "make-debian-sysroot: ERROR: $*" >&2; exit 1; }
note() { echo "make-debian-sysroot: $*" >&2; }

usage() {
  echo "usage: $0 arm64|armhf DEST [--force]" >&2
  echo "  Downloads XNNPACK/cpuinfo/pthreadpool/FlatBuffers/doctest/spng .debs of ARCH via apt" >&2
  echo "  and unpacks them into DEST (no multiarch, nothing installed)." >&2
  exit 2
}

ARCH=""
DEST=""
FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $a" >&2; usage ;;
    *) if [[ -z "$ARCH" ]]; then ARCH="$a"; else [[ -z "$DEST" ]] || usage; DEST="$a"; fi ;;
  esac
done
[[ -n "$DEST" ]] || usage
# TRIPLET: Debian's multiarch directory; MACHINE: ELF e_machine bytes 18-19
# (little endian) of its libraries.
case "$ARCH" in
  arm64) TRIPLET=aarch64-linux-gnu;   MACHINE=b700; MACHINE_NAME=AArch64 ;;
  armhf) TRIPLET=arm-linux-gnueabihf; MACHINE=2800; MACHINE_NAME=ARM ;;
  *) echo "unknown architecture '$ARCH' (arm64 or armhf)" >&2; usage ;;
esac
readonly ARCH TRIPLET MACHINE MACHINE_NAME

for tool in apt-get apt-cache dpkg-deb od realpath; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (this script needs a Debian/Ubuntu host with apt and dpkg)"
done

DEST="$(realpath -m -- "$DEST")"
[[ "$DEST" != "/" ]] || die "refusing to use / as DEST"
STAMP="$DEST/.edgegen-sysroot.stamp"
REQUEST="format=$STAMP_FORMAT arch=$ARCH packages=$(printf '%s\n' "${PACKAGES[@]}" | sort | tr '\n' ' ')"

if [[ $FORCE -eq 0 && -f "$STAMP" ]] && [[ "$(head -n1 "$STAMP")" == "$REQUEST" ]]; then
  note "sysroot already complete: $DEST (delete it or pass --force to rebuild)"
  exit 0
fi

t_start=$(date +%s)
mkdir -p "$(dirname "$DEST")" || die "cannot create parent directory of $DEST"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgegen-$ARCH-apt.XXXXXX")"
STAGING="$DEST.staging.$$"
cleanup() { rm -rf "$WORK" "$STAGING"; }
trap cleanup EXIT
chmod 755 "$WORK"   # apt's download sandbox user (_apt) must be able to enter it

mkdir -p "$WORK/state/lists/partial" "$WORK/cache/archives/partial" \
         "$WORK/etc/sources.list.d" "$WORK/etc/preferences.d" "$WORK/debs"
: > "$WORK/state/status"    # empty dpkg status: we install nothing

if [[ -n "${EDGEGEN_APT_SOURCES:-}" ]]; then
  [[ -f "$EDGEGEN_APT_SOURCES" ]] || die "EDGEGEN_APT_SOURCES=$EDGEGEN_APT_SOURCES is not a file"
  case "$EDGEGEN_APT_SOURCES" in
    *.sources) cp -- "$EDGEGEN_APT_SOURCES" "$WORK/etc/sources.list.d/custom.sources"
               SRC_LIST="$WORK/etc/sources.list"; SRC_PARTS="$WORK/etc/sources.list.d" ;;
    *)         SRC_LIST="$EDGEGEN_APT_SOURCES"; SRC_PARTS="$WORK/etc/sources.list.d" ;;
  esac
else
  # The host's own apt sources (same mirrors and Signed-By keyrings).
  SRC_LIST="/etc/apt/sources.list"
  SRC_PARTS="/etc/apt/sources.list.d"
fi

APT_OPTS=(
  -o "APT::Architecture=$ARCH"
  -o "APT::Architectures::=$ARCH"
  -o "Dir::State=$WORK/state"
  -o "Dir::State::status=$WORK/state/status"
  -o "Dir::Cache=$WORK/cache"
  -o "Dir::Cache::pkgcache=$WORK/cache/pkgcache.bin"      # host configs (docker-clean) often
  -o "Dir::Cache::srcpkgcache=$WORK/cache/srcpkgcache.bin" # disable these; re-parsing is slow
  -o "Dir::Etc::sourcelist=$SRC_LIST"
  -o "Dir::Etc::sourceparts=$SRC_PARTS"
  -o "Dir::Etc::preferencesparts=$WORK/etc/preferences.d"
  -o "Debug::NoLocking=1"          # private state dir: no need for the system apt/dpkg locks
  -o "APT::Get::List-Cleanup=0"
)

note "updating private $ARCH package lists (sources: $SRC_LIST, $SRC_PARTS)"
# One retry: a mirror being synced serves an index of the wrong size for a
# moment. If a source still fails but others gave package lists, the
# packages are looked for in those (the checks below fail if one is missing).
if ! apt-get "${APT_OPTS[@]}" -q update > "$WORK/update.log" 2>&1 &&
   ! { sleep 2; apt-get "${APT_OPTS[@]}" -q update > "$WORK/update.log" 2>&1; }; then
  if ! compgen -G "$WORK/state/lists/*_Packages*" > /dev/null; then
    cat "$WORK/update.log" >&2
    die "apt-get update for $ARCH failed (network/mirror problem?). Set EDGEGEN_APT_SOURCES to a sources file with a reachable Debian bookworm mirror."
  fi
fi
if grep -qE '^(E:|W: Failed to fetch)' "$WORK/update.log"; then
  grep -E '^(E:|W:)' "$WORK/update.log" >&2 || true
  note "warning: some apt sources could not be fetched for $ARCH (see above); continuing"
fi

# --- dependency closure check ------------------------------------------------
in_list() { local x="$1"; shift; local y; for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done; return 1; }

found="$(apt-cache "${APT_OPTS[@]}" --no-all-versions show "${PACKAGES[@]}" 2>/dev/null \
          | sed -n 's/^Package: //p' | sort -u)" || true
for p in "${PACKAGES[@]}"; do
  grep -qx -- "$p" <<< "$found" || \
    die "package '$p' not found for $ARCH in the configured sources (is 'main' of Debian bookworm enabled, and not restricted with [arch=amd64]?)"
done

closure="$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
             --no-conflicts --no-breaks --no-replaces --no-enhances "${PACKAGES[@]}" \
           | grep -v '^[[:space:]]' | grep -v '^<' | sed 's/:.*$//' | sort -u)" \
  || die "apt-cache depends failed"
EXTRA=()
while IFS= read -r p; do
  [[ -z "$p" ]] && continue
  in_list "$p" "${PACKAGES[@]}" && continue
  in_list "$p" "${PROVIDED_OR_SKIPPED[@]}" && continue
  EXTRA+=("$p")
done <<< "$closure"
if [[ ${#EXTRA[@]} -gt 0 ]]; then
  note "NOTE: dependency closure contains packages not in the known list; adding them: ${EXTRA[*]}"
fi
ALL=("${PACKAGES[@]}" "${EXTRA[@]}")

# --- download ----------------------------------------------------------------
if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
  chown _apt "$WORK/debs" 2>/dev/null || true   # lets apt keep its download sandbox
fi
note "downloading ${#ALL[@]} $ARCH packages: ${ALL[*]}"
if ! (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" -q download "${ALL[@]}") > "$WORK/download.log" 2>&1; then
  cat "$WORK/download.log" >&2
  die "apt-get download failed"
fi

shopt -s nullglob
debs=("$WORK"/debs/*.deb)
[[ ${#debs[@]} -eq ${#ALL[@]} ]] || { ls -l "$WORK/debs" >&2; die "expected ${#ALL[@]} .debs, got ${#debs[@]}"; }

# --- unpack --------------------------------------------------------------------
rm -rf "$STAGING"
mkdir -p "$STAGING"
MANIFEST=""
for d in "${debs[@]}"; do
  arch="$(dpkg-deb -f "$d" Architecture)"
  [[ "$arch" == "$ARCH" || "$arch" == "all" ]] || die "$(basename "$d") has Architecture '$arch', expected $ARCH or all"
  dpkg-deb -x "$d" "$STAGING" || die "dpkg-deb -x failed for $d"
  MANIFEST+="$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version) $arch"$'\n'
done

# Absolute symlinks would point into the host's /; make them relative to the sysroot.
while IFS= read -r -d '' l; do
  tgt="$(readlink "$l")"
  if [[ "$tgt" == /* ]]; then
    ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$STAGING$tgt")" "$l"
  fi
done < <(find "$STAGING" -type l -print0)

# --- sanity checks ---------------------------------------------------------------
LIBDIR="usr/lib/$TRIPLET"
for f in usr/include/xnnpack.h usr/include/cpuinfo.h usr/include/pthreadpool.h \
         usr/include/flatbuffers/flatbuffers.h usr/include/doctest/doctest.h \
         "$LIBDIR/libXNNPACK.so" "$LIBDIR/libcpuinfo.so" "$LIBDIR/libpthreadpool.so" \
         "$LIBDIR/libflatbuffers.so" "$LIBDIR/libclog.a" usr/include/spng.h "$LIBDIR/libspng.so" \
         "$LIBDIR/libz.so" usr/include/CLI/CLI.hpp usr/include/nlohmann/json.hpp \
         usr/lib/cmake/cpuinfo/cpuinfo-config.cmake usr/lib/cmake/doctest/doctestConfig.cmake \
         "$LIBDIR/cmake/flatbuffers/FlatBuffersConfig.cmake"; do
  [[ -e "$STAGING/$f" ]] || die "expected file missing after unpack: $f (Debian package layout changed?)"
done
mach="$(od -An -tx1 -j18 -N2 "$(realpath "$STAGING/$LIBDIR/libXNNPACK.so")" | tr -d ' \n')"
[[ "$mach" == "$MACHINE" ]] || die "libXNNPACK.so is not an $MACHINE_NAME ELF (e_machine bytes: $mach)"

# Host flatc must match the $ARCH FlatBuffers headers (generated code static_asserts the version).
if command -v flatc >/dev/null 2>&1; then
  host_flatc="$(flatc --version 2>/dev/null | awk '{print $NF}')"
  fb_ver="$(awk '$1=="libflatbuffers-dev"{print $2}' <<< "$MANIFEST")"
  case "$fb_ver" in
    "$host_flatc"*) ;;
    *) note "warning: host flatc is '$host_flatc' but $ARCH libflatbuffers-dev is '$fb_ver'; generated headers may not compile" ;;
  esac
else
  note "note: host 'flatc' not found (apt-get install flatbuffers-compiler) - needed to generate schema headers"
fi

{
  echo "$REQUEST"
  echo "# created $(date -u +%Y-%m-%dT%H:%M:%SZ) by $(basename "$0")"
  printf '%s' "$MANIFEST" | sort
} > "$STAGING/.edgegen-sysroot.stamp.tmp"

# --- install atomically ------------------------------------------------------------
rm -rf "$DEST"
mv "$STAGING" "$DEST"
mv "$DEST/.edgegen-sysroot.stamp.tmp" "$STAMP"   # stamp last: marks completeness

t_end=$(date +%s)
note "done in $((t_end - t_start))s: $DEST"
printf '%s' "$MANIFEST" | sort | sed 's/^/  /' >&2
