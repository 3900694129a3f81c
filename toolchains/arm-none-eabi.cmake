# CMake toolchain file: cross-compile the edgegen runtime for a bare-metal
# Arm Cortex-M with the GNU Arm Embedded toolchain (Debian 12: gcc-arm-none-eabi,
# libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib).
#
#   cmake -G Ninja -S . -B build-cortex-m \
#         -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-none-eabi.cmake
#   cmake --build build-cortex-m --target edgegen_runtime   # -> runtime/libedgegen_runtime.a
#
# With this file the top-level project builds only the runtime: the host tools,
# the tests and XNNPACK default to OFF (there is no operating system to run
# them on). A firmware links runtime/libedgegen_runtime.a and uses the C API
# <edgegen/edgegen.h>; targets/cortex_m/ is a complete example that runs under
# qemu-system-arm.
#
# Settings (cache variables, give them with -D on the first configure):
#   EDGEGEN_ARM_CPU_FLAGS   the core and its floating-point unit; default
#                           Cortex-M4F: -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
#                           e.g. Cortex-M7 (double-precision FPU):
#                             -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16
#                           e.g. Cortex-M33: -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16
#                           The firmware must be compiled and linked with the same flags
#                           (they select newlib's and libstdc++'s multilib).
#   EDGEGEN_ARM_TRIPLET     compiler prefix, default arm-none-eabi
#   EDGEGEN_KERNELS         (top-level project) only these operators' kernels, e.g. ConvTranspose2d:
#                           the operators `edgegen info` lists for the models the firmware runs
#   EDGEGEN_FLATBUFFERS_INCLUDE_DIR
#                           directory holding flatbuffers/flatbuffers.h (header-only use);
#                           default: found on the host (Debian: libflatbuffers-dev)

# The top-level project builds position-independent code (for the host's
# shared objects and executables). A firmware is linked at fixed addresses:
# PIC would only add a GOT in RAM (1.2 KB for the runtime) and an indirection
# to every global. CMake reads this file a second time as
# CMAKE_USER_MAKE_RULES_OVERRIDE (set just below), after its compiler modules
# have set the PIC flags; that second pass only clears them.
if(DEFINED CMAKE_C_COMPILE_OPTIONS_PIC OR DEFINED CMAKE_CXX_COMPILE_OPTIONS_PIC)
  foreach(_edgegen_lang C CXX ASM)
    set(CMAKE_${_edgegen_lang}_COMPILE_OPTIONS_PIC "")
    set(CMAKE_${_edgegen_lang}_COMPILE_OPTIONS_PIE "")
  endforeach()
  unset(_edgegen_lang)
  return()
endif()
set(CMAKE_USER_MAKE_RULES_OVERRIDE "${CMAKE_CURRENT_LIST_FILE}")

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(EDGEGEN_ARM_TRIPLET arm-none-eabi CACHE STRING "GNU Arm Embedded compiler prefix")
set(EDGEGEN_ARM_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    CACHE STRING "Core and FPU flags, used for compiling and linking")
# try_compile() projects re-read this file; give them the same settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEGEN_ARM_TRIPLET EDGEGEN_ARM_CPU_FLAGS
     EDGEGEN_FLATBUFFERS_INCLUDE_DIR)

set(CMAKE_C_COMPILER   ${EDGEGEN_ARM_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEGEN_ARM_TRIPLET}-g++)
set(CMAKE_ASM_COMPILER ${EDGEGEN_ARM_TRIPLET}-gcc)
find_program(CMAKE_OBJCOPY ${EDGEGEN_ARM_TRIPLET}-objcopy)
find_program(CMAKE_SIZE    ${EDGEGEN_ARM_TRIPLET}-size)

# Without a startup file and a linker script for a board, test programs cannot
# be linked: CMake's compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Every function and object in its own section, so that --gc-sections drops
# the kernels and library code a firmware does not reach.
set(CMAKE_C_FLAGS_INIT   "${EDGEGEN_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${EDGEGEN_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${EDGEGEN_ARM_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${EDGEGEN_ARM_CPU_FLAGS} -Wl,--gc-sections")

# The top-level project's defaults for a device: the runtime only.
# (option() keeps a value that is already set, CMP0077.)
set(EDGEGEN_BUILD_TOOLS OFF CACHE BOOL "Build the converter and the edgegen command-line tool")
set(EDGEGEN_BUILD_TESTS OFF CACHE BOOL "Build the doctest suites and register them with CTest")
set(EDGEGEN_WITH_XNNPACK OFF CACHE BOOL "Link XNNPACK, cpuinfo and pthreadpool")

# Libraries and headers come only from the cross toolchain (newlib, libstdc++),
# never from the host's /usr; programs (flatc) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/${EDGEGEN_ARM_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# FlatBuffers is used header-only by the runtime (the generated schema header
# and the verifier). Its headers live in the host's /usr/include, which must
# not be put on a bare-metal include path (glibc's headers would shadow
# newlib's and hide POSIX-only code). A directory holding only a link to the
# flatbuffers/ folder is put on every compile line instead.
if(NOT EDGEGEN_FLATBUFFERS_INCLUDE_DIR)
  find_path(EDGEGEN_FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h
            PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH NO_DEFAULT_PATH
            DOC "Directory holding flatbuffers/flatbuffers.h")
endif()
if(EDGEGEN_FLATBUFFERS_INCLUDE_DIR)
  set(_edgegen_fb_dir "${CMAKE_BINARY_DIR}/edgegen-arm-include")
  if(NOT EXISTS "${_edgegen_fb_dir}/flatbuffers/flatbuffers.h")
    file(MAKE_DIRECTORY "${_edgegen_fb_dir}")
    file(CREATE_LINK "${EDGEGEN_FLATBUFFERS_INCLUDE_DIR}/flatbuffers" "${_edgegen_fb_dir}/flatbuffers" SYMBOLIC)
  endif()
  set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES   "${_edgegen_fb_dir}")
  set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${_edgegen_fb_dir}")
  unset(_edgegen_fb_dir)
else()
  message(WARNING "arm-none-eabi: flatbuffers/flatbuffers.h not found (apt-get install libflatbuffers-dev), "
                  "set EDGEGEN_FLATBUFFERS_INCLUDE_DIR")
endif()

