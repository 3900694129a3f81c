# edgegen_embed_model(): links an edgegen model (.egm) into a firmware image.
#
#   edgegen_embed_model(<target> <model.egm>
#                       [NAME <identifier>]        symbols <identifier>_data/_size and header <identifier>.h
#                                                  (default: edgegen_model)
#                       [PREFIX <MACRO_PREFIX>]    macros <MACRO_PREFIX>_ARENA_BYTES, ... (default: EG)
#                       [HOST_TOOL <edgegen>]      the host's edgegen tool (default: EDGEGEN_HOST_TOOL,
#                                                  the installed edgegen::edgegen, or edgegen on PATH)
#                       [BACKEND <reference|xnnpack>]  kernels the arena is sized for (default: reference,
#                                                  all a firmware has)
#                       [ARENA_BYTES <n>]          the arena to declare instead of the host tool's figure
#                       [SECTION <name>]           output section of the bytes (default: .edgegen_model)
#                       [KERNELS_VARIABLE <var>])  sets <var> to the operators the model uses, the
#                                                  value of EDGEGEN_KERNELS for a runtime built for it
#
# The model's bytes go into <target> unchanged, as a const array 64-byte
# aligned in its own section (the assembler's .incbin: exact, and instant even
# for megabytes), so weights are read in place from flash. Keep the section in
# flash with ALIGN(64) in the linker script, e.g.
#     .model : ALIGN(64) { KEEP(*(.edgegen_model)) } > FLASH
# The generated <identifier>.h (on <target>'s include path) declares
#     extern const unsigned char <identifier>_data[];   extern const unsigned int <identifier>_size;
# and defines, from `edgegen info --json --backend <BACKEND>` run at configure time:
#     EG_ARENA_BYTES      arena for eg_pipeline_create (for a Session, if the model has no decoder or
#                         VAE pipeline), exact for the target's pointer size (CMAKE_SIZEOF_VOID_P):
#                         what eg_pipeline_arena_bytes() returns on the device, C handle included
#     EG_LATENT_FLOATS, EG_ITEM_FLOATS   one latent and one generated item, in floats
#     EG_MODEL_BYTES, EG_OPERATORS       the file's size and the operators it uses
# Without a host tool, ARENA_BYTES is required and the other figures are 0.
# A new .egm re-runs the configure step (the figures depend on it) and the assembler.
#
# Kernel selection: the runtime keeps only the kernels listed in its
# EDGEGEN_KERNELS (comma- or semicolon-separated operator names; empty: all),
# and refuses other models at load with kUnsupportedOp. Build it for the
# model with the list KERNELS_VARIABLE returns, e.g. (targets/cortex_m):
#     edgegen_embed_model(firmware gan.egm KERNELS_VARIABLE gan_kernels)
#     ExternalProject_Add(... CMAKE_ARGS "-DEDGEGEN_KERNELS=${gan_kernels}" ...)  # with LIST_SEPARATOR
include_guard(GLOBAL)

set(_EDGEGEN_EMBED_TEMPLATES "${CMAKE_CURRENT_LIST_DIR}")

# Product of the dims of the JSON array at <json> <path...> from index <first>;
# 0 when there is no such array.
function(_edgegen_json_product out json first)
  string(JSON _rank ERROR_VARIABLE _missing LENGTH "${json}" ${ARGN})
  if(_missing)
    set(${out} 0 PARENT_SCOPE)
    return()
  endif()
  set(_product 1)
  if(_rank GREATER first)
    math(EXPR _last "${_rank} - 1")
    foreach(_i RANGE ${first} ${_last})
      string(JSON _dim GET "${json}" ${ARGN} ${_i})
      math(EXPR _product "${_product} * ${_dim}")
    endforeach()
  endif()
  set(${out} ${_product} PARENT_SCOPE)
endfunction()

