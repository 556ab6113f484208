; Inno Setup 6 script: a per-user installer for the one-folder app that
; packaging/patchwise.spec builds into dist\patchwise (docs/packaging.md).
;   iscc /DAppVersion=0.1.0 packaging\windows\patchwise.iss
; Output: dist\installer\Patchwise-<version>-setup.exe
; Written for Windows but built and tested only on Linux so far (see docs/packaging.md).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define SourceDir "..\..\dist\patchwise"

[Setup]
AppId={{4F2B7C1E-9A56-4C1D-8E2F-5B7D3A9C6E10}
AppName=Patchwise
AppVersion={#AppVersion}
AppPublisher=Patchwise
DefaultDirName={localappdata}\Programs\Patchwise
DefaultGroupName=Patchwise
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist\installer
OutputBaseFilename=Patchwise-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
UninstallDisplayIcon={app}\PatchwiseWorkbench.exe
WizardStyle=modern

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\Patchwise"; Filename: "{app}\PatchwiseWorkbench.exe"
Name: "{group}\Third-party notices"; Filename: "{app}\THIRD_PARTY_NOTICES.txt"
Name: "{group}\Uninstall Patchwise"; Filename: "{uninstallexe}"

[Run]
Filename: "{app}\PatchwiseWorkbench.exe"; Description: "Open Patchwise"; Flags: nowait postinstall skipifsilent
