# CMake toolchain file: cross-compile edgegen for aarch64 Linux on a Debian 12
# x86-64 host and run the tests under qemu-aarch64.
#
#   cmake -G Ninja -S . -B build-aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake \
#         [-DEDGEGEN_AARCH64_SYSROOT=/path/to/aarch64-sysroot]
#   cmake --build build-aarch64 && ctest --test-dir build-aarch64 --output-on-failure
#
# Host packages: g++-aarch64-linux-gnu qemu-user cmake ninja-build flatbuffers-compiler
# Dependency sysroot (arm64 XNNPACK, cpuinfo, pthreadpool, FlatBuffers, doctest,
# unpacked from Debian .debs - no multiarch): toolchains/make-aarch64-sysroot.sh.
# If EDGEGEN_AARCH64_SYSROOT is not given it defaults to <build>/aarch64-sysroot
# and, unless EDGEGEN_AARCH64_SYSROOT_AUTO=OFF, is created at configure time by
# running that script (idempotent; a few seconds, needs apt network access).
#
# libc / libstdc++ / libgcc come from the cross toolchain in /usr/aarch64-linux-gnu.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(EDGEGEN_AARCH64_TRIPLET aarch64-linux-gnu)
set(EDGEGEN_AARCH64_TOOLCHAIN_ROOT /usr/${EDGEGEN_AARCH64_TRIPLET})

set(CMAKE_C_COMPILER   ${EDGEGEN_AARCH64_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEGEN_AARCH64_TRIPLET}-g++)
# Debian multiarch library subdir (<prefix>/lib/aarch64-linux-gnu); CMake does not
# always infer it for cross compilers, and find_library/find_package need it.
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEGEN_AARCH64_TRIPLET})

# ---- dependency sysroot -------------------------------------------------------------
# try_compile() projects re-read this file in a different binary dir; forward the
# resolved value so they use the same sysroot (and do not try to create one).
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEGEN_AARCH64_SYSROOT)
get_property(_edgegen_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)

if(NOT EDGEGEN_AARCH64_SYSROOT AND DEFINED ENV{EDGEGEN_AARCH64_SYSROOT})
  set(EDGEGEN_AARCH64_SYSROOT "$ENV{EDGEGEN_AARCH64_SYSROOT}")
endif()
if(NOT EDGEGEN_AARCH64_SYSROOT)
  set(EDGEGEN_AARCH64_SYSROOT "${CMAKE_BINARY_DIR}/aarch64-sysroot")
endif()
set(EDGEGEN_AARCH64_SYSROOT "${EDGEGEN_AARCH64_SYSROOT}" CACHE PATH
    "arm64 dependency sysroot (unpacked Debian arm64 .debs, see toolchains/make-aarch64-sysroot.sh)")
option(EDGEGEN_AARCH64_SYSROOT_AUTO
       "Create EDGEGEN_AARCH64_SYSROOT with make-aarch64-sysroot.sh if it is missing" ON)
get_filename_component(EDGEGEN_AARCH64_SYSROOT "${EDGEGEN_AARCH64_SYSROOT}" ABSOLUTE)

if(NOT EXISTS "${EDGEGEN_AARCH64_SYSROOT}/.edgegen-sysroot.stamp")
  if(EDGEGEN_AARCH64_SYSROOT_AUTO AND NOT _edgegen_in_try_compile)
    message(STATUS "aarch64: creating dependency sysroot ${EDGEGEN_AARCH64_SYSROOT}")
    execute_process(
      COMMAND "${CMAKE_CURRENT_LIST_DIR}/make-aarch64-sysroot.sh" "${EDGEGEN_AARCH64_SYSROOT}"
      RESULT_VARIABLE _edgegen_rc)
    if(NOT _edgegen_rc EQUAL 0)
      message(FATAL_ERROR "aarch64: make-aarch64-sysroot.sh failed (${_edgegen_rc}); see the messages above")
    endif()
  else()
    message(FATAL_ERROR
      "aarch64: EDGEGEN_AARCH64_SYSROOT='${EDGEGEN_AARCH64_SYSROOT}' is not a complete sysroot "
      "(no .edgegen-sysroot.stamp). Create it with:\n"
      "  ${CMAKE_CURRENT_LIST_DIR}/make-aarch64-sysroot.sh ${EDGEGEN_AARCH64_SYSROOT}")
  endif()
endif()

set(EDGEGEN_AARCH64_SYSROOT_LIBDIR "${EDGEGEN_AARCH64_SYSROOT}/usr/lib/${EDGEGEN_AARCH64_TRIPLET}")

# ---- find_* -------------------------------------------------------------------------
# Search only the arm64 sysroot and the cross libc root for libraries, headers and
# CMake packages; never the host's /usr (x86-64 XNNPACK etc.). Programs (flatc,
# python, ...) come from the host.
set(CMAKE_FIND_ROOT_PATH "${EDGEGEN_AARCH64_SYSROOT}" "${EDGEGEN_AARCH64_TOOLCHAIN_ROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the sysroot's .pc files, with their /usr prefix re-rooted.
set(ENV{PKG_CONFIG_LIBDIR} "${EDGEGEN_AARCH64_SYSROOT_LIBDIR}/pkgconfig:${EDGEGEN_AARCH64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGEGEN_AARCH64_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# ---- compiling / linking ------------------------------------------------------------
# Debian's cross g++ also searches the host's /usr/include (after its own
# /usr/aarch64-linux-gnu/include). Put the sysroot's headers in front of it for
# every target, so e.g. <xnnpack.h> or <flatbuffers/flatbuffers.h> always come
# from the arm64 packages even where a target forgets to add an include dir.
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES   "${EDGEGEN_AARCH64_SYSROOT}/usr/include")
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${EDGEGEN_AARCH64_SYSROOT}/usr/include")

# -L: plain `-lXNNPACK` works as natively. -rpath-link: lets ld resolve the
# DT_NEEDED entries of sysroot libraries (libXNNPACK.so.0 -> libcpuinfo.so.0,
# libpthreadpool.so.0), which are not in the cross linker's default paths.
set(_edgegen_ldflags "-L${EDGEGEN_AARCH64_SYSROOT_LIBDIR} -Wl,-rpath-link,${EDGEGEN_AARCH64_SYSROOT_LIBDIR}")
set(CMAKE_EXE_LINKER_FLAGS_INIT    "${_edgegen_ldflags}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_edgegen_ldflags}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_edgegen_ldflags}")
unset(_edgegen_ldflags)

# ---- running (ctest, add_custom_command with target executables, doctest discovery) ---
# -L: ELF interpreter + libc/libstdc++ from the cross toolchain root.
# -E LD_LIBRARY_PATH: the sysroot's shared libs (XNNPACK, cpuinfo, pthreadpool, flatbuffers).
find_program(EDGEGEN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static
             DOC "qemu user-mode emulator used to run aarch64 binaries on the host")
if(EDGEGEN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${EDGEGEN_QEMU_AARCH64}"
      -L "${EDGEGEN_AARCH64_TOOLCHAIN_ROOT}"
      -E "LD_LIBRARY_PATH=${EDGEGEN_AARCH64_SYSROOT_LIBDIR}")
elseif(NOT _edgegen_in_try_compile)
  message(WARNING "aarch64: qemu-aarch64 not found (apt-get install qemu-user); "
                  "cross-built tests cannot be run with ctest")
endif()
