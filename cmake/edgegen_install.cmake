# `cmake --install <build> --prefix P` installs edgegen like a library:
#
#   P/include/edgegen/*.h                     the public headers (C API edgegen.h, C++ model.h, session.h, ...)
#   P/lib/libedgegen_runtime.a                the runtime
#   P/lib/cmake/edgegen/                      find_package(edgegen): imported targets edgegen::runtime and,
#                                             when the tools are built, edgegen::edgegen; edgegen_embed_model()
#   P/lib/pkgconfig/edgegen.pc                pkg-config --cflags --libs edgegen
#   P/bin/edgegen                             the command-line tool (converter, info, sample, ...)
#
# The public headers need neither the schema's generated header nor XNNPACK's:
# those stay build-tree only (runtime/CMakeLists.txt wraps them in
# $<BUILD_INTERFACE:...>). A cross build (toolchains/) installs the runtime,
# headers and package files for its CPU, without the tool.
include(CMakePackageConfigHelpers)

set(EDGEGEN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgegen CACHE STRING
    "Where edgegenConfig.cmake is installed, relative to the prefix")
mark_as_advanced(EDGEGEN_INSTALL_CMAKEDIR)

set_target_properties(edgegen_runtime PROPERTIES EXPORT_NAME runtime)
install(TARGETS edgegen_runtime EXPORT edgegenTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/edgegen DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(EXPORT edgegenTargets NAMESPACE edgegen:: DESTINATION ${EDGEGEN_INSTALL_CMAKEDIR})

set(EDGEGEN_INSTALLS_TOOL OFF)
if(TARGET edgegen)
  set(EDGEGEN_INSTALLS_TOOL ON)
  install(TARGETS edgegen EXPORT edgegenToolTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT edgegenToolTargets NAMESPACE edgegen:: DESTINATION ${EDGEGEN_INSTALL_CMAKEDIR})
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/edgegenConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/edgegenConfig.cmake
  INSTALL_DESTINATION ${EDGEGEN_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API and the file format, so only the
# same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/edgegenConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/edgegenConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/edgegenConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/EdgegenEmbedModel.cmake
  ${CMAKE_CURRENT_LIST_DIR}/edgegen_embed_model.S.in
  ${CMAKE_CURRENT_LIST_DIR}/edgegen_embed_model.h.in
  DESTINATION ${EDGEGEN_INSTALL_CMAKEDIR})

# ---- pkg-config ------------------------------------------------------------------
# Only a static library is installed, so what it links must be in Libs (not
# Libs.private, which `pkg-config --libs` leaves out without --static):
# XNNPACK, cpuinfo and pthreadpool on the host, and the C++ runtime and libm
# for a program linked by a C compiler.
set(_edgegen_pc_libs "")
if(EDGEGEN_WITH_XNNPACK)
  foreach(_library IN ITEMS ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LIBRARY})
    get_filename_component(_dir "${_library}" DIRECTORY)
    get_filename_component(_name "${_library}" NAME_WE)
    string(REGEX REPLACE "^lib" "" _name "${_name}")
    if(NOT _dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
      string(APPEND _edgegen_pc_libs " -L${_dir}")
    endif()
    string(APPEND _edgegen_pc_libs " -l${_name}")
  endforeach()
  string(APPEND _edgegen_pc_libs " -pthread")
endif()
string(APPEND _edgegen_pc_libs " -lstdc++ -lm")
# The .pc finds the prefix from its own place (${pcfiledir}), so it is right
# for any --prefix given at install time, not only CMAKE_INSTALL_PREFIX.
set(_edgegen_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
string(REGEX REPLACE "[^/]+" ".." _edgegen_pc_up "${_edgegen_pc_dir}")
set(EDGEGEN_PC_PREFIX "\${pcfiledir}/${_edgegen_pc_up}")
set(EDGEGEN_PC_LIBS "${_edgegen_pc_libs}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/edgegen.pc.in ${CMAKE_CURRENT_BINARY_DIR}/edgegen.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/edgegen.pc DESTINATION ${_edgegen_pc_dir})
unset(_edgegen_pc_libs)
unset(_edgegen_pc_dir)
unset(_edgegen_pc_up)
