# Cross-compiles xsig for 64-bit Windows with Debian's mingw-w64 (posix thread
# model, so C11 _Thread_local and C++ std::thread work) and runs the results
# under Wine. Static links keep the .exe files free of mingw DLLs that Wine
# would have to find on its PATH.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(XSIG_MINGW_PREFIX x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${XSIG_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${XSIG_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${XSIG_MINGW_PREFIX}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${XSIG_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(XSIG_WINE NAMES wine wine64)
  if(XSIG_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${XSIG_WINE})
  endif()
endif()
