"""The witness: a copy of every record's (position, hash) kept where the
database host cannot rewrite it, with Ed25519-signed Merkle tree heads.

The witness follows the log like the relay does. For every record it checks
the chain link and the hash of the bytes as stored, then appends
``{"position", "hash"}`` to ``witness.jsonl`` in the audit directory. Every
``AUDIT_SIGN_EVERY`` records, or ``AUDIT_SIGN_SECONDS`` after the last signed
head when records came in since, it appends a *signed tree head* to
``heads.jsonl``: the size, the RFC 9162 Merkle root over the record hashes
(``merkle.py``), the time, and a consistency proof from the previous head,
signed with the witness's Ed25519 key. Only the witness holds the private key;
auditors hold the public key.

:func:`audit` is what ``vsc audit verify`` runs: it checks every signed head
(signature, consistency with the previous one, root recomputed from the
witness log), recomputes the chain from the stored bytes and compares it with
the witness copy, and names the first position where the log and the witness
disagree, a removed tail included. docs/tamper-evidence.md has the design.

Run it without eventlet: ``python -m services.eventstore.witness``.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import signal
import threading
import time
from typing import Iterable, NamedTuple

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.eventstore.chain import check_record
from services.eventstore.errors import EventStoreError
from services.eventstore.interface import GENESIS_HASH, EventStore, utc_now
from services.eventstore.merkle import Tree, verify_consistency

WITNESS_LOG = "witness.jsonl"
HEADS_LOG = "heads.jsonl"
LOCK_FILE = "witness.lock"
KEY_FILE = "witness.key"
PUBLIC_KEY_FILE = "witness.pub"
HEAD_VERSION = "vsc-tree-head/1"


class AuditError(Exception):
    """The audit configuration or the witness's own files are unusable."""


# -- where the audit files live ---------------------------------------------------
class AuditPaths(NamedTuple):
    directory: str
    key_file: str
    public_key_file: str


def default_audit_dir(store_uri: str | None = None, environ=None) -> str:
    """``$XDG_DATA_HOME/vsc-audit/<store>`` (``~/.local/share/...`` without
    XDG_DATA_HOME): outside the repository's ``var/`` and the database's
    directory, one directory per event store, so two checkouts on one machine
    never share a witness copy."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "vsc-audit", _store_name(store_uri))


def _store_name(uri: str | None) -> str:
    """A file name for the store: the SQLite file's path, or a MongoDB URI's
    hosts and database (never its credentials)."""
    if not isinstance(uri, str) or "://" not in uri:
        return "default"
    if uri.startswith("sqlite:///"):
        name = os.path.realpath(uri[len("sqlite:///"):]).strip(os.sep).replace(os.sep, "-")
    else:
        scheme, rest = uri.split("://", 1)
        hosts, _, path = rest.rpartition("@")[2].partition("/")
        name = f"{scheme}-{hosts}-{path.split('?', 1)[0] or 'vsc'}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[-120:] or "default"


def _sqlite_directory(uri: str | None) -> str | None:
    if isinstance(uri, str) and uri.startswith("sqlite:///"):
        return os.path.dirname(os.path.realpath(uri[len("sqlite:///"):]))
    return None


def _inside(path: str, directory: str) -> bool:
    path = os.path.realpath(path)
    return path == directory or path.startswith(directory + os.sep)


def audit_paths(config: dict) -> AuditPaths:
    """The audit directory and key files from ``AUDIT_DIR``, ``AUDIT_KEY_FILE``
    and ``AUDIT_PUBLIC_KEY_FILE`` (empty: the defaults). Refuses any of them
    inside the SQLite database's directory: whoever can rewrite the database
    could then rewrite its evidence too."""
    directory = config.get("AUDIT_DIR") or default_audit_dir(config.get("EVENT_STORE_URI"))
    paths = AuditPaths(os.path.abspath(directory),
                       os.path.abspath(config.get("AUDIT_KEY_FILE") or os.path.join(directory, KEY_FILE)),
                       os.path.abspath(config.get("AUDIT_PUBLIC_KEY_FILE")
                                       or os.path.join(directory, PUBLIC_KEY_FILE)))
    database_dir = _sqlite_directory(config.get("EVENT_STORE_URI"))
    if database_dir is not None:
        for name, path in zip(("AUDIT_DIR", "AUDIT_KEY_FILE", "AUDIT_PUBLIC_KEY_FILE"), paths):
            if _inside(path, database_dir):
                raise AuditError(f"{name} {path} is inside the event store's directory {database_dir}: keep the "
                                 f"audit files where the database host cannot write (by default under "
                                 f"{os.path.dirname(default_audit_dir())})")
    return paths


# -- keys -------------------------------------------------------------------------------
def generate_keys(paths: AuditPaths) -> None:
    """Create the witness's Ed25519 key pair; never overwrites."""
    for path in (paths.key_file, paths.public_key_file):
        if os.path.exists(path):
            raise AuditError(f"{path} exists; not overwritten")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    for path, data, mode in ((paths.key_file, private, 0o600), (paths.public_key_file, public, 0o644)):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as handle:
            handle.write(data)


