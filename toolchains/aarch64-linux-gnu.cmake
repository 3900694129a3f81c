# CMake toolchain file: cross-compile edgegen for aarch64 Linux (64-bit
# Raspberry Pi OS: Pi 3, 4, 5, Zero 2) on a Debian 12 x86-64 host and run the
# tests under qemu-aarch64.
#
#   cmake -G Ninja -S . -B build-aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake \
#         [-DEDGEGEN_AARCH64_SYSROOT=/path/to/aarch64-sysroot]
#   cmake --build build-aarch64 && ctest --test-dir build-aarch64 --output-on-failure
#
# Host packages: g++-aarch64-linux-gnu qemu-user cmake ninja-build flatbuffers-compiler
# Dependency sysroot (arm64 XNNPACK, cpuinfo, pthreadpool, FlatBuffers, doctest,
# spng, CLI11, nlohmann/json, unpacked from Debian .debs - no multiarch):
# toolchains/make-debian-sysroot.sh arm64 DEST. If EDGEGEN_AARCH64_SYSROOT is not
# given it defaults to <build>/aarch64-sysroot and, unless
# EDGEGEN_AARCH64_SYSROOT_AUTO=OFF, is created at configure time by running that
# script (idempotent; a few seconds, needs apt network access).
#
# libc / libstdc++ / libgcc come from the cross toolchain in /usr/aarch64-linux-gnu.
# NEON is the AArch64 baseline; the dot product is chosen at run time.

set(EDGEGEN_CROSS_PROCESSOR aarch64)
set(EDGEGEN_CROSS_TRIPLET aarch64-linux-gnu)
set(EDGEGEN_CROSS_DEB_ARCH arm64)
set(EDGEGEN_CROSS_NAME AARCH64)
set(EDGEGEN_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
