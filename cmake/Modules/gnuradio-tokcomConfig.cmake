find_package(PkgConfig)

PKG_CHECK_MODULES(PC_GR_TOKCOM gnuradio-tokcom)

FIND_PATH(
    GR_TOKCOM_INCLUDE_DIRS
    NAMES gnuradio/tokcom/api.h
    HINTS $ENV{TOKCOM_DIR}/include
        ${PC_TOKCOM_INCLUDEDIR}
    PATHS ${CMAKE_INSTALL_PREFIX}/include
          /usr/local/include
          /usr/include
)

FIND_LIBRARY(
    GR_TOKCOM_LIBRARIES
    NAMES gnuradio-tokcom
    HINTS $ENV{TOKCOM_DIR}/lib
        ${PC_TOKCOM_LIBDIR}
    PATHS ${CMAKE_INSTALL_PREFIX}/lib
          ${CMAKE_INSTALL_PREFIX}/lib64
          /usr/local/lib
          /usr/local/lib64
          /usr/lib
          /usr/lib64
          )

include("${CMAKE_CURRENT_LIST_DIR}/gnuradio-tokcomTarget.cmake")

INCLUDE(FindPackageHandleStandardArgs)
FIND_PACKAGE_HANDLE_STANDARD_ARGS(GR_TOKCOM DEFAULT_MSG GR_TOKCOM_LIBRARIES GR_TOKCOM_INCLUDE_DIRS)
MARK_AS_ADVANCED(GR_TOKCOM_LIBRARIES GR_TOKCOM_INCLUDE_DIRS)
