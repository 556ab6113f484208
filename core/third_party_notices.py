"""Third-party licence notices: the Python distributions Patchwise runs on, the bundled
fonts and the bundled model weights, each with the licence texts that came with it.

The distributions are the runtime dependency closure of the installed `patchwise`
distribution (its requirements, theirs, and so on; extras left out), read with
importlib.metadata. Their licence texts are the licence, copying and notice files
listed in each distribution's RECORD. The desktop bundle carries the same
metadata folders (packaging/patchwise.spec), so this reads the same inside it.
`main.py notices --out FILE` (core/cli/notices.py) writes them as one text file.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.resource_paths import RESOURCES_DIR

APP_DISTRIBUTION = "patchwise"
LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice|thirdpartynotices)", re.IGNORECASE)
NO_TEXT = "(no licence file is shipped with this distribution; its declared licence is above)"


@dataclass(frozen=True)
class Notice:
    """One component's licence: its name, version, declared licence and licence texts."""

    name: str
    version: str
    kind: str  # "python distribution", "font", "model weights"
    licence: str
    texts: tuple[tuple[str, str], ...]  # (file name, text)


def runtime_distributions(root: str = APP_DISTRIBUTION) -> list[metadata.Distribution]:
    """The installed distributions `root` needs at run time, itself excluded, sorted by name.

    Raises LookupError when `root` itself is not installed (its requirements are unknown)."""
    try:
        metadata.distribution(root)
    except metadata.PackageNotFoundError as exc:
        raise LookupError(
            f"{root} is not installed as a distribution (run packaging/bootstrap.sh), "
            "so its dependencies cannot be listed"
        ) from exc
    found: dict[str, metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform, or optional and absent
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    found.pop(canonicalize_name(root), None)
    return [found[name] for name in sorted(found)]


def declared_licence(dist: metadata.Distribution) -> str:
    """The SPDX expression, else a one-line License field, else the licence classifiers,
    else the first line with words of a License field that holds a whole text."""
    meta = dist.metadata
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    lines = [line.strip() for line in (meta.get("License") or "").splitlines()]
    lines = [line for line in lines if any(c.isalpha() for c in line)]
    if len(lines) == 1:
        return lines[0]
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if "License" in c]
    if classifiers:
        return ", ".join(classifiers)
    return lines[0] if lines else "not declared in its metadata"


def licence_files(dist: metadata.Distribution) -> list[metadata.PackagePath]:
    """The licence, copying and notice files the distribution installed: in its metadata
    folder, or at the top of its package (onnxruntime keeps them there); no source files."""
    found = []
    for file in dist.files or []:
        if not LICENCE_FILE.match(file.name) or file.suffix == ".py":
            continue
        if file.parts[0].endswith(".dist-info") or len(file.parts) <= 2:
            found.append(file)
    return found


def licence_texts(dist: metadata.Distribution) -> tuple[tuple[str, str], ...]:
    texts = []
    for file in licence_files(dist):
        try:
            data = dist.locate_file(file).read_bytes()
        except OSError:
            continue  # listed in RECORD but not installed
        texts.append((str(file), data.decode("utf-8", errors="replace")))
    return tuple(texts)


def distribution_notices() -> list[Notice]:
    return [
        Notice(
            name=dist.metadata["Name"],
            version=dist.version,
            kind="python distribution",
            licence=declared_licence(dist),
            texts=licence_texts(dist),
        )
        for dist in runtime_distributions()
    ]


def font_notice() -> Notice:
    fonts = RESOURCES_DIR / "fonts"
    return Notice(
        name="DejaVu fonts",
        version="2.37",
        kind="font",
        licence="Bitstream Vera / DejaVu font licence (see the text)",
        texts=(("resources/fonts/LICENSE", (fonts / "LICENSE").read_text(encoding="utf-8")),),
    )


def model_notices() -> list[Notice]:
    """One notice per third-party entry of resources/models/manifest.json (those with a
    `license` block); Patchwise's own files there, such as the fusion fit, have none."""
    manifest = json.loads((RESOURCES_DIR / "models" / "manifest.json").read_text("utf-8"))
    notices = []
    for model_id, entry in sorted(manifest.items()):
        if "license" not in entry:
            continue
        licence = entry["license"]
        source = entry.get("source", {})
        version = source.get("version") or "see origin"
        text = "\n\n".join(
            f"{key}: {value}" for key, value in licence.items() if isinstance(value, str)
        )
        origin = entry.get("origin")
        if origin:
            text = f"origin: {origin}\n\n{text}"
        notices.append(
            Notice(
                name=f"model weights: {model_id}",
                version=version,
                kind="model weights",
                licence=licence.get("spdx") or licence.get("wheel_metadata") or "see the text",
                texts=(("resources/models/manifest.json", text),),
            )
        )
    return notices


def all_notices() -> list[Notice]:
    """Models first, then fonts, then every Python distribution."""
    return [*model_notices(), font_notice(), *distribution_notices()]


def notices_text(notices: list[Notice]) -> str:
    """The notices as one plain-text document (THIRD_PARTY_NOTICES.txt)."""
    rule = "=" * 78
    parts = [
        "Patchwise third-party notices\n\n"
        "Patchwise bundles the model weights, fonts and Python distributions below.\n"
        "Each is listed with its declared licence and the licence texts it shipped with.\n"
    ]
    for notice in notices:
        parts.append(f"{rule}\n{notice.name} {notice.version} ({notice.kind})\n")
        parts.append(f"Licence: {notice.licence}\n")
        for file_name, text in notice.texts or (("", NO_TEXT),):
            heading = f"--- {file_name} ---\n" if file_name else ""
            parts.append(f"\n{heading}{text.rstrip()}\n")
    return "\n".join(parts)