def load_private_key(path: str) -> Ed25519PrivateKey:
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
    except FileNotFoundError:
        raise AuditError(f"no witness key at {path}: create one with `vsc audit keygen`") from None
    except (ValueError, TypeError) as exc:
        raise AuditError(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: str) -> Ed25519PublicKey:
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_public_key(handle.read())
    except FileNotFoundError:
        raise AuditError(f"no witness public key at {path} (set AUDIT_PUBLIC_KEY_FILE)") from None
    except (ValueError, TypeError) as exc:
        raise AuditError(f"{path} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{path} is not an Ed25519 key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- signed tree heads ------------------------------------------------------------------
def _head_message(size: int, root: str, signed_at: str) -> bytes:
    return f"{HEAD_VERSION}\n{size}\n{root}\n{signed_at}\n".encode("ascii")


def sign_head(key: Ed25519PrivateKey, size: int, root: bytes, consistency: list[bytes],
              signed_at: str | None = None) -> dict:
    """A signed tree head: ``size`` records, Merkle ``root``, and the
    consistency proof from the previous head (not signed: it is checked)."""
    signed_at = signed_at or utc_now()
    return {"size": size, "root": root.hex(), "signed_at": signed_at, "key_id": key_id(key.public_key()),
            "consistency": [node.hex() for node in consistency],
            "signature": key.sign(_head_message(size, root.hex(), signed_at)).hex()}


def head_signature_ok(public_key: Ed25519PublicKey, head: dict) -> bool:
    try:
        public_key.verify(bytes.fromhex(head["signature"]),
                          _head_message(int(head["size"]), str(head["root"]), str(head["signed_at"])))
        return True
    except (InvalidSignature, KeyError, TypeError, ValueError, UnicodeError):
        return False


# -- the witness's files -------------------------------------------------------------------
def _read_lines(path: str) -> list[bytes]:
    """Complete lines only: a last line without its newline is a write the
    witness had not finished (it repairs it on start)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return []
    return data.split(b"\n")[:-1]


def read_witness(directory: str) -> tuple[list[dict], list[tuple[int, str]]]:
    """The signed heads and the witnessed (position, hash) pairs. Heads are
    read first: each head is written after the entries it covers, so every
    head read is covered by the entries read after it, even while the witness
    is writing."""
    heads, entries = [], []
    for number, line in enumerate(_read_lines(os.path.join(directory, HEADS_LOG)), 1):
        try:
            head = orjson.loads(line)
            if not isinstance(head, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise AuditError(f"{HEADS_LOG} line {number} is damaged: {exc}") from None
        heads.append(head)
    for number, line in enumerate(_read_lines(os.path.join(directory, WITNESS_LOG)), 1):
        try:
            entry = orjson.loads(line)
            entries.append((entry["position"], entry["hash"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(f"{WITNESS_LOG} line {number} is damaged: {exc}") from None
    return heads, entries


class WitnessState(NamedTuple):
    """The witness copy once its own consistency is established."""
    tree: Tree
    hashes: list[str]     # hashes[p - 1]: the record hash witnessed at position p
    heads: list[dict]
    problem: str | None   # what is wrong with the witness files, if anything
    trusted: int          # entries covered by a head that checked out (or all, if no problem)


def check_witness(heads: list[dict], entries: list[tuple[int, str]],
                  public_key: Ed25519PublicKey) -> WitnessState:
    """Check the witness copy against its signed heads: every signature, each
    head's consistency proof from the one before, and each head's root
    recomputed from the entries. The first failure is the ``problem``;
    ``trusted`` is how many entries the heads before it vouch for."""
    tree, hashes = Tree(), []
    for index, (position, hash_) in enumerate(entries):
        if position != index + 1:
            return WitnessState(tree, hashes, heads, f"{WITNESS_LOG} skips from position {index} to {position}",
                                _trusted_before(heads, index))
        try:
            tree.append(bytes.fromhex(hash_))
        except (TypeError, ValueError):
            return WitnessState(tree, hashes, heads, f"{WITNESS_LOG} holds a malformed hash at position {position}",
                                _trusted_before(heads, index))
        hashes.append(hash_)
    previous_size, previous_root = 0, Tree().root()
    for number, head in enumerate(heads, 1):
        fault = None
        if not head_signature_ok(public_key, head):
            fault = f"signed head {number} (size {head.get('size')}) has no valid signature for this public key"
        else:
            size, root = int(head["size"]), bytes.fromhex(head["root"])
            try:
                proof = [bytes.fromhex(node) for node in head.get("consistency", [])]
            except (TypeError, ValueError):
                proof = None
            if size > len(tree):
                fault = (f"{WITNESS_LOG} holds {len(tree)} records but signed head {number} covers {size}: "
                         f"the witness log was cut short")
            elif proof is None or not verify_consistency(previous_size, size, previous_root, root, proof):
                fault = (f"signed head {number} (size {size}) is not consistent with the head before it "
                         f"(size {previous_size})")
            elif tree.root(size) != root:
                fault = (f"{WITNESS_LOG} does not give the root signed at size {size}: the witness copy was "
                         f"altered between positions {previous_size + 1} and {size}")
        if fault is not None:
            return WitnessState(tree, hashes, heads, fault, previous_size)
        previous_size, previous_root = size, root
    return WitnessState(tree, hashes, heads, None, len(hashes))


def _trusted_before(heads: list[dict], count: int) -> int:
    return max([int(h.get("size", 0)) for h in heads if int(h.get("size", 0)) <= count] or [0])


class WitnessLog:
    """The witness's own files; only the witness process writes them."""

    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._lock = open(os.path.join(directory, LOCK_FILE), "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise AuditError(f"another witness is writing {directory}") from None
        for name in (WITNESS_LOG, HEADS_LOG):
            self._repair(os.path.join(directory, name))
        self._entries = open(os.path.join(directory, WITNESS_LOG), "ab")
        self._heads = open(os.path.join(directory, HEADS_LOG), "ab")

    @staticmethod
    def _repair(path: str) -> None:
        """Cut a last line the witness did not finish writing (a crash)."""
        try:
            with open(path, "rb+") as handle:
                data = handle.read()
                if data and not data.endswith(b"\n"):
                    handle.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    @staticmethod
    def _write(handle, lines: Iterable[bytes]) -> None:
        handle.write(b"".join(lines))
        handle.flush()
        os.fsync(handle.fileno())

    def append_entries(self, entries: list[tuple[int, str]]) -> None:
        self._write(self._entries, (b'{"position":%d,"hash":"%s"}\n' % (p, h.encode("ascii")) for p, h in entries))

    def append_head(self, head: dict) -> None:
        self._write(self._heads, [orjson.dumps(head) + b"\n"])

    def close(self) -> None:
        self._entries.close()
        self._heads.close()
        self._lock.close()


# -- the witness process -------------------------------------------------------------------
class Witness:
    """Follows ``store`` and keeps the witness copy in ``directory``."""

    def __init__(self, store: EventStore, directory: str, key: Ed25519PrivateKey, *, sign_every: int = 100,
                 sign_seconds: float = 10.0, poll_interval: float = 0.5, batch_size: int = 5000, log=None):
        self.store, self.key = store, key
        self.sign_every, self.sign_seconds = sign_every, sign_seconds
        self.poll_interval, self.batch_size = poll_interval, batch_size
        self.log = log
        self.stopping = threading.Event()
        self.files = WitnessLog(directory)
        try:
            state = check_witness(*read_witness(directory), key.public_key())
        except AuditError:
            self.files.close()
            raise
        if state.problem is not None:
            self.files.close()
            raise AuditError(f"the witness copy in {directory} does not check out, refusing to extend it: "
                             f"{state.problem}")
        self.tree, self.last_hash = state.tree, (state.hashes[-1] if state.hashes else GENESIS_HASH)
        self.signed = int(state.heads[-1]["size"]) if state.heads else 0
        self._signed_clock = time.monotonic()
        self.damaged_at: int | None = None  # the record the witness refuses, while it refuses it
        self.shortened = False

    @property
    def size(self) -> int:
        return len(self.tree)

    def _info(self, event: str, **fields) -> None:
        if self.log is not None:
            self.log.info(event, **fields)

    def witness_once(self) -> int:
        """Witness the next records after the copy's end (at most a batch);
        stops before a record that fails its check, which is never witnessed.
        Returns how many were witnessed."""
        entries, prev_hash, position = [], self.last_hash, self.size
        for record in self.store.read_raw(after=position, until=position + self.batch_size):
            problem = check_record(record, position + 1, prev_hash)
            if problem is not None:
                if self.damaged_at != position + 1 and self.log is not None:
                    self.log.error("witness.damaged_record", position=position + 1, problem=problem)
                self.damaged_at = position + 1
                break
            position, prev_hash = record.position, record.hash
            entries.append((position, prev_hash))
        if entries:
            self.files.append_entries(entries)  # on disk before the tree (and any head) covers them
            for _, hash_ in entries:
                self.tree.append(bytes.fromhex(hash_))
            self.last_hash = prev_hash
            if self.damaged_at is not None and self.damaged_at <= position:
                self.damaged_at = None
        elif self.damaged_at is None:
            shortened = self.store.head().position < self.size
            if shortened and not self.shortened and self.log is not None:
                self.log.error("witness.log_shortened", witnessed=self.size, head=self.store.head().position)
            self.shortened = shortened
        return len(entries)

    def sign_if_due(self, force: bool = False) -> dict | None:
        """Sign a tree head when ``sign_every`` records or ``sign_seconds``
        went by unsigned (or ``force``, with anything unsigned)."""
        unsigned = self.size - self.signed
        if unsigned <= 0:
            return None
        if not (force or unsigned >= self.sign_every
                or time.monotonic() - self._signed_clock >= self.sign_seconds):
            return None
        root = self.tree.root()
        head = sign_head(self.key, self.size, root, self.tree.consistency_proof(self.signed))
        self.files.append_head(head)
        self.signed, self._signed_clock = self.size, time.monotonic()
        self._info("witness.signed", size=head["size"], root=head["root"])
        return head

    def run(self) -> None:
        backoff = 0.5
        self._info("witness.started", size=self.size, signed=self.signed)
        while not self.stopping.is_set():
            try:
                count = self.witness_once()
                self.sign_if_due()
                backoff = 0.5
                if count < self.batch_size:
                    self.stopping.wait(self.poll_interval)
            except EventStoreError as exc:
                if self.log is not None:
                    self.log.warning("witness.store_unavailable", error=type(exc).__name__,
                                     detail=str(exc)[:200], retry_in=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.sign_if_due(force=True)
        self._info("witness.stopped", size=self.size, signed=self.signed)

    def stop(self, *_args) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.files.close()


def open_witness(store: EventStore, config: dict, log=None) -> Witness:
    """The witness for ``config``. A fresh audit directory without a key gets
    a new key pair (that is how ``make run`` starts one); a witness copy whose
    key is missing is refused rather than continued under a new identity."""
    paths = audit_paths(config)
    if not os.path.exists(paths.key_file):
        heads, entries = read_witness(paths.directory)
        if heads or entries:
            raise AuditError(f"{paths.directory} holds a witness copy but its key {paths.key_file} is missing")
        generate_keys(paths)
        if log is not None:
            log.info("witness.key_created", key_file=paths.key_file, public_key_file=paths.public_key_file)
    return Witness(store, paths.directory, load_private_key(paths.key_file),
                   sign_every=int(config.get("AUDIT_SIGN_EVERY") or 100),
                   sign_seconds=float(config.get("AUDIT_SIGN_SECONDS") or 10), log=log)


# -- auditing the log against the witness ------------------------------------------------------
class Audit(NamedTuple):
    ok: bool
    checked: int                     # records of the log whose chain was checked
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None
    witnessed: int = 0               # records the witness copy holds
    signed: int = 0                  # records covered by the newest signed head
    signed_at: str | None = None
    unwitnessed: int = 0             # newest records the witness had not seen yet (chain-checked only)
    warning: str | None = None


def audit(store: EventStore, heads: list[dict], entries: list[tuple[int, str]],
          public_key: Ed25519PublicKey | None, checkpoint: dict | None = None) -> Audit:
    """Verify the log: the chain from the stored bytes, and every record
    against the witness copy as far as its signed heads (and ``checkpoint``,
    a head saved earlier) vouch for it. Names the first position where the
    log breaks its chain or disagrees with the witness, a removed tail
    included; a witness copy that does not check out is a failure too."""
    if public_key is None:
        state = WitnessState(Tree(), [], [], None, 0)
    else:
        state = check_witness(heads, entries, public_key)
    witness_problem = state.problem
    hashes = state.hashes[:state.trusted]
    required = len(hashes)
    if checkpoint is not None and witness_problem is None:
        witness_problem, required = _check_checkpoint(checkpoint, state, public_key, required)
    newest = state.heads[-1] if state.heads and state.problem is None else None
    extra = {"witnessed": len(state.hashes), "signed": int(newest["size"]) if newest else 0,
             "signed_at": newest["signed_at"] if newest else None}

    expected, prev_hash, checked, bad, problem = 1, GENESIS_HASH, 0, None, None
    for record in store.read_raw():
        fault = check_record(record, expected, prev_hash)
        if fault is None and expected <= len(hashes) and record.hash != hashes[expected - 1]:
            fault = ("the record differs from the one the witness saw at this position (it was rewritten, "
                     "and every later hash recomputed)")
        if fault is not None:
            bad, problem = expected, fault
            break
        prev_hash, expected, checked = record.hash, expected + 1, checked + 1
    else:
        if checked < required:
            bad = checked + 1
            problem = f"records after position {checked} were removed (the witness saw {required})"
    if problem is None:
        problem = witness_problem
    warning = None
    unwitnessed = max(0, checked - len(state.hashes))
    if public_key is None:
        warning = ("no witness copy was checked: the chain alone cannot see a rewrite that recomputes every "
                   "later hash, nor the removal of the newest records")
    elif problem is None and unwitnessed:
        warning = f"the newest {unwitnessed} records are not witnessed yet: only their chain was checked"
    return Audit(problem is None, checked, checked, prev_hash, bad, problem,
                 unwitnessed=unwitnessed, warning=warning, **extra)


def _check_checkpoint(checkpoint: dict, state: WitnessState, public_key, required: int):
    """A head saved earlier (``vsc audit checkpoint``) must still be a prefix
    of the witness copy: the newest head must be consistent with it."""
    if not head_signature_ok(public_key, checkpoint):
        return "the saved checkpoint has no valid signature for this public key", required
    size, root = int(checkpoint["size"]), bytes.fromhex(checkpoint["root"])
    if size > len(state.tree):
        return (f"the witness copy holds {len(state.tree)} records but the saved checkpoint covers {size}: "
                f"the witness copy was cut short"), required
    newest = int(state.heads[-1]["size"]) if state.heads else 0
    newest_root = bytes.fromhex(state.heads[-1]["root"]) if state.heads else state.tree.root(0)
    if size <= newest:
        proof = state.tree.consistency_proof(size, newest)
        consistent = verify_consistency(size, newest, root, newest_root, proof)
    else:  # saved after the newest head was written: compare with the unsigned entries
        consistent = state.tree.root(size) == root
    if not consistent:
        return (f"the witness copy is not consistent with the saved checkpoint of size {size}: it was "
                f"rewritten since"), required
    return None, max(required, size)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Witness the event store: copy (position, hash) of every "
                                                 "record to the audit directory and sign tree heads.")
    parser.add_argument("--config", default=None, help="YAML config (default: environment only)")
    args = parser.parse_args(argv)
    from services.chassis import logging as vsc_logging
    from services.chassis.config import load_config
    from services.eventstore import open_store
    config = load_config(args.config)
    vsc_logging.configure(config.get("LOG_LEVEL", "INFO"))
    log = vsc_logging.get_logger(service="witness")
    store = open_store(config.get("EVENT_STORE_URI", "sqlite:///var/events.db"))
    try:
        witness = open_witness(store, config, log)
    except AuditError as exc:
        log.error("witness.refused", problem=str(exc))
        store.close()
        return 2
    signal.signal(signal.SIGTERM, witness.stop)
    signal.signal(signal.SIGINT, witness.stop)
    try:
        witness.run()
    finally:
        witness.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
