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
for path in ./usr/share/saescope/demo/model/config.json ./usr/share/saescope/demo/model/model.safetensors \
            ./usr/share/saescope/demo/model/vocab.json ./usr/share/saescope/demo/corpus/demo_corpus.jsonl \
            ./usr/share/saescope/demo/README.md ./usr/share/saescope/demo/LICENSES; do
  grep -q " $path\$" <<<"$contents" || { echo "missing from $deb: $path"; fail=1; }
done
grep -q " ./usr/share/saescope/demo/saes/.*/cfg.json\$" <<<"$contents" ||
  { echo "missing from $deb: the demo SAEs (usr/share/saescope/demo/saes/*/cfg.json)"; fail=1; }
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libtorch libqt6widgets6 libopenblas0-pthread wordnet-base libsqlite3 zlib1g; do
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
# Installed into a clean directory tree, the package runs its demo from its own
# files (usr/share/saescope/demo, found relative to usr/bin) and draws the
# charts with its own GUI binary. The miniature WordNet keeps this quick; the
# full demo is README's main command.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
if env -u SAESCOPE_DEMO_DIR "$root/usr/bin/saescope-cli" demo --out "$root/run" \
     --wordnet-dir "$src/tests/fixtures/polysemy/wordnet_mini" --pseval-split "" \
     --harvest-tokens 2048 --eval-tokens 1024 > "$root/demo.log" 2>&1; then
  for f in evaluation.csv pseval_summary.txt mse_l0.png mse_l0.pdf layers.png layers.pdf report.pdf; do
    [ -s "$root/run/$f" ] || { echo "installed demo did not write $f"; fail=1; }
  done
  grep -q "$root/usr/share/saescope/demo" "$root/demo.log" ||
    { echo "installed demo did not use the installed assets:"; head -5 "$root/demo.log"; fail=1; }
else
  echo "installed saescope-cli demo failed:"; tail -20 "$root/demo.log"; fail=1
fi
[ "$fail" = 0 ] && echo "package $deb: contents, dependencies, metadata and installed demo OK"
exit "$fail"
