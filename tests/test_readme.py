"""The README's promises that a machine can check: its commands, its layout, its data tables."""

import re
import subprocess

from benchmarks.data import markdown
from generators.data.describe import describe
from tests.conftest import DATA, ROOT

README = (ROOT / "README.md").read_text()


def test_two_commands_come_first_and_ci_runs_the_second():
    commands = re.findall(r"```bash\n(.+?)\n```", README)
    assert commands[0].startswith("pip install") and commands[0].endswith("mano demo")
    assert commands[1].startswith("pip install") and "[test]" in commands[1]
    extracted = subprocess.run(
        ["grep", "-m1", r"^pip install .*\[test\]", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted == commands[1]
    assert "grep -m1 '^pip install .*\\[test\\]' README.md" in (ROOT / ".ci" / "run").read_text()


def test_layout_section_matches_the_tree():
    layout = README.split("## Layout")[1].split("```")[1]
    parent = ROOT
    for line in layout.strip("\n").splitlines():
        entry = line.split()[0]
        if line.startswith(" "):  # indented: inside the last top-level folder
            assert (parent / entry).exists(), f"{parent.name}/{entry}"
        else:
            parent = ROOT / entry
            assert parent.exists(), entry


def test_data_tables_are_the_benchmark_output():
    assert markdown(describe(DATA)) in README


def test_generator_tables_are_the_latest_benchmark_output():
    assert (ROOT / "benchmarks" / "results" / "generators.md").read_text() in README


def test_later_benchmark_tables_are_the_latest_output():
    for name in (
        "reference.md",
        "predictor.md",
        "world_model.md",
        "env_throughput.md",
        "training_throughput.md",
        "adaptivity.md",
        "soak.md",
        "kill_matrix.md",
    ):
        assert (ROOT / "benchmarks" / "results" / name).read_text() in README
