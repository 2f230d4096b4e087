# Checks used by configure.ac.  Each failing check names the Debian package
# (or the script) that provides what is missing.

# TENDRIL_CHECK_PKG(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
AC_DEFUN([TENDRIL_CHECK_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package $3 (apt-get install $3)])])
])

# TENDRIL_CHECK_OVS
#
# Finds the libopenvswitch build made by build-aux/build-ovs.sh, either from
# --with-ovs=PREFIX or in the cache for the installed openvswitch-source, and
# checks that the ovs-vswitchd on this machine is the same release.
AC_DEFUN([TENDRIL_CHECK_OVS], [
  AC_ARG_WITH([ovs],
    [AS_HELP_STRING([--with-ovs=PREFIX],
      [libopenvswitch built by build-aux/build-ovs.sh
       (default: /var/cache/tendril/ovs-VERSION of openvswitch-source)])],
    [OVS_PREFIX=$withval], [OVS_PREFIX=])
  if test -z "$OVS_PREFIX"; then
    ovs_src_version=`dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null`
    if test -z "$ovs_src_version"; then
      AC_MSG_ERROR([openvswitch-source is not installed: apt-get install openvswitch-source, then run build-aux/build-ovs.sh (or pass --with-ovs=PREFIX)])
    fi
    OVS_PREFIX=/var/cache/tendril/ovs-$ovs_src_version
  fi
  AC_MSG_CHECKING([for libopenvswitch in $OVS_PREFIX])
  if test ! -f "$OVS_PREFIX/STAMP" \
     || test ! -f "$OVS_PREFIX/lib/pkgconfig/tendril-ovs.pc"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([no libopenvswitch build in $OVS_PREFIX: run build-aux/build-ovs.sh first (it needs apt-get install openvswitch-source build-essential python3)])
  fi
  AC_MSG_RESULT([yes])
  PKG_CONFIG_PATH="$OVS_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export PKG_CONFIG_PATH
  PKG_CHECK_MODULES([OVS], [tendril-ovs])
  OVS_VERSION=`$PKG_CONFIG --modversion tendril-ovs`
  OVS_SCHEMA=$OVS_PREFIX/share/openvswitch/vswitch.ovsschema

  AC_PATH_PROG([OVS_VSWITCHD], [ovs-vswitchd], [],
               [$PATH:/usr/sbin:/usr/local/sbin])
  if test -n "$OVS_VSWITCHD"; then
    AC_MSG_CHECKING([that $OVS_VSWITCHD is OVS $OVS_VERSION])
    vswitchd_version=`$OVS_VSWITCHD --version 2>/dev/null | sed -n '1s/.* //p'`
    if test "$vswitchd_version" != "$OVS_VERSION"; then
      AC_MSG_RESULT([no, $vswitchd_version])
      AC_MSG_ERROR([ovs-vswitchd is $vswitchd_version but libopenvswitch is $OVS_VERSION: install openvswitch-switch and openvswitch-source of the same version])
    fi
    AC_MSG_RESULT([yes])
  else
    AC_MSG_WARN([ovs-vswitchd not found (apt-get install openvswitch-switch); the system tests need it])
  fi
  AC_SUBST([OVS_PREFIX])
  AC_SUBST([OVS_VERSION])
  AC_SUBST([OVS_SCHEMA])
])

# TENDRIL_ENABLE_WERROR: --enable-werror turns warnings into errors (CI).
AC_DEFUN([TENDRIL_ENABLE_WERROR], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
])

# TENDRIL_ENABLE_SANITIZERS: --enable-sanitizers builds with ASan + UBSan.
AC_DEFUN([TENDRIL_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers],
      [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_sanitizers=no])
  SANITIZER_CFLAGS=
  SANITIZER_LDFLAGS=
  if test "$enable_sanitizers" = yes; then
    SANITIZER_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    SANITIZER_LDFLAGS="-fsanitize=address,undefined"
    save_CFLAGS=$CFLAGS; save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $SANITIZER_CFLAGS"; LDFLAGS="$LDFLAGS $SANITIZER_LDFLAGS"
    AC_MSG_CHECKING([whether $CC can build with the sanitizers])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([the compiler cannot link with -fsanitize=address,undefined (apt-get install gcc, which brings libasan and libubsan)])])
    CFLAGS=$save_CFLAGS; LDFLAGS=$save_LDFLAGS
  fi
  AC_SUBST([SANITIZER_CFLAGS])
  AC_SUBST([SANITIZER_LDFLAGS])
])

# TENDRIL_CHECK_WARNINGS: the warnings the compiler supports.
AC_DEFUN([TENDRIL_CHECK_WARNINGS], [
  WARNING_CFLAGS=
  for flag in -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
              -Wno-missing-field-initializers -Wformat=2 -Wpointer-arith \
              -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
              -Wimplicit-fallthrough -Wshadow=local \
              -Wno-format-nonliteral; do
    AC_MSG_CHECKING([whether $CC accepts $flag])
    save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $flag"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); WARNING_CFLAGS="$WARNING_CFLAGS $flag"],
      [AC_MSG_RESULT([no])])
    CFLAGS=$save_CFLAGS
  done
  if test "$enable_werror" = yes; then
    WARNING_CFLAGS="$WARNING_CFLAGS -Werror"
  fi
  AC_SUBST([WARNING_CFLAGS])
])
