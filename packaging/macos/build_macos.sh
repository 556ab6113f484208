#!/usr/bin/env bash
# Build Patchwise.app and a disk image on macOS (docs/packaging.md).
#   bash packaging/bootstrap.sh && bash packaging/macos/build_macos.sh
# Output: dist/Patchwise.app and dist/Patchwise-<version>.dmg.
# Set CODESIGN_IDENTITY="Developer ID Application: ..." to sign; notarise the .dmg with
# `xcrun notarytool submit ... --wait` and `xcrun stapler staple` afterwards.
# Written for macOS but built and tested only on Linux so far.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash packaging/build_app.sh  # on macOS the spec adds the windowed twin and the .app
app="dist/Patchwise.app"
version="$(.venv/bin/python -c 'from core import __version__; print(__version__)')"
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --deep --force --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
fi
hdiutil create -volname Patchwise -srcfolder "$app" -ov -format UDZO "dist/Patchwise-$version.dmg"
echo "built $app and dist/Patchwise-$version.dmg"