function(edgegen_embed_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 _arg "" "NAME;PREFIX;HOST_TOOL;BACKEND;ARENA_BYTES;SECTION;KERNELS_VARIABLE" "")
  if(_arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "edgegen_embed_model: unknown arguments ${_arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "edgegen_embed_model: ${target} is not a target")
  endif()
  set(_name edgegen_model)
  if(_arg_NAME)
    set(_name ${_arg_NAME})
  endif()
  if(NOT _name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "edgegen_embed_model: NAME '${_name}' is not a C identifier")
  endif()
  set(_prefix EG)
  if(_arg_PREFIX)
    set(_prefix ${_arg_PREFIX})
  endif()
  set(_backend reference)
  if(_arg_BACKEND)
    set(_backend ${_arg_BACKEND})
  endif()
  set(_section .edgegen_model)
  if(_arg_SECTION)
    set(_section ${_arg_SECTION})
  endif()

  # ---- the model -------------------------------------------------------------------
  get_filename_component(_model "${model}" ABSOLUTE)
  if(NOT EXISTS "${_model}")
    message(FATAL_ERROR "edgegen_embed_model: ${_model} does not exist (edgegen convert MANIFEST.json -o model.egm)")
  endif()
  file(READ "${_model}" _identifier OFFSET 4 LIMIT 4 HEX)
  if(NOT _identifier STREQUAL "45474d31")  # "EGM1"
    message(FATAL_ERROR "edgegen_embed_model: ${_model} is not an edgegen model (no 'EGM1' identifier)")
  endif()
  file(SIZE "${_model}" _file_bytes)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_model}")

  # ---- what the host tool says about it ------------------------------------------------
  set(_tool "${_arg_HOST_TOOL}")
  if(NOT _tool AND EDGEGEN_HOST_TOOL)
    set(_tool "${EDGEGEN_HOST_TOOL}")
  endif()
  if(NOT _tool AND EDGEGEN_TOOL)  # find_package(edgegen) of a host install
    set(_tool "${EDGEGEN_TOOL}")
  endif()
  if(NOT _tool AND "${_arg_ARENA_BYTES}" STREQUAL "")
    find_program(EDGEGEN_HOST_TOOL_FOUND edgegen NO_CMAKE_FIND_ROOT_PATH)
    if(EDGEGEN_HOST_TOOL_FOUND)
      set(_tool "${EDGEGEN_HOST_TOOL_FOUND}")
    endif()
  endif()
  set(_latent_floats 0)
  set(_item_floats 0)
  set(_operators "")
  if(_tool)
    execute_process(COMMAND "${_tool}" info --json --backend ${_backend} "${_model}"
                    OUTPUT_VARIABLE _info RESULT_VARIABLE _result ERROR_VARIABLE _error)
    if(NOT _result EQUAL 0)
      message(FATAL_ERROR "edgegen_embed_model: ${_tool} info --json --backend ${_backend} ${_model} failed: ${_error}")
    endif()
    # The arena on a CPU of the target's data model (edgegen/data_model.h):
    # info gives it for the reference kernels, the ones a firmware has.
    if(CMAKE_SIZEOF_VOID_P EQUAL 4)
      set(_data_model 32-bit)
    else()
      set(_data_model 64-bit)
    endif()
    string(JSON _device ERROR_VARIABLE _no_device GET "${_info}" device_arena_bytes ${_data_model})
    if(_no_device)
      message(FATAL_ERROR "edgegen_embed_model: ${_tool} info gives no ${_data_model} arena for the ${_backend} "
                          "backend (only the reference kernels' arena can be computed for another CPU); "
                          "give ARENA_BYTES from eg_pipeline_arena_bytes() on the device")
    endif()
    string(JSON _c_pipeline_bytes ERROR_VARIABLE _no_pipeline GET "${_device}" c_pipeline)
    if(_no_pipeline)  # no decoder or VAE pipeline: the C API cannot run it, a C++ Session can
      string(JSON _info_arena GET "${_device}" session)
      set(_info_origin "edgegen info: a Session on a ${_data_model} CPU (no pipeline for the C API)")
    else()
      set(_info_arena ${_c_pipeline_bytes})
      set(_info_origin "edgegen info: eg_pipeline_create on a ${_data_model} CPU")
    endif()
    # latent: the pipeline's latent_shape; item: the decoder graph's first output without its batch dim.
    _edgegen_json_product(_latent_floats "${_info}" 0 pipeline latent_shape)
    string(JSON _decoder ERROR_VARIABLE _no_decoder GET "${_info}" pipeline decoder_graph)
    string(JSON _num_graphs LENGTH "${_info}" graphs)
    math(EXPR _last "${_num_graphs} - 1")
    set(_ops "")
    foreach(_g RANGE ${_last})
      string(JSON _graph_name GET "${_info}" graphs ${_g} name)
      if(NOT _no_decoder AND _graph_name STREQUAL _decoder)
        _edgegen_json_product(_item_floats "${_info}" 1 graphs ${_g} outputs 0 shape)
      endif()
      string(JSON _num_ops LENGTH "${_info}" graphs ${_g} op_counts)
      if(_num_ops GREATER 0)
        math(EXPR _last_op "${_num_ops} - 1")
        foreach(_o RANGE ${_last_op})
          string(JSON _op MEMBER "${_info}" graphs ${_g} op_counts ${_o})
          list(APPEND _ops ${_op})
        endforeach()
      endif()
    endforeach()
    list(REMOVE_DUPLICATES _ops)
    list(SORT _ops)
    list(JOIN _ops " " _operators)
    if(_arg_KERNELS_VARIABLE)
      set(${_arg_KERNELS_VARIABLE} "${_ops}" PARENT_SCOPE)
    endif()
  elseif(_arg_KERNELS_VARIABLE)
    message(FATAL_ERROR "edgegen_embed_model: KERNELS_VARIABLE needs the host tool (HOST_TOOL or EDGEGEN_HOST_TOOL)")
  endif()
  if(NOT "${_arg_ARENA_BYTES}" STREQUAL "")
    set(_arena_bytes ${_arg_ARENA_BYTES})
    set(_arena_origin "given (ARENA_BYTES)")
  elseif(_tool)
    set(_arena_bytes ${_info_arena})
    set(_arena_origin "${_info_origin}")
  else()
    message(FATAL_ERROR "edgegen_embed_model: no host edgegen tool to size the arena; give HOST_TOOL, "
                        "-DEDGEGEN_HOST_TOOL=<host build>/edgegen, or ARENA_BYTES")
  endif()

  # ---- the generated files -----------------------------------------------------------------
  # The copy in the build tree makes the build re-assemble on a new model.
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/edgegen_embed")
  set(_copy "${_dir}/${_name}.egm")
  add_custom_command(
    OUTPUT "${_copy}"
    COMMAND ${CMAKE_COMMAND} -E copy "${_model}" "${_copy}"
    DEPENDS "${_model}"
    COMMENT "edgegen model ${_name}: ${_model}")
  string(TOUPPER "EDGEGEN_EMBED_${_name}_H_" _guard)
  configure_file("${_EDGEGEN_EMBED_TEMPLATES}/edgegen_embed_model.S.in" "${_dir}/${_name}.S" @ONLY)
  configure_file("${_EDGEGEN_EMBED_TEMPLATES}/edgegen_embed_model.h.in" "${_dir}/${_name}.h" @ONLY)
  set_source_files_properties("${_dir}/${_name}.S" PROPERTIES LANGUAGE ASM OBJECT_DEPENDS "${_copy}")
  target_sources(${target} PRIVATE "${_dir}/${_name}.S")
  target_include_directories(${target} PRIVATE "${_dir}")
  message(STATUS "edgegen_embed_model: ${_name} = ${_model} (${_file_bytes} bytes), ${_prefix}_ARENA_BYTES ${_arena_bytes} "
                 "(${_arena_origin}), operators: ${_operators}")
endfunction()
