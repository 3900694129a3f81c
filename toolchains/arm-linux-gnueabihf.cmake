# CMake toolchain file: cross-compile edgegen for 32-bit ARM Linux with NEON
# (32-bit Raspberry Pi OS on a Pi 2 v1.1, 3, Zero 2: ARMv7-A, hard float) on a
# Debian 12 x86-64 host and run the tests under qemu-arm.
#
#   cmake -G Ninja -S . -B build-armhf \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake \
#         [-DEDGEGEN_ARMHF_SYSROOT=/path/to/armhf-sysroot]
#   cmake --build build-armhf && ctest --test-dir build-armhf --output-on-failure
#
# Host packages: g++-arm-linux-gnueabihf qemu-user cmake ninja-build flatbuffers-compiler
# Dependency sysroot: toolchains/make-debian-sysroot.sh armhf DEST (Debian's
# armhf .debs unpacked, never a multiarch install); defaults to
# <build>/armhf-sysroot, created at configure time unless
# EDGEGEN_ARMHF_SYSROOT_AUTO=OFF.
#
# Code generation: Debian's armhf baseline is ARMv7-A with VFPv3-D16 and no
# NEON. A Pi 2 v1.1 or later has VFPv4 and NEON, so our code is compiled for
# -march=armv7-a -mfpu=neon-vfpv4 (NEON intrinsics allowed; the ABI is the
# same hard-float one as Debian's libraries, which XNNPACK's NEON kernels
# choose at run time). Not for the Pi 1 / Zero (ARMv6, Raspberry Pi OS's own
# armv6hf port). There is no dot product in ARMv7.

set(EDGEGEN_CROSS_PROCESSOR armv7l)
set(EDGEGEN_CROSS_TRIPLET arm-linux-gnueabihf)
set(EDGEGEN_CROSS_DEB_ARCH armhf)
set(EDGEGEN_CROSS_NAME ARMHF)
set(EDGEGEN_CROSS_QEMU qemu-arm)
set(CMAKE_C_FLAGS_INIT   "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
# -Wno-psabi: GCC's note that GCC 7.1 changed how some std::vector iterators
# are passed, on every use; nothing of ours crosses that ABI boundary.
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
