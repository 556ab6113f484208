"""`keys`: the examiner's signing key and the keys this installation trusts.

    keys show                       the key folder, signer, fingerprint, trusted keys
    keys export-public OUT.pem      the examiner's public key, for others to trust
    keys trust KEY.pem              trust another examiner's or the lab's public key
    keys import-private KEY.pem --name NAME
                                    sign with a lab-issued Ed25519 key instead

The folder is $PATCHWISE_KEY_DIR, else ~/.local/share/patchwise/keys; a new key
is encrypted with $PATCHWISE_KEY_PASSPHRASE when that is set.
"""

from __future__ import annotations

from core.errors import UsageError


def register(commands) -> None:
    parser = commands.add_parser("keys", help="signing keys: show, export, trust, import")
    parser.add_argument("action", choices=["show", "export-public", "trust", "import-private"])
    parser.add_argument("file", nargs="?", help="the PEM file to write or read")
    parser.add_argument("--name", default=None, help="signer name for import-private")


def run(args) -> int:
    from core.atomic_write import write_bytes_atomically
    from core.signing import key_store
    from core.signing.keys import public_pem

    store = key_store()
    if args.action != "show" and not args.file:
        raise UsageError(f"keys {args.action} needs a PEM file")
    if args.action == "export-public":
        write_bytes_atomically(args.file, public_pem(store.signer().key.public_key()))
        print(f"public key written to {args.file}")
    elif args.action == "trust":
        print(f"trusted key {store.trust_public_key(args.file)}")
    elif args.action == "import-private":
        if not args.name:
            raise UsageError("keys import-private needs --name (who signs with this key)")
        signer = store.import_private_key(args.file, args.name)
        print(f"signing key of {signer.name} imported (fingerprint {signer.fingerprint})")
    print(f"key folder: {store.folder}")
    if store.has_signing_key():
        signer = store.signer()
        print(f"signer: {signer.name}, key {signer.fingerprint}")
    else:
        print("no signing key yet (one is created on the first save)")
    for fingerprint in sorted(store.trusted_fingerprints()):
        print(f"trusted: {fingerprint}")
    return 0
