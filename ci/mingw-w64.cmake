# Cross-compiles xsig for Windows with Debian's mingw-w64 (posix thread model,
# so C11 _Thread_local and C++ std::thread work) and runs the results under
# Wine. 64-bit by default; -DXSIG_MINGW_ARCH=i686 for 32-bit. Static links
# keep the .exe files free of mingw DLLs that Wine would have to find on its
# PATH.
set(XSIG_MINGW_ARCH x86_64 CACHE STRING "x86_64 or i686")
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR ${XSIG_MINGW_ARCH})
set(XSIG_MINGW_PREFIX ${XSIG_MINGW_ARCH}-w64-mingw32)

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
