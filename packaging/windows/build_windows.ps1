# Build the Windows app and its installer (docs/packaging.md). Run from the repository
# root in PowerShell, with Python 3.11 (py launcher) and Inno Setup 6 (iscc on PATH):
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
# Written for Windows but built and tested only on Linux so far.
$ErrorActionPreference = "Stop"
if (-not (Test-Path .venv\Scripts\python.exe)) { py -3.11 -m venv .venv }
$py = ".venv\Scripts\python.exe"
# torch first and pinned: PyPI's Windows wheel of torch is the CPU build.
& $py -m pip install --disable-pip-version-check "torch==2.13.0"
& $py -m pip install --disable-pip-version-check -e .
& $py -m pip install --disable-pip-version-check -r packaging\requirements-build.txt
& $py -c "import sys, torch; sys.exit(0 if torch.version.cuda is None else 'CUDA torch in the build venv')"
$env:PYTHONPATH = (Get-Location).Path
& $py -m PyInstaller --noconfirm --clean packaging\patchwise.spec
& dist\patchwise\patchwise.exe notices --out dist\patchwise\THIRD_PARTY_NOTICES.txt
$version = & $py -c "from core import __version__; print(__version__)"
iscc "/DAppVersion=$version" packaging\windows\patchwise.iss
