# Installing mailscope like a Debian tool (GNUInstallDirs; `cmake --install build`,
# debian/rules): the programs, the man pages, the shell completions and the documentation.
include(GNUInstallDirs)

# Man pages: docs/man/NAME.SECTION.scd, built with scdoc (Debian's scdoc package; small, no
# dependencies, plain man(7) output). A new page is a new .scd file, nothing else.
option(MS_MAN_PAGES "Build and install the man pages (needs scdoc)" ON)
set(MS_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(MS_MAN_PAGES_BUILT "")
if(MS_MAN_PAGES)
  find_program(MS_SCDOC scdoc)
  if(NOT MS_SCDOC)
    message(FATAL_ERROR "scdoc not found: install it (scripts/deps.sh, or apt-get install scdoc), "
      "or configure with -DMS_MAN_PAGES=OFF")
  endif()
  file(GLOB MS_MAN_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.scd)
  foreach(src ${MS_MAN_SOURCES})
    get_filename_component(page ${src} NAME_WLE) # mailscope.1
    string(REGEX REPLACE "^.*\\.([1-9])$" "\\1" section ${page})
    add_custom_command(OUTPUT ${MS_MAN_DIR}/${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${MS_MAN_DIR}
      COMMAND sh -c "\"$1\" <\"$2\" >\"$3.tmp\" && mv \"$3.tmp\" \"$3\"" sh ${MS_SCDOC} ${src} ${MS_MAN_DIR}/${page}
      DEPENDS ${src} VERBATIM)
    list(APPEND MS_MAN_PAGES_BUILT ${MS_MAN_DIR}/${page})
    install(FILES ${MS_MAN_DIR}/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${MS_MAN_PAGES_BUILT})
endif()

# mailscope, and mailscope-serve next to it (`mailscope serve` runs it from its own directory).
install(TARGETS mailscope mailscope-serve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Shell completions (dist/completion), where each shell looks for a package's own:
# bash-completion's completions/ (loaded on demand), zsh's vendor-completions (Debian's
# directory for packages; site-functions for a /usr/local install, which Debian's zsh
# reads), fish's vendor_completions.d.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(MS_ZSH_DIR_DEFAULT ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
else()
  set(MS_ZSH_DIR_DEFAULT ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()
set(MS_BASH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  CACHE STRING "Where bash completions are installed (relative: under the prefix)")
set(MS_ZSH_COMPLETION_DIR ${MS_ZSH_DIR_DEFAULT}
  CACHE STRING "Where zsh completions are installed (relative: under the prefix)")
set(MS_FISH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
  CACHE STRING "Where fish completions are installed (relative: under the prefix)")
install(FILES dist/completion/mailscope.bash DESTINATION ${MS_BASH_COMPLETION_DIR}
  RENAME mailscope)
install(FILES dist/completion/_mailscope DESTINATION ${MS_ZSH_COMPLETION_DIR})
install(FILES dist/completion/mailscope.fish DESTINATION ${MS_FISH_COMPLETION_DIR})

# Documentation (share/doc/mailscope), the JSON Schema of the report (share/mailscope: data
# a script validates against, not documentation), and examples: a targets file, cron and
# systemd timer units for the Prometheus textfile collector (dist/examples); mailscope
# serve's configuration, and Prometheus scrape configurations and alert rules for it
# (docs/examples, which the tests check).
install(FILES README.md CHANGELOG.md report/FINDINGS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES report/schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/mailscope)
install(DIRECTORY dist/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES docs/examples/serve.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY docs/examples/prometheus DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# systemd units of the programs (dist/systemd/*.service|.socket|.timer, or the same names
# with .in: @VARIABLE@s replaced, e.g. @CMAKE_INSTALL_FULL_BINDIR@ for ExecStart), in
# systemd's system unit directory: for a /usr install the one pkg-config's systemd.pc names
# (/lib/systemd/system on Debian 12), /lib/systemd/system without it; PREFIX/lib/systemd/system
# otherwise (systemd reads /usr/local/lib/systemd/system).
set(MS_UNIT_DIR_DEFAULT lib/systemd/system)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(MS_UNIT_DIR_DEFAULT /lib/systemd/system)
  pkg_get_variable(MS_SYSTEMD_PC_UNIT_DIR systemd systemdsystemunitdir)
  if(MS_SYSTEMD_PC_UNIT_DIR)
    set(MS_UNIT_DIR_DEFAULT ${MS_SYSTEMD_PC_UNIT_DIR})
  endif()
endif()
set(MS_SYSTEMD_UNIT_DIR ${MS_UNIT_DIR_DEFAULT}
  CACHE STRING "Where systemd units are installed (relative: under the prefix)")
file(GLOB MS_SYSTEMD_UNIT_SOURCES CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/dist/systemd/*.service ${PROJECT_SOURCE_DIR}/dist/systemd/*.socket
  ${PROJECT_SOURCE_DIR}/dist/systemd/*.timer ${PROJECT_SOURCE_DIR}/dist/systemd/*.service.in
  ${PROJECT_SOURCE_DIR}/dist/systemd/*.socket.in ${PROJECT_SOURCE_DIR}/dist/systemd/*.timer.in)
set(MS_SYSTEMD_UNITS "")
foreach(src ${MS_SYSTEMD_UNIT_SOURCES})
  if(src MATCHES "\\.in$")
    get_filename_component(unit ${src} NAME_WLE)
    configure_file(${src} ${CMAKE_BINARY_DIR}/systemd/${unit} @ONLY)
    list(APPEND MS_SYSTEMD_UNITS ${CMAKE_BINARY_DIR}/systemd/${unit})
  else()
    list(APPEND MS_SYSTEMD_UNITS ${src})
  endif()
endforeach()
if(MS_SYSTEMD_UNITS)
  install(FILES ${MS_SYSTEMD_UNITS} DESTINATION ${MS_SYSTEMD_UNIT_DIR})
endif()
