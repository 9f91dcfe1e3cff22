# Installation and packaging of ortc (included by the top-level CMakeLists.txt):
# `cmake --install` puts the CLI, libortc.so (SONAME libortc.so.0), ortc.h, a
# pkg-config file, a CMake package (find_package(ortc) -> ortc::ortc) and the
# Python package tools/python/ortc in the GNU/Debian places; `cpack -G DEB`
# packages the same under /usr. Nothing here changes how ortc is built.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ORTC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ortc)
set(ORTC_INSTALL_PYTHONDIR "" CACHE STRING
    "Python package folder (relative to the install prefix, or absolute); empty: \
lib/python3/dist-packages under /usr, lib/python3.X/dist-packages under /usr/local, \
else lib/python3.X/site-packages")
set(ORTC_PACKAGE_MAINTAINER "ortc maintainers <maintainers@ortc.invalid>" CACHE STRING
    "Maintainer field of the Debian package (cpack -G DEB)")

# Installed users of ortc::ortc get the installed header, not the source tree.
set_property(TARGET ortc PROPERTY INTERFACE_INCLUDE_DIRECTORIES
             $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/runtime/include>
             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# The CLI finds libortc next to it in any prefix (bin/../lib...); not needed
# (and not wanted by Debian) when the library goes to a system folder.
list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" _ortc_system_libdir)
if(_ortc_system_libdir EQUAL -1)
  file(RELATIVE_PATH _ortc_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set_target_properties(ortc_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_ortc_bin_to_lib}")
endif()

install(TARGETS ortc EXPORT ortcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ortc)
install(TARGETS ortc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# CMake package: ortcConfig.cmake, ortcConfigVersion.cmake, ortcTargets.cmake.
# 0.x releases may break the API between minor versions: SameMinorVersion.
install(EXPORT ortcTargets NAMESPACE ortc:: DESTINATION ${ORTC_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ortcConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/ortcConfig.cmake
                              INSTALL_DESTINATION ${ORTC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ortcConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ortcConfig.cmake ${CMAKE_BINARY_DIR}/ortcConfigVersion.cmake
        DESTINATION ${ORTC_INSTALL_CMAKEDIR})

# pkg-config: paths relative to the .pc file's folder, so the same file is
# right in /usr, /usr/local, a temporary prefix or a DESTDIR staging tree.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ORTC_PC_PREFIX ${CMAKE_INSTALL_PREFIX})
else()
  file(RELATIVE_PATH _ortc_pc_up /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" _ortc_pc_up "${_ortc_pc_up}")
  set(ORTC_PC_PREFIX "\${pcfiledir}/${_ortc_pc_up}")
endif()
set(ORTC_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
set(ORTC_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
foreach(v ORTC_PC_LIBDIR ORTC_PC_INCLUDEDIR)
  if(NOT IS_ABSOLUTE "${${v}}")
    set(${v} "\${prefix}/${${v}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/ortc.pc.in ${CMAKE_BINARY_DIR}/ortc.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/ortc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python package: its folder depends on the prefix given at install time
# (cmake --install --prefix, cpack's /usr), so it is chosen then.
execute_process(COMMAND ${ORTC_PYTHON} -c "import sys; print('%d.%d' % sys.version_info[:2])"
                OUTPUT_VARIABLE _ortc_pyver OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE _ortc_pyrc ERROR_QUIET)
if(NOT _ortc_pyrc EQUAL 0 OR NOT _ortc_pyver)
  set(_ortc_pyver 3)
endif()
install(CODE "set(ORTC_PY_SOURCE \"${CMAKE_SOURCE_DIR}/tools/python/ortc\")
set(ORTC_PY_VERSION \"${_ortc_pyver}\")
set(ORTC_PY_DIR \"${ORTC_INSTALL_PYTHONDIR}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install_python.cmake)

# Debian package: one package `ortc` with everything above, under /usr;
# dpkg-shlibdeps computes the shared-library dependencies (libdnnl2,
# libprotobuf-c1, libyaml-0-2, libpng16-16, libjpeg62-turbo, libcjson1,
# libgomp1, libc6).
set(CPACK_PACKAGE_NAME ortc)
set(CPACK_PACKAGE_VENDOR ortc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ONNX inference runtime in C11 on oneDNN")
set(CPACK_PACKAGE_DESCRIPTION "ortc runs ONNX models on the CPU with oneDNN kernels, \
planning all activation memory ahead of time. This package holds the ortc command, \
the shared library libortc with its header ortc.h, pkg-config and CMake files, and \
the Python package ortc (ctypes over libortc; needs python3-numpy).")
set(CPACK_PACKAGE_CONTACT "${ORTC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ORTC_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-numpy")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON) # as Debian ships binaries (debug info belongs in a -dbgsym)
include(CPack)
