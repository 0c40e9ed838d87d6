# Configures and installs the project into a temporary prefix, then builds and runs a consumer
# that finds it with find_package(gemma4 CONFIG). Run with:
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P install_and_consume.cmake
foreach(var SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
    -DGEMMA4_BUILD_TOOLS=OFF -DGEMMA4_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --install ${WORK_DIR}/build)
if(NOT EXISTS ${prefix}/include/gemma4/gemma4.h)
  message(FATAL_ERROR "install did not put the headers under ${prefix}/include/gemma4")
endif()
# ccache (when present) keeps repeated runs of this test cheap.
find_program(ccache_program ccache)
set(launcher)
if(ccache_program)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache_program})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} ${launcher})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)
