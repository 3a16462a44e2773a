#!/usr/bin/env bash
# Make a built asset set the shipped one: check every file against its manifest hash, copy the
# set into the installed package under plain file names, and drop shipped files it no longer
# names.
#   scripts/ship_assets.sh OUT
set -euo pipefail
out=${1:?usage: scripts/ship_assets.sh OUT}
shipped=$(python -c "from mano_gym.assets import SHIPPED; print(SHIPPED)")
python - "$out" <<'PY'
import sys
from mano_gym.assets import read_manifest, verified_artifact
for name in read_manifest(sys.argv[1])["artifacts"]:
    verified_artifact(name, sys.argv[1])  # every file matches its recorded hash
PY
cp "$out"/*.pt "$out"/*.npz "$out"/manifest.json "$shipped"/
python - "$shipped" <<'PY'
# the shipped set under plain file names (a build's set may name files by their hash), and
# nothing left that its manifest does not name
import json, re, sys
from pathlib import Path
folder = Path(sys.argv[1])
manifest = json.loads((folder / "manifest.json").read_text())
for entry in manifest["artifacts"].values():
    plain = re.sub(r"\.[0-9a-f]{12}\.", ".", entry["file"])
    (folder / entry["file"]).replace(folder / plain)
    entry["file"] = plain
(folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
named = {entry["file"] for entry in manifest["artifacts"].values()}
for path in [*folder.glob("*.pt"), *folder.glob("*.npz")]:
    if path.name not in named:
        path.unlink()
PY
echo "shipped $out to $shipped"
