"""The rule of the rooms: what `gymnasium.make("ManoPatient-v0")` runs imports only what it
runs, never the build pipelines, the data loaders or the training stack."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import mano_gym

PACKAGE = Path(mano_gym.__file__).parent
FORBIDDEN = (
    "sklearn",
    "sdmetrics",
    "ctgan",
    "scipy.stats",
    "pandas",
    "generators.evaluation",
    "generators.data",
    "mano_gym.build",
)
MAKE_AND_STEP = """
import json, sys
import gymnasium as gym
import mano_gym
for kwargs in ({}, {"dynamics": "reference"}):
    env = gym.make("ManoPatient-v0", **kwargs)
    env.reset(seed=0)
    env.step(env.action_space.sample())
vec = gym.make_vec("ManoPatient-v0", num_envs=3)
vec.reset(seed=0)
vec.step(vec.action_space.sample())
print(json.dumps(sorted(sys.modules)))
"""


def _imported(prefixes: tuple[str, ...], modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_making_and_stepping_the_env_imports_nothing_of_the_build_or_training_stack():
    run = subprocess.run(
        [sys.executable, "-c", MAKE_AND_STEP], capture_output=True, text=True, check=True
    )
    modules = json.loads(run.stdout.splitlines()[-1])
    assert "mano_gym.envs.patient" in modules and "mano_gym.dynamics.reference" in modules
    assert _imported(FORBIDDEN, modules) == []


def test_no_module_of_envs_dynamics_or_assets_imports_the_build_pipelines():
    offenders = []
    for room in ("envs", "dynamics", "assets"):
        for path in sorted((PACKAGE / room).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [f"{path.name}: {n}" for n in _imported(("mano_gym.build",), names)]
    assert offenders == []


def test_the_forbidden_list_would_catch_an_import():
    # the check above is only as good as its matching: a build module is caught by name
    assert _imported(FORBIDDEN, ["mano_gym.build.manifest", "scipy.stats._x", "scipy"]) == [
        "mano_gym.build.manifest",
        "scipy.stats._x",
    ]
