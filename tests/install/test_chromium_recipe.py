"""`make chromium` as a fresh machine meets it: no chromium on PATH, root or not.

The recipe runs through the real `make`, with PATH pointing at a folder that holds stand-ins for
apt-get, id and sudo which record how they were called. A recipe that only works where Chromium was
installed by hand (once, `$SUDO DEBIAN_FRONTEND=… apt-get` with an empty SUDO ran the assignment as a
command) fails here."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _fresh_machine(tmp_path: Path, *, uid: int, apt_status: int = 0, chromium: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    os.symlink(shutil.which("env") or "/usr/bin/env", bin_dir / "env")
    _stand_in(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}\n')
    _stand_in(bin_dir, "sudo", f'echo "sudo $*" >> {log}\nexec "$@"\n')
    _stand_in(
        bin_dir,
        "apt-get",
        f'echo "apt-get DEBIAN_FRONTEND=${{DEBIAN_FRONTEND:-}} $*" >> {log}\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\n" > {bin_dir}/chromium; '
        f"/bin/chmod +x {bin_dir}/chromium;; esac\nexit {apt_status}\n",
    )
    if chromium:
        _stand_in(bin_dir, "chromium", "exit 0\n")
    return bin_dir


def _make_chromium(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    return subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(ROOT), "chromium"],
        env={"PATH": str(bin_dir), "HOME": str(bin_dir.parent)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _calls(bin_dir: Path) -> list[str]:
    log = bin_dir.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_as_root_without_chromium_installs_with_apt_get_directly(tmp_path: Path) -> None:
    bin_dir = _fresh_machine(tmp_path, uid=0)
    result = _make_chromium(bin_dir)
    assert result.returncode == 0, result.stderr
    assert _calls(bin_dir) == [
        "apt-get DEBIAN_FRONTEND= update -qq",
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq chromium",
    ]
    assert (bin_dir / "chromium").exists()


def test_as_a_user_without_chromium_installs_through_sudo(tmp_path: Path) -> None:
    bin_dir = _fresh_machine(tmp_path, uid=1000)
    result = _make_chromium(bin_dir)
    assert result.returncode == 0, result.stderr
    assert _calls(bin_dir) == [
        "sudo apt-get update -qq",
        "apt-get DEBIAN_FRONTEND= update -qq",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq chromium",
    ]


def test_with_chromium_on_path_installs_nothing(tmp_path: Path) -> None:
    bin_dir = _fresh_machine(tmp_path, uid=0, chromium=True)
    result = _make_chromium(bin_dir)
    assert result.returncode == 0, result.stderr
    assert _calls(bin_dir) == []


def test_a_failed_install_fails_the_target(tmp_path: Path) -> None:
    bin_dir = _fresh_machine(tmp_path, uid=0, apt_status=100)
    result = _make_chromium(bin_dir)
    assert result.returncode != 0
