"""Save a PNG contact sheet of CppnGenerator frames, for a person to look at.

Rows, each ``--cols`` images wide:

1. ``--classes`` different classes at one z (as many rows as it takes);
2. one class at ``--cols`` different z;
3. a morph from one class to another, in ``--cols`` steps of the class mix;
4. small z steps along one direction: an animation strip, like an audio pulse.

Example::

    python tools/cppn_contact_sheet.py --out /tmp/sheet.png --classes 16 --resolution 256
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganterp.models.classes import short_name
from ganterp.models.cppn import CppnGenerator


def truncated_z(count: int, truncation: float, rng: torch.Generator) -> torch.Tensor:
    """Draw BigGAN-style latents: ``truncation * truncnorm(-2, 2)``, shape (count, 128)."""
    z = torch.empty(count, 128)
    torch.nn.init.trunc_normal_(z, 0.0, 1.0, -2.0, 2.0, generator=rng)
    return z * truncation


def one_hot(indices: list[int]) -> torch.Tensor:
    """Class vectors of shape (len(indices), 1000)."""
    y = torch.zeros(len(indices), 1000)
    y[torch.arange(len(indices)), torch.tensor(indices)] = 1.0
    return y


def build_rows(
    gen: CppnGenerator, classes: int, cols: int, truncation: float, step: float, seed: int
) -> tuple[list[np.ndarray], list[list[str]]]:
    """Generate the sheet's rows as uint8 arrays of shape (cols, R, R, 3), with labels."""
    rng = torch.Generator().manual_seed(seed)
    picks = torch.randperm(1000, generator=rng)[: max(classes, 2)].tolist()
    z0 = truncated_z(1, truncation, rng)
    rows: list[torch.Tensor] = []
    labels: list[list[str]] = []

    for start in range(0, classes, cols):
        chunk = picks[start : start + cols]
        rows.append(gen(z0.expand(len(chunk), -1), one_hot(chunk), truncation))
        labels.append([f"{c} {short_name(gen.class_names[c])}"[:22] for c in chunk])

    base = picks[0]
    zs = truncated_z(cols, truncation, rng)
    rows.append(gen(zs, one_hot([base] * cols), truncation))
    labels.append([f"{base} z#{k}" for k in range(cols)])

    mix = torch.linspace(0.0, 1.0, cols)[:, None]
    y = (1.0 - mix) * one_hot([picks[0]]) + mix * one_hot([picks[1]])
    rows.append(gen(z0.expand(cols, -1), y, truncation))
    labels.append([f"{picks[0]}>{picks[1]} {m:.2f}" for m in mix[:, 0].tolist()])

    direction = torch.randn(1, 128, generator=rng)
    steps = torch.arange(cols, dtype=torch.float32)[:, None]
    za = z0 + steps * (step * truncation) * direction
    rows.append(gen(za, one_hot([base] * cols), truncation))
    labels.append([f"dz {k * step:.2f}" for k in range(cols)])

    arrays = [((r.permute(0, 2, 3, 1).numpy() + 1.0) * 127.5).clip(0, 255) for r in rows]
    return [a.astype(np.uint8) for a in arrays], labels


def compose(rows: list[np.ndarray], cols: int, gap: int = 4) -> np.ndarray:
    """Tile the rows into one (H, W, 3) uint8 image on a dark background."""
    res = rows[0].shape[1]
    height = len(rows) * res + (len(rows) + 1) * gap
    width = cols * res + (cols + 1) * gap
    sheet = np.full((height, width, 3), 24, dtype=np.uint8)
    for i, row in enumerate(rows):
        top = gap + i * (res + gap)
        for j, image in enumerate(row):
            left = gap + j * (res + gap)
            sheet[top : top + res, left : left + res] = image
    return sheet


def save(sheet: np.ndarray, labels: list[list[str]], res: int, out: Path, gap: int = 4) -> None:
    """Write the sheet as a PNG at native pixel size, with small labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dpi = 100
    height, width = sheet.shape[:2]
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.imshow(sheet, interpolation="nearest")
    ax.set_axis_off()
    size = max(5, min(9, res // 28))
    for i, row in enumerate(labels):
        for j, text in enumerate(row):
            ax.text(
                gap + j * (res + gap) + 3,
                gap + i * (res + gap) + 3,
                text,
                color="white",
                fontsize=size,
                va="top",
                ha="left",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 1, "linewidth": 0},
            )
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--classes", type=int, default=16, help="random classes shown")
    parser.add_argument("--cols", type=int, default=8, help="images per row")
    parser.add_argument("--resolution", type=int, default=256, help="image side, px")
    parser.add_argument("--seed", type=int, default=0, help="generator weight seed")
    parser.add_argument("--pick-seed", type=int, default=1, help="seed of classes and z")
    parser.add_argument("--truncation", type=float, default=0.4, help="truncation (0, 1]")
    parser.add_argument("--step", type=float, default=0.1, help="z step per frame, in spreads")
    parser.add_argument("--no-labels", action="store_true", help="leave the labels out")
    args = parser.parse_args(argv)
    if args.classes < 1 or args.cols < 2:
        parser.error("--classes must be >= 1 and --cols >= 2")

    gen = CppnGenerator(resolution=args.resolution, seed=args.seed)
    rows, labels = build_rows(
        gen, args.classes, args.cols, args.truncation, args.step, args.pick_seed
    )
    # Pad a short class row with black tiles so every row is cols wide.
    rows = [
        np.concatenate([r, np.zeros((args.cols - len(r), *r.shape[1:]), np.uint8)])
        if len(r) < args.cols
        else r
        for r in rows
    ]
    sheet = compose(rows, args.cols)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(sheet, [] if args.no_labels else labels, args.resolution, args.out)
    print(
        f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]} px, {math.ceil(args.classes / args.cols) + 3} rows)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
