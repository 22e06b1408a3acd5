"""core/__main__.py: `python -m core` is the command line of core/cli.py."""
import subprocess
import sys

from conftest import ROOT


def run(*argv):
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_python_m_core_lists_every_subcommand_and_exits_0():
    from core.cli import COMMANDS
    done = run("--help")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in COMMANDS)


def test_an_unknown_subcommand_exits_2_with_a_message():
    done = run("bogus")
    assert done.returncode == 2 and "bogus" in done.stderr and not done.stdout
