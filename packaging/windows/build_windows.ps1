# Build the Windows app and its installer (docs/packaging.md). Run from the repository
# root in PowerShell, with Python 3.11 (py launcher) and Inno Setup 6 (iscc on PATH):
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
# Written for Windows but built and tested only on Linux so far.
$ErrorActionPreference = "Stop"

# Run a program and stop at its first failure (PowerShell does not for native programs).
function Invoke-Step {
    param([string]$Program, [string[]]$Arguments)
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Program $Arguments failed with exit code $LASTEXITCODE" }
}

if (-not (Test-Path .venv\Scripts\python.exe)) { Invoke-Step py @("-3.11", "-m", "venv", ".venv") }
$py = ".venv\Scripts\python.exe"
$pip = @("-m", "pip", "install", "--disable-pip-version-check")
# torch first and pinned: PyPI's Windows wheel of torch is the CPU build.
Invoke-Step $py ($pip + @("torch==2.13.0"))
Invoke-Step $py ($pip + @("-e", "."))
Invoke-Step $py ($pip + @("-r", "packaging\requirements-build.txt"))
Invoke-Step $py @("-c", "import sys, torch; sys.exit(0 if torch.version.cuda is None else 'CUDA torch in the build venv')")
$env:PYTHONPATH = (Get-Location).Path
Invoke-Step $py @("-m", "PyInstaller", "--noconfirm", "--clean", "packaging\patchwise.spec")
Invoke-Step "dist\patchwise\patchwise.exe" @("notices", "--out", "dist\patchwise\THIRD_PARTY_NOTICES.txt")
$version = & $py -c "from core import __version__; print(__version__)"
Invoke-Step iscc @("/DAppVersion=$version", "packaging\windows\patchwise.iss")
