"""Secrets recognised by their value, not only by their key's name, with Yelp's detect-secrets.

Its plugins and filters find credentials inside URLs (`scheme://user:password@host`), private keys, AWS access keys,
the well-known token formats (GitHub, Slack, Stripe, JWTs...) and high-entropy strings. Two of its findings are
dropped here, each for a reason that holds for values in environment files:
- a high-entropy base64 string that decodes to printable text is encoded public text, not key material;
- a high-entropy hex string under a key that names a digest (a commit SHA, a checksum, Terraform's triggers) is that
  digest.
A key may also be declared not secret, per key, in the settings file (SECRET_KEY_ALLOWLIST); synth names each one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

# Key names that hold secrets (checked besides the values), and the usual names that do not.
# KEY counts as the name's last word (STORE_ENCRYPTION_KEY, KEY) or after a word that makes it one (API_KEY_V2), not in
# the middle of other words (SORT_KEY_TYPE).
SECRET_KEY_RE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|DSN|(^|_)KEYS?$|"
                           r"(API|ACCESS|AUTH|SIGNING|ENCRYPTION|MASTER|SESSION)_?KEY")
NOT_SECRET_KEY_RE = re.compile(r"_KEY_ID$|^KEY_ID$|PUBLIC_KEY|_KEY_PREFIX$|_KEY_NAME$")
# Terraform's `triggers` hold digests of what should replace a resource (a deployment's redeployment trigger).
DIGEST_KEY_RE = re.compile(r"SHA|COMMIT|REVISION|CHECKSUM|DIGEST|HASH|ETAG|VERSION|TRIGGERS")
BASE64_ENTROPY, HEX_ENTROPY, URL_CREDENTIALS = ("Base64 High Entropy String", "Hex High Entropy String",
                                                "Basic Auth Credentials")


@dataclass(frozen=True)
class Finding:
    key: str
    kind: str       # detect-secrets' name for it: "Basic Auth Credentials", "AWS Access Key", ...
    hint: str       # the value masked

    @property
    def in_url(self) -> bool:
        return self.kind == URL_CREDENTIALS


def key_looks_secret(key: str) -> bool:
    upper = key.upper()
    return bool(SECRET_KEY_RE.search(upper)) and not NOT_SECRET_KEY_RE.search(upper)


def masked(value: str) -> str:
    """A hint of a value that shows none of its secret: a URL without its password, else its ends and length."""
    parts = urlsplit(value) if "://" in value else None
    if parts and parts.password:
        return value.replace(f":{parts.password}@", ":****@", 1)
    if len(value) <= 8:
        return f"({len(value)} characters)"
    return f"{value[:2]}…{value[-2:]} ({len(value)} characters)"


def _printable_base64(text: str) -> bool:
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        return decoded.decode("utf-8").isprintable()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False


def scan(values: list[tuple[str, str]]) -> list[Finding | None]:
    """For each (key, value), the kind of secret its value holds (a named format before an entropy finding), or None.

    One file for all the values, each quoted on its own line: detect-secrets reads a file in views (its raw lines,
    then parsed as a config file) and stops at the first view with a finding, so an unquoted high-entropy value,
    which only the parsed view finds, would go unseen beside any other secret; quoted, the raw view finds it. It
    reports each secret once per file: the values are scanned once each, and their findings given to every key."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    if not values:
        return []
    unique = list(dict.fromkeys(value for _, value in values))
    handle, path = tempfile.mkstemp(suffix=".env", text=True)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for value in unique:
                text = " ".join(value.splitlines())
                quote = '"' if '"' not in text else "'"
                out.write(f"VALUE={quote}{text}{quote}\n")
        collection = SecretsCollection()
        with default_settings():
            collection.scan_file(path)
        by_value: dict[str, list] = {}
        for _, secret in collection:
            by_value.setdefault(unique[secret.line_number - 1], []).append(secret)
    finally:
        os.unlink(path)
    found: list[Finding | None] = []
    for key, value in values:
        kinds = [s for s in by_value.get(value, []) if not _explained(key, s)]
        kinds.sort(key=lambda s: (s.type in (BASE64_ENTROPY, HEX_ENTROPY), s.type))
        found.append(Finding(key, kinds[0].type, masked(value)) if kinds else None)
    return found


def _explained(key: str, secret) -> bool:
    """A finding this module drops, for the reasons its docstring gives."""
    text = secret.secret_value or ""
    return (secret.type == BASE64_ENTROPY and _printable_base64(text)) or \
        (secret.type == HEX_ENTROPY and bool(DIGEST_KEY_RE.search(key.upper())))


def advice(finding: Finding) -> str:
    """What to do instead of writing the value."""
    fix = ("store it in Secrets Manager and write its ARN here instead (docs/worker-environment.md, 'Secrets are passed by reference'); the worker gets the value "
           "at start, and only the ARN is in Terraform")
    if finding.in_url:
        fix += ("; for a URL, build it at start from a secret: for this stack's database from DB_HOST, DB_PORT, "
                "DB_NAME and the JSON in DB_SECRET, else from a secret that holds the whole URL "
                "(DATABASE_URL=arn:aws:secretsmanager:...)")
    return fix
