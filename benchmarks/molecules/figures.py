"""Pictures of sampled molecules drawn by rdkit: a grid of the prior's samples above a tuned policy's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sequence_env.atomic import atomic_write


def molecule_grid(rows: Sequence[tuple[str, Sequence[str]]], path: str | Path, per_row: int = 6) -> Path:
    """Draw each ``(title, smiles)`` row's first ``per_row`` valid molecules with rdkit, titles beside them.

    :return: the PNG's path (written atomically).
    """
    from PIL import Image, ImageDraw, ImageFont
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Draw

    RDLogger.DisableLog("rdApp.*")  # the invalid ones are skipped

    cell = (230, 190)
    label_height = 28
    panels = []
    for title, smiles in rows:
        mols = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None][:per_row]
        grid = Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=cell)
        panel = Image.new("RGB", (cell[0] * per_row, grid.height + label_height), "white")
        panel.paste(grid, (0, label_height))
        ImageDraw.Draw(panel).text((8, 4), title, fill="black", font=ImageFont.load_default(size=18))
        panels.append(panel)
    image = Image.new("RGB", (max(p.width for p in panels), sum(p.height for p in panels)), "white")
    top = 0
    for panel in panels:
        image.paste(panel, (0, top))
        top += panel.height
    with atomic_write(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


def results_figure(out: str | Path, per_row: int = 6) -> Path:
    """``<out>/molecules.png``: the prior's samples above those of the algorithm whose seeds scored the highest
    mean reward (its first seed's), both from the sweep's run files."""
    import json

    import numpy as np

    runs: dict[str, list[dict]] = {}
    for path in sorted((Path(out) / "runs").glob("*.json")):
        result = json.loads(path.read_text())
        runs.setdefault(result["algorithm"], []).append(result)
    tuned = {name: results for name, results in runs.items() if name != "prior"}
    best = max(tuned, key=lambda name: np.mean([r["reward_terms"] for r in tuned[name]]))
    first = min(tuned[best], key=lambda r: r["seed"])
    reward = np.mean([r["reward_terms"] for r in tuned[best]])
    prior = runs["prior"][0]
    rows = [
        (f"prior: first valid samples (mean reward of the terms {prior['reward_terms']:.2f})", prior["smiles"]),
        (
            f"{best} after tuning, seed {first['seed']}: first valid samples (mean reward over seeds {reward:.2f})",
            first["smiles"],
        ),
    ]
    return molecule_grid(rows, Path(out) / "molecules.png", per_row)


if __name__ == "__main__":
    import sys

    print(results_figure(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/molecules"))

__all__ = ["molecule_grid", "results_figure"]
