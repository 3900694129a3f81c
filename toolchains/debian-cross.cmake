# Shared part of the Linux cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake): not a toolchain file by itself. The including
# file sets, before include():
#   EDGEGEN_CROSS_PROCESSOR  CMAKE_SYSTEM_PROCESSOR (aarch64, armv7l)
#   EDGEGEN_CROSS_TRIPLET    compiler prefix and Debian multiarch dir (aarch64-linux-gnu)
#   EDGEGEN_CROSS_DEB_ARCH   Debian architecture of the sysroot's packages (arm64, armhf)
#   EDGEGEN_CROSS_NAME       prefix of the cache variables (AARCH64 -> EDGEGEN_AARCH64_SYSROOT)
#   EDGEGEN_CROSS_QEMU       qemu-user emulator (qemu-aarch64, qemu-arm)
# Every path below is the same for both; see toolchains/README.md.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${EDGEGEN_CROSS_PROCESSOR})

set(_edgegen_toolchain_root /usr/${EDGEGEN_CROSS_TRIPLET})

set(CMAKE_C_COMPILER   ${EDGEGEN_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEGEN_CROSS_TRIPLET}-g++)
# Debian multiarch library subdir (<prefix>/lib/<triplet>); CMake does not
# always infer it for cross compilers, and find_library/find_package need it.
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEGEN_CROSS_TRIPLET})

# ---- dependency sysroot -------------------------------------------------------------
# EDGEGEN_<NAME>_SYSROOT (cache, or the environment variable of that name):
# the unpacked .debs. try_compile() projects re-read this file in a different
# binary dir; forward the resolved value so they use the same sysroot (and do
# not try to create one).
set(_edgegen_var EDGEGEN_${EDGEGEN_CROSS_NAME}_SYSROOT)
string(TOLOWER "${EDGEGEN_CROSS_NAME}" _edgegen_name)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ${_edgegen_var})
get_property(_edgegen_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)

if(NOT ${_edgegen_var} AND DEFINED ENV{${_edgegen_var}})
  set(${_edgegen_var} "$ENV{${_edgegen_var}}")
endif()
if(NOT ${_edgegen_var})
  set(${_edgegen_var} "${CMAKE_BINARY_DIR}/${_edgegen_name}-sysroot")
endif()
set(${_edgegen_var} "${${_edgegen_var}}" CACHE PATH
    "${EDGEGEN_CROSS_DEB_ARCH} dependency sysroot (unpacked Debian .debs, see toolchains/make-debian-sysroot.sh)")
option(${_edgegen_var}_AUTO
       "Create ${_edgegen_var} with make-debian-sysroot.sh if it is missing" ON)
get_filename_component(_edgegen_sysroot "${${_edgegen_var}}" ABSOLUTE)

if(NOT EXISTS "${_edgegen_sysroot}/.edgegen-sysroot.stamp")
  if(${_edgegen_var}_AUTO AND NOT _edgegen_in_try_compile)
    message(STATUS "${_edgegen_name}: creating dependency sysroot ${_edgegen_sysroot}")
    execute_process(
      COMMAND "${CMAKE_CURRENT_LIST_DIR}/make-debian-sysroot.sh" ${EDGEGEN_CROSS_DEB_ARCH} "${_edgegen_sysroot}"
      RESULT_VARIABLE _edgegen_rc)
    if(NOT _edgegen_rc EQUAL 0)
      message(FATAL_ERROR "${_edgegen_name}: make-debian-sysroot.sh failed (${_edgegen_rc}); see the messages above")
    endif()
  else()
    message(FATAL_ERROR
      "${_edgegen_name}: ${_edgegen_var}='${_edgegen_sysroot}' is not a complete sysroot "
      "(no .edgegen-sysroot.stamp). Create it with:\n"
      "  ${CMAKE_CURRENT_LIST_DIR}/make-debian-sysroot.sh ${EDGEGEN_CROSS_DEB_ARCH} ${_edgegen_sysroot}")
  endif()
endif()

# Libraries: usr/lib/<triplet>, and lib/<triplet> where zlib1g puts libz.so.1.
set(_edgegen_libdir "${_edgegen_sysroot}/usr/lib/${EDGEGEN_CROSS_TRIPLET}")
set(_edgegen_libdir2 "${_edgegen_sysroot}/lib/${EDGEGEN_CROSS_TRIPLET}")
set(${_edgegen_var}_LIBDIR "${_edgegen_libdir}")

# ---- find_* -------------------------------------------------------------------------
# Search only the target sysroot and the cross libc root for libraries, headers and
# CMake packages; never the host's /usr (x86-64 XNNPACK etc.). Programs (flatc,
# python, ...) come from the host.
set(CMAKE_FIND_ROOT_PATH "${_edgegen_sysroot}" "${_edgegen_toolchain_root}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the sysroot's .pc files, with their /usr prefix re-rooted.
set(ENV{PKG_CONFIG_LIBDIR} "${_edgegen_libdir}/pkgconfig:${_edgegen_sysroot}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_edgegen_sysroot}")
set(ENV{PKG_CONFIG_PATH} "")

# ---- compiling / linking ------------------------------------------------------------
# Debian's cross g++ also searches the host's /usr/include (after its own
# /usr/<triplet>/include). Put the sysroot's headers in front of it for
# every target, so e.g. <xnnpack.h> or <flatbuffers/flatbuffers.h> always come
# from the target packages even where a target forgets to add an include dir.
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES   "${_edgegen_sysroot}/usr/include")
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${_edgegen_sysroot}/usr/include")

# -L: plain `-lXNNPACK` works as natively. -rpath-link: lets ld resolve the
# DT_NEEDED entries of sysroot libraries (libXNNPACK.so.0 -> libcpuinfo.so.0,
# libpthreadpool.so.0), which are not in the cross linker's default paths.
set(_edgegen_ldflags "-L${_edgegen_libdir} -Wl,-rpath-link,${_edgegen_libdir}:${_edgegen_libdir2}")
set(CMAKE_EXE_LINKER_FLAGS_INIT    "${_edgegen_ldflags}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_edgegen_ldflags}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_edgegen_ldflags}")
unset(_edgegen_ldflags)

# ---- running (ctest, add_custom_command with target executables, doctest discovery) ---
# -L: ELF interpreter + libc/libstdc++ from the cross toolchain root.
# -E LD_LIBRARY_PATH: the sysroot's shared libs (XNNPACK, cpuinfo, pthreadpool, flatbuffers).
find_program(EDGEGEN_QEMU NAMES ${EDGEGEN_CROSS_QEMU} ${EDGEGEN_CROSS_QEMU}-static
             DOC "qemu user-mode emulator used to run ${EDGEGEN_CROSS_PROCESSOR} binaries on the host")
if(EDGEGEN_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${EDGEGEN_QEMU}"
      -L "${_edgegen_toolchain_root}"
      -E "LD_LIBRARY_PATH=${_edgegen_libdir}:${_edgegen_libdir2}")
elseif(NOT _edgegen_in_try_compile)
  message(WARNING "${_edgegen_name}: ${EDGEGEN_CROSS_QEMU} not found (apt-get install qemu-user); "
                  "cross-built tests cannot be run with ctest")
endif()
