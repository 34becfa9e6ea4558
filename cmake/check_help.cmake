# cmake -DPROG=program [-DARGS=first;args] -P check_help.cmake
# Runs PROG ARGS --help: it must exit 0, print a usage text starting with
# "usage:" on stdout and nothing on stderr.
execute_process(COMMAND ${PROG} ${ARGS} --help RESULT_VARIABLE rc OUTPUT_VARIABLE out
  ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROG} ${ARGS} --help exited ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT out MATCHES "^usage: ")
  message(FATAL_ERROR "${PROG} ${ARGS} --help printed no usage on stdout:\n${out}")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "${PROG} ${ARGS} --help wrote to stderr:\n${err}")
endif()
message(STATUS "${PROG} ${ARGS} --help: usage on stdout, status 0")
