"""The Merkle tree of RFC 9162 and the witness's own files: signed heads,
consistency proofs, a witness copy that was altered, restarts and the
witness process itself."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from services.eventstore import NewEvent, open_store
from services.eventstore.interface import utc_now
from services.eventstore.merkle import EMPTY_ROOT, Tree, leaf_hash, node_hash, verify_consistency
from services.eventstore.witness import (
    HEADS_LOG, WITNESS_LOG, AuditError, AuditPaths, Witness, audit, check_witness, default_audit_dir, generate_keys,
    load_private_key, open_witness, read_witness,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the leaves of Certificate Transparency's RFC 6962 test vectors, and their roots
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
CT_ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
CT_PROOFS = {(1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
             (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
             (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]}


def mth(leaves):
    """RFC 9162 2.1.1, word for word: the reference the tree is held to."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def tree_of(leaves):
    tree = Tree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


# -- the Merkle tree ---------------------------------------------------------------------
def test_the_tree_gives_the_roots_of_the_certificate_transparency_test_vectors():
    tree = Tree()
    assert tree.root() == EMPTY_ROOT
    for leaf, root in zip(CT_LEAVES, CT_ROOTS):
        tree.append(leaf)
        assert tree.root().hex() == root
    assert [tree.root(size).hex() for size in range(1, 9)] == CT_ROOTS


@pytest.mark.parametrize("sizes, proof", CT_PROOFS.items())
def test_consistency_proofs_are_those_of_the_test_vectors_and_verify(sizes, proof):
    tree, (first, second) = tree_of(CT_LEAVES), sizes
    assert [node.hex() for node in tree.consistency_proof(first, second)] == proof
    assert verify_consistency(first, second, tree.root(first), tree.root(second), tree.consistency_proof(*sizes))


def test_every_root_and_every_consistency_proof_up_to_40_leaves_agrees_with_the_definition():
    leaves = [f"leaf {n}".encode() for n in range(40)]
    tree = tree_of(leaves)
    for second in range(41):
        assert tree.root(second) == mth(leaves[:second])
        for first in range(second + 1):
            proof = tree.consistency_proof(first, second)
            assert verify_consistency(first, second, tree.root(first), tree.root(second), proof), (first, second)


def test_a_consistency_proof_fails_for_a_forked_tree_a_changed_node_or_swapped_sizes():
    leaves = [f"leaf {n}".encode() for n in range(21)]
    tree, forked = tree_of(leaves), tree_of(leaves[:6] + [b"forged"] + leaves[7:])
    for first, second in [(3, 21), (7, 21), (8, 21), (13, 16), (16, 21)]:
        proof = tree.consistency_proof(first, second)
        assert not verify_consistency(first, second, tree.root(first), forked.root(second), proof)
        if first > 6:  # the forged leaf is in the first tree too
            assert not verify_consistency(first, second, forked.root(first), tree.root(second), proof)
        for index in range(len(proof)):
            changed = list(proof)
            changed[index] = bytes(32)
            assert not verify_consistency(first, second, tree.root(first), tree.root(second), changed)
        assert not verify_consistency(second, first, tree.root(second), tree.root(first), proof)
        assert not verify_consistency(first, second, tree.root(first), tree.root(second), proof[:-1])


# -- the witness's files -------------------------------------------------------------------
@pytest.fixture
def paths(tmp_path):
    audit_dir = tmp_path / "audit"
    keys = AuditPaths(str(audit_dir), str(audit_dir / "witness.key"), str(audit_dir / "witness.pub"))
    generate_keys(keys)
    return keys


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/db/events.db") as opened:
        for n in range(12):
            opened.append(f"s{n % 3}", [NewEvent("ItemTurnedIn", {"item": f"i{n}"}, utc_now())],
                          opened.stream_version(f"s{n % 3}"))
        yield opened


def witnessed(store, paths, sizes=(4, 9, 12)):
    witness = Witness(store, paths.directory, load_private_key(paths.key_file), sign_every=1000)
    for size in sizes:
        witness.batch_size = size - witness.size
        witness.witness_once()
        witness.sign_if_due(force=True)
    witness.close()
    return witness


def public_key(paths):
    return load_private_key(paths.key_file).public_key()


def test_the_heads_are_signed_chained_by_consistency_proofs_and_the_copy_checks_out(store, paths):
    witnessed(store, paths)
    heads, entries = read_witness(paths.directory)
    assert [head["size"] for head in heads] == [4, 9, 12]
    assert [position for position, _ in entries] == list(range(1, 13))
    assert [hash_ for _, hash_ in entries] == [record.hash for record in store.read_raw()]
    state = check_witness(heads, entries, public_key(paths))
    assert state.problem is None and state.trusted == 12
    assert heads[0]["consistency"] == [] and len(heads[2]["consistency"]) > 0


def test_an_altered_witness_copy_is_named_with_the_range_its_heads_no_longer_vouch_for(store, paths):
    witnessed(store, paths)
    path = os.path.join(paths.directory, WITNESS_LOG)
    lines = open(path).read().splitlines()
    lines[6] = json.dumps({"position": 7, "hash": "ab" * 32})
    open(path, "w").write("\n".join(lines) + "\n")
    result = audit(store, *read_witness(paths.directory), public_key(paths))
    assert result.ok is False
    assert "altered between positions 5 and 9" in result.problem


