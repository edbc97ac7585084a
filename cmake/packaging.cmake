# Installation and the Debian package (CPack). `cmake --install BUILD` (make install) puts
# agentd and agentcheck in bin/, their man pages (made from --help at install time, see
# manpages.cmake) in share/man/man1, the spec, the report schema, the contract documents and
# the CI templates in share/doc/agent-service, and the load scenarios in
# share/agent-service/load. `make package` builds build/release/packages/agent-service_*.deb.
include(GNUInstallDirs)

set(agent_doc_dir ${CMAKE_INSTALL_DATAROOTDIR}/doc/agent-service)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${agent_doc_dir})
if(AGENT_BUILD_CONFORMANCE)
  install(FILES ${PROJECT_SOURCE_DIR}/conformance/SPEC.md
                ${PROJECT_SOURCE_DIR}/conformance/REPORT_SCHEMA.md
                ${PROJECT_SOURCE_DIR}/conformance/catalogue.json
          DESTINATION ${agent_doc_dir})
  foreach(doc openapi.yaml asyncapi.yaml)
    if(EXISTS ${PROJECT_SOURCE_DIR}/conformance/${doc})
      install(FILES ${PROJECT_SOURCE_DIR}/conformance/${doc} DESTINATION ${agent_doc_dir})
    endif()
  endforeach()
  if(EXISTS ${PROJECT_SOURCE_DIR}/examples/ci)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ci DESTINATION ${agent_doc_dir}/examples
            PATTERN "*.py" EXCLUDE PATTERN "__pycache__" EXCLUDE)
  endif()
  file(GLOB agent_load_scenarios ${PROJECT_SOURCE_DIR}/fixtures/load/*.json)
  install(FILES ${agent_load_scenarios} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/agent-service/load)
endif()

# Man pages from the installed programs' --help.
set(agent_manpage_args "")
if(TARGET agentd)
  string(APPEND agent_manpage_args " -DAGENTD=$<TARGET_FILE:agentd>")
endif()
if(TARGET agentcheck)
  string(APPEND agent_manpage_args " -DAGENTCHECK=$<TARGET_FILE:agentcheck>")
endif()
if(agent_manpage_args)
  install(CODE "execute_process(COMMAND \"${CMAKE_COMMAND}\" ${agent_manpage_args}
    \"-DOUT_DIR=\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1\"
    -DVERSION=${PROJECT_VERSION} -P \"${PROJECT_SOURCE_DIR}/cmake/manpages.cmake\"
    COMMAND_ERROR_IS_FATAL ANY)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME agent-service)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "agent-service")
set(CPACK_PACKAGE_CONTACT "agent-service maintainers <maintainers@agent-service.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "reference agent (agentd) and conformance harness (agentcheck) for agent-service/1")
set(CPACK_PACKAGE_DESCRIPTION
    "agentd is a complete reference implementation of the Agent Service Protocol; agentcheck \
tests any agent against it over HTTP (unit, integration, end-to-end, property-based, \
robustness, lifecycle and load checks) and writes JUnit, JSON, Markdown and HTML reports.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends: from the libraries the binaries link
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "curl")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
include(CPack)
