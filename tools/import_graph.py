"""Draw the import graph of ganterp's layers as a PNG, with the rules the tests check.

    python tools/import_graph.py import-graph.png

Each box is a layer of ``live`` (from ``tests/test_imports.py``), plus ``models``;
an arrow runs from a layer to one it imports, labelled with how many module
imports it stands for. Layers are stacked in their order, lowest at the bottom,
so every arrow should point down (or sideways into ``models``): an arrow up
would be drawn red.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_imports import LAYERS, graph, layer_of


def layer_name(module: str) -> str:
    """The layer's name, or ``models`` for the generator package."""
    index = layer_of(module)
    if index is not None:
        return LAYERS[index][0]
    return module.split(".")[1]  # ganterp.models.… → models


def layer_edges() -> Counter[tuple[str, str]]:
    """(importing layer, imported layer) → number of module-level imports."""
    edges: Counter[tuple[str, str]] = Counter()
    for module, imported in graph().items():
        for other in imported:
            a, b = layer_name(module), layer_name(other)
            if a != b:
                edges[a, b] += 1
    return edges


def draw(path: Path) -> None:
    """Write the drawing to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, _ in LAYERS]
    pos = {name: (0.0, float(i)) for i, name in enumerate(names)}
    pos["models"] = (3.0, 4.0)
    pos["configs"] = (3.0, 0.0)
    fig, ax = plt.subplots(figsize=(8, 10))
    edges = layer_edges()
    for (a, b), count in sorted(edges.items()):
        (xa, ya), (xb, yb) = pos[a], pos[b]
        up = ya < yb and b not in ("models", "configs")
        bend = 0.25 + 0.08 * abs(ya - yb)
        ax.annotate(
            "",
            xy=(xb, yb),
            xytext=(xa, ya),
            arrowprops={
                "arrowstyle": "-|>",
                "color": "red" if up else "0.45",
                "lw": 0.6 + 0.15 * min(count, 10),
                "connectionstyle": f"arc3,rad={bend if xa == xb else 0.05}",
                "shrinkA": 14,
                "shrinkB": 14,
            },
        )
    for name, (x, y) in pos.items():
        if name == "configs" and not any(name in e for e in edges):
            continue
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=11,
            bbox={"boxstyle": "round", "fc": "#dde8f5" if name != "models" else "#f5e6d0"},
        )
    upward = sum(1 for a, b in edges if b not in ("models", "configs") and pos[a][1] < pos[b][1])
    ax.set_title(
        f"ganterp: imports between layers (arrows point to what is imported); {upward} upward",
        fontsize=10,
    )
    ax.set_xlim(-5.0, 4.5)
    ax.set_ylim(-0.8, len(names) - 0.2)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> int:
    """Parse the output path and draw."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", type=Path, help="PNG to write")
    draw(p.parse_args().output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