def test_heads_from_another_key_or_with_a_forged_signature_are_refused(store, paths, tmp_path):
    witnessed(store, paths)
    other = AuditPaths(str(tmp_path / "other"), str(tmp_path / "other" / "k"), str(tmp_path / "other" / "p"))
    generate_keys(other)
    result = audit(store, *read_witness(paths.directory), public_key(other))
    assert result.ok is False and "no valid signature" in result.problem
    heads, entries = read_witness(paths.directory)
    heads[1] = dict(heads[1], size=8)
    assert "signed head 2" in check_witness(heads, entries, public_key(paths)).problem


def test_a_restart_cuts_a_half_written_line_and_resumes(store, paths):
    witnessed(store, paths, sizes=(5,))
    with open(os.path.join(paths.directory, WITNESS_LOG), "ab") as handle:
        handle.write(b'{"position":6,"ha')  # the crash came mid-line
    witness = Witness(store, paths.directory, load_private_key(paths.key_file))
    assert witness.size == 5
    witness.witness_once()
    witness.sign_if_due(force=True)
    witness.close()
    assert audit(store, *read_witness(paths.directory), public_key(paths)).ok


def test_a_second_witness_on_the_same_directory_is_refused(store, paths):
    first = Witness(store, paths.directory, load_private_key(paths.key_file))
    with pytest.raises(AuditError, match="another witness"):
        Witness(store, paths.directory, load_private_key(paths.key_file))
    first.close()


def test_a_witness_refuses_to_extend_a_copy_that_does_not_check_out(store, paths):
    witnessed(store, paths)
    path = os.path.join(paths.directory, HEADS_LOG)
    lines = open(path).read().splitlines()
    open(path, "w").write("\n".join(lines[:1] + [lines[2]]) + "\n")  # the middle head removed
    with pytest.raises(AuditError, match="refusing to extend"):
        Witness(store, paths.directory, load_private_key(paths.key_file))


def test_a_fresh_audit_directory_gets_a_key_pair_but_a_copy_without_its_key_is_refused(store, tmp_path):
    config = {"AUDIT_DIR": str(tmp_path / "fresh"), "EVENT_STORE_URI": f"sqlite:///{tmp_path}/db/events.db"}
    witness = open_witness(store, config)
    assert os.path.exists(tmp_path / "fresh" / "witness.key") and os.path.exists(tmp_path / "fresh" / "witness.pub")
    witness.witness_once()
    witness.close()
    os.remove(tmp_path / "fresh" / "witness.key")
    with pytest.raises(AuditError, match="key .* is missing"):
        open_witness(store, config)


def test_the_witness_reports_a_log_cut_below_what_it_witnessed(store, paths, tmp_path):
    class Log:
        def __init__(self):
            self.errors = []

        def info(self, *args, **kwargs):
            pass

        def error(self, event, **fields):
            self.errors.append((event, fields))

    log = Log()
    witness = Witness(store, paths.directory, load_private_key(paths.key_file), log=log)
    witness.witness_once()
    with sqlite3.connect(tmp_path / "db" / "events.db") as connection:
        connection.execute("DELETE FROM events WHERE position > 10")
    assert witness.witness_once() == 0
    witness.close()
    assert log.errors == [("witness.log_shortened", {"witnessed": 12, "head": 10})]


def test_the_witness_process_follows_the_log_signs_and_stops_cleanly(store, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"EVENT_STORE_URI: sqlite:///{tmp_path}/db/events.db\nAUDIT_DIR: {tmp_path}/w\n"
                      f"AUDIT_SIGN_EVERY: 5\nAUDIT_SIGN_SECONDS: 60\nLOG_LEVEL: INFO\n")
    process = subprocess.Popen([sys.executable, "-m", "services.eventstore.witness", "--config", str(config)],
                               cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            heads = _heads(tmp_path / "w")
            if heads and heads[-1]["size"] == 12:
                break
            time.sleep(0.1)
        store.append("s9", [NewEvent("ItemTurnedIn", {"item": "late"}, utc_now())], 0)  # unsigned until stop
        while time.monotonic() < deadline and len(open(tmp_path / "w" / WITNESS_LOG).readlines()) < 13:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    assert [head["size"] for head in _heads(tmp_path / "w")][-1] == 13  # signed on the way out
    events = [json.loads(line)["event"] for line in output.splitlines()]
    assert events[0] == "witness.key_created" and "witness.stopped" in events
    assert audit(store, *read_witness(str(tmp_path / "w")),
                 load_private_key(str(tmp_path / "w" / "witness.key")).public_key()).ok


def _heads(directory):
    path = directory / HEADS_LOG
    return [json.loads(line) for line in open(path)] if path.exists() else []


def test_the_default_audit_directory_is_one_per_store_and_never_names_credentials(tmp_path):
    environ = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    here, there = (default_audit_dir(f"sqlite:///{path}/events.db", environ) for path in ("/a/var", "/b/var"))
    assert here != there and os.path.dirname(here) == str(tmp_path / "xdg" / "vsc-audit")
    mongo = default_audit_dir("mongodb://vsc:s3cret@mongo:27017/vsc?replicaSet=rs0", environ)
    assert "s3cret" not in mongo and os.path.basename(mongo) == "mongodb-mongo_27017-vsc"
