"""`notices --out FILE`: write the third-party licence notices (bundled model weights,
fonts and the Python distributions Patchwise runs on) as one text file."""

from __future__ import annotations

from core.atomic_write import write_bytes_atomically


def register(commands) -> None:
    parser = commands.add_parser(
        "notices", help="write the third-party licence notices (models, fonts, libraries)"
    )
    parser.add_argument("--out", required=True, metavar="TXT", help="the text file to write")


def run(args) -> int:
    from core.third_party_notices import all_notices, notices_text

    notices = all_notices()
    write_bytes_atomically(args.out, notices_text(notices).encode("utf-8"))
    print(f"{len(notices)} notices written to {args.out}")
    return 0
