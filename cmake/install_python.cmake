# install_python.cmake — runs at install time (cmake --install, cpack), when
# CMAKE_INSTALL_PREFIX is the prefix being installed to: copies the Python
# package tools/python/ortc (whatever it holds, without bytecode) to
#   /usr        -> lib/python3/dist-packages        (Debian's, any python3)
#   /usr/local  -> lib/python3.X/dist-packages      (Debian's for local installs)
#   elsewhere   -> lib/python3.X/site-packages      (python's own layout)
# or to ORTC_INSTALL_PYTHONDIR when set. ORTC_PY_* come from install.cmake.
if(NOT EXISTS "${ORTC_PY_SOURCE}/__init__.py")
  message(STATUS "Python package: ${ORTC_PY_SOURCE} has no __init__.py; not installed")
  return()
endif()
if(ORTC_PY_DIR)
  set(_dir "${ORTC_PY_DIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(_dir lib/python3/dist-packages)
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/usr/local/?$")
  set(_dir lib/python${ORTC_PY_VERSION}/dist-packages)
else()
  set(_dir lib/python${ORTC_PY_VERSION}/site-packages)
endif()
if(NOT IS_ABSOLUTE "${_dir}")
  set(_dir "${CMAKE_INSTALL_PREFIX}/${_dir}")
endif()
file(INSTALL DESTINATION "${_dir}" TYPE DIRECTORY FILES "${ORTC_PY_SOURCE}"
     PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)
