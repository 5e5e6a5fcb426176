# Packaging: `cpack -G DEB` in the build folder. Included from the top-level
# CMakeLists.txt. Desktop entry, AppStream metainfo and hicolor icons are
# installed with the GUI; demo assets go to share/saescope.
set(SAESCOPE_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)
if(SAESCOPE_GUI)
  add_executable(saescope-render-icon ${SAESCOPE_PACKAGING_DIR}/render_icon.cpp)
  target_link_libraries(saescope-render-icon PRIVATE Qt6::Gui Qt6::Svg)
  set(icon_pngs)
  foreach(size 16 24 32 48 64 128 256)
    set(png ${CMAKE_BINARY_DIR}/icons/${size}/saescope.png)
    add_custom_command(OUTPUT ${png}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/icons/${size}
      COMMAND saescope-render-icon ${SAESCOPE_PACKAGING_DIR}/icons/saescope.svg ${size} ${png}
      DEPENDS saescope-render-icon ${SAESCOPE_PACKAGING_DIR}/icons/saescope.svg
      COMMENT "Rendering ${size}px icon")
    list(APPEND icon_pngs ${png})
    install(FILES ${png} DESTINATION share/icons/hicolor/${size}x${size}/apps)
  endforeach()
  add_custom_target(saescope-icons ALL DEPENDS ${icon_pngs})
  install(FILES ${SAESCOPE_PACKAGING_DIR}/icons/saescope.svg
          DESTINATION share/icons/hicolor/scalable/apps)
  install(FILES ${SAESCOPE_PACKAGING_DIR}/io.github.saescope.SAEScope.desktop
          DESTINATION share/applications)
  install(FILES ${SAESCOPE_PACKAGING_DIR}/io.github.saescope.SAEScope.metainfo.xml
          DESTINATION share/metainfo)
endif()
if(EXISTS ${CMAKE_SOURCE_DIR}/resources/demo)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/resources/demo/ DESTINATION share/saescope/demo)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/saescope)

set(CPACK_PACKAGE_NAME saescope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "SAEScope developers <saescope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Explore sparse autoencoder features of GPT-2 models")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Shared-library dependencies (LibTorch, Qt, SQLite, PCRE2, zlib) come from
# dpkg-shlibdeps; the BLAS and WordNet are loaded at run time, so name them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread, wordnet-base")
set(CPACK_GENERATOR DEB)
include(CPack)
