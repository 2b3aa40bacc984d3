"""The one atomic-write helper: a failure at any point leaves the old file byte-identical and no
temporary behind; success replaces the file in one rename."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from steadystyle.atomic import atomic_output, atomic_path, atomic_write_bytes, atomic_write_text, temp_name

OLD = b"the user's file\x00\xff"


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.fixture()
def old(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(OLD)
    return path


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt(), RuntimeError("bug")])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(old, error):
    with pytest.raises(type(error)):
        with atomic_output(old) as f:
            f.write(b"half of the new")
            f.flush()
            assert leftovers(old.parent) and old.read_bytes() == OLD  # written beside, not over it
            raise error
    assert old.read_bytes() == OLD and leftovers(old.parent) == []


def test_a_failure_of_a_writer_by_name_keeps_the_old_file(old):
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(old) as tmp:
            tmp.write_bytes(b"new")
            raise KeyboardInterrupt
    assert old.read_bytes() == OLD and leftovers(old.parent) == []


def test_success_replaces_the_file_with_normal_permissions(old):
    with atomic_output(old) as f:
        f.write(b"new bytes")
    assert old.read_bytes() == b"new bytes" and leftovers(old.parent) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(old.stat().st_mode) == 0o666 & ~umask


def test_text_and_bytes_in_one_call(tmp_path):
    assert atomic_write_text(tmp_path / "a.json", "{\"é\": 1}\n").read_bytes() == "{\"é\": 1}\n".encode()
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert leftovers(tmp_path) == []


def test_the_temporary_is_hidden_beside_the_output_and_unique(tmp_path):
    names = {temp_name(tmp_path / "out.mp4", keep_suffix=True) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.parent == tmp_path and name.name.startswith(".out.mp4.tmp-") and name.suffix == ".mp4"
    assert temp_name(tmp_path / "x.json").name.startswith(".x.json.tmp-")
    assert temp_name(tmp_path / "x.json").suffix != ".json"


def test_a_reader_sees_the_old_file_until_the_rename(old):
    seen = []
    started, resume = threading.Event(), threading.Event()

    def write():
        with atomic_output(old) as f:
            f.write(b"new")
            started.set()
            resume.wait(5)

    writer = threading.Thread(target=write)
    writer.start()
    started.wait(5)
    seen.append(old.read_bytes())
    resume.set()
    writer.join(5)
    assert seen == [OLD] and old.read_bytes() == b"new"


def test_a_missing_folder_is_an_os_error_and_creates_nothing(tmp_path):
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "no" / "file.bin", b"x")
    assert list(tmp_path.iterdir()) == []


def test_only_write_modes(old):
    with pytest.raises(ValueError, match="mode"):
        with atomic_output(old, "ab"):
            pass
    assert old.read_bytes() == OLD


def test_a_writer_by_name_that_recreates_the_file_still_gets_normal_permissions(tmp_path):
    path = tmp_path / "w.bin"
    with atomic_path(path) as tmp:
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # as safetensors does
        os.write(fd, b"w")
        os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_bytes() == b"w" and stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_staged_file_is_renamed_on_commit_and_deleted_on_discard(old):
    from steadystyle.atomic import Staged

    kept = Staged(old, keep_suffix=True)
    assert kept.path.suffix == ".bin" and kept.path.parent == old.parent and kept.path.exists()
    kept.path.write_bytes(b"encoded")
    assert old.read_bytes() == OLD  # nothing under the name until commit
    assert kept.commit() == old and old.read_bytes() == b"encoded" and leftovers(old.parent) == []
    dropped = Staged(old)
    dropped.path.write_bytes(b"half")
    dropped.discard()
    dropped.discard()  # twice is fine
    assert old.read_bytes() == b"encoded" and leftovers(old.parent) == []
    with pytest.raises(RuntimeError):
        dropped.commit()


def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path):
    from steadystyle.atomic import Staged

    final = tmp_path / "frames"
    staged = Staged(final, folder=True)
    (staged.path / "000001.png").write_bytes(b"png")
    assert not final.exists() and staged.path.name.startswith(".frames.tmp-")
    staged.commit()
    assert sorted(p.name for p in final.iterdir()) == ["000001.png"] and leftovers(tmp_path) == []
    other = Staged(tmp_path / "more", folder=True)
    (other.path / "x.png").write_bytes(b"x")
    other.discard()
    assert not (tmp_path / "more").exists() and leftovers(tmp_path) == []


def _killed_writer(target, folder: bool = False) -> str:
    """Run a process that starts writing ``target`` and is killed (SIGKILL) mid-write; the name
    of the temporary it left."""
    import signal
    import subprocess
    import sys

    code = ("import os, signal, sys; from steadystyle.atomic import Staged; "
            f"s = Staged(sys.argv[1], folder={folder}); "
            "(s.path / 'f.png').write_bytes(b'x') if s.folder else s.path.write_bytes(b'half'); "
            "print(s.path.name, flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    return done.stdout.strip()


def test_a_killed_writers_temporary_is_removed_by_the_next_write_to_that_name(old):
    left = _killed_writer(old)
    assert leftovers(old.parent) == [left] and str(os.getpid()) not in left.split("-")[1]
    other = old.parent / "other.bin"
    atomic_write_bytes(other, b"o")  # a write to another name leaves it
    assert leftovers(old.parent) == [left]
    atomic_write_bytes(old, b"new")
    assert leftovers(old.parent) == [] and old.read_bytes() == b"new"


def test_a_killed_writers_staged_folder_is_removed_too(tmp_path):
    final = tmp_path / "frames"
    left = _killed_writer(final, folder=True)
    assert (tmp_path / left / "f.png").is_file()
    from steadystyle.atomic import Staged

    Staged(final, folder=True).discard()
    assert leftovers(tmp_path) == []


def test_a_live_writers_temporary_is_kept_and_an_old_one_goes_after_a_day(old):
    import subprocess
    import sys
    import time

    from steadystyle.atomic import STALE_SECONDS, Staged

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        name = temp_name(old).name.split("-", 1)  # this host's tag, the live process's id
        parts = name[1].split("-")
        theirs = old.parent / f"{name[0]}-{live.pid}-{parts[1]}-{parts[2]}"
        theirs.write_bytes(b"being written")
        legacy = old.parent / f".{old.name}.tmp-1a2b3c4d"  # an older version's name: no process id
        legacy.write_bytes(b"?")
        Staged(old).discard()
        assert sorted(leftovers(old.parent)) == sorted([theirs.name, legacy.name])
        past = time.time() - STALE_SECONDS - 60
        os.utime(legacy, (past, past))
        Staged(old).discard()
        assert leftovers(old.parent) == [theirs.name]  # the live writer's is still there
    finally:
        live.kill()
        live.wait()
    Staged(old).discard()
    assert leftovers(old.parent) == [] and old.read_bytes() == OLD
