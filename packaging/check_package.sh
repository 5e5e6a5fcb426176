#!/usr/bin/env bash
# CTest: the .deb builds, holds what it promises, and its metadata validates.
#   check_package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1" src="$2"
cd "$build"
rm -f saescope_*.deb
cpack -G DEB > cpack.log 2>&1 || { cat cpack.log; exit 1; }
deb=$(ls saescope_*.deb)
contents=$(dpkg-deb -c "$deb")
fail=0
for path in ./usr/bin/saescope-cli ./usr/bin/saescope \
            ./usr/share/applications/io.github.saescope.SAEScope.desktop \
            ./usr/share/metainfo/io.github.saescope.SAEScope.metainfo.xml \
            ./usr/share/icons/hicolor/48x48/apps/saescope.png \
            ./usr/share/icons/hicolor/256x256/apps/saescope.png \
            ./usr/share/icons/hicolor/scalable/apps/saescope.svg; do
  grep -q " $path\$" <<<"$contents" || { echo "missing from $deb: $path"; fail=1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libtorch libqt6widgets6 libopenblas0-pthread wordnet-base libsqlite3; do
  grep -q "$dep" <<<"$depends" || { echo "$deb does not depend on $dep: $depends"; fail=1; }
done
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net "$src/packaging/io.github.saescope.SAEScope.metainfo.xml" || fail=1
else
  echo "appstreamcli not installed: metainfo not validated"; fail=1
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$src/packaging/io.github.saescope.SAEScope.desktop" || fail=1
fi
[ "$fail" = 0 ] && echo "package $deb: contents, dependencies and metadata OK"
exit "$fail"
