"""live.video.fit: square pictures into encoder frames through FFmpeg's scale and pad."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from ganterp.live.offline.render import fit_batch
from ganterp.live.video.fit import PACKED_BYTES, FrameFitter, packed_pixels, placement


def _picture(side: int = 64) -> np.ndarray:
    """A smooth colour picture, (side, side, 3) uint8."""
    u = np.linspace(0.0, 1.0, side)
    r = np.outer(u, np.ones(side))
    g = np.outer(np.ones(side), u)
    b = 0.5 + 0.5 * np.sin(6.0 * r) * np.cos(4.0 * g)
    return (np.stack([r, g, b], axis=-1) * 255).round().astype(np.uint8)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), (1080, 0, 420)),
        ((1280, 720), (720, 0, 280)),
        ((256, 256), (256, 0, 0)),
        ((100, 130), (100, 14, 0)),
        ((98, 64), (64, 0, 16)),  # (98 - 64) / 2 = 17 is odd: the column moves to 16
    ],
)
def test_placement_is_centred_and_even(size, expected) -> None:
    assert placement(size) == expected


@pytest.mark.parametrize(("pix_fmt", "black"), [("yuv420p", 16), ("yuvj420p", 0)])
@pytest.mark.parametrize("size", [(160, 90), (90, 160), (64, 64)])
def test_the_picture_is_ffmpegs_bicubic_square_centred_on_black(size, pix_fmt, black) -> None:
    rgb = _picture()
    frame = FrameFitter(size, pix_fmt).fit(rgb)
    assert (frame.width, frame.height, frame.format.name) == (*size, pix_fmt)
    side, top, left = placement(size)
    planes = frame.to_ndarray()
    width, height = size
    y = planes[:height]
    chroma = planes[height:].reshape(2, height // 2, width // 2)
    # What FFmpeg's scaler makes of the square on its own, at the square's size.
    alone = (
        av.VideoFrame.from_ndarray(rgb, format="rgb24")
        .reformat(width=side, height=side, format=pix_fmt, interpolation="BICUBIC")
        .to_ndarray()
    )
    np.testing.assert_array_equal(y[top : top + side, left : left + side], alone[:side])
    inner = chroma[:, top // 2 : (top + side) // 2, left // 2 : (left + side) // 2]
    np.testing.assert_array_equal(inner, alone[side:].reshape(2, side // 2, side // 2))
    bars = np.ones(y.shape, dtype=bool)
    bars[top : top + side, left : left + side] = False
    if bars.any():
        assert (y[bars] == black).all()
        chroma_bars = bars[::2, ::2]
        assert (chroma[:, chroma_bars] == 128).all()


def test_it_looks_like_the_torch_letterbox_it_replaces() -> None:
    rgb = _picture(64)
    images = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    torch_frame = fit_batch(images, (320, 180))[0].astype(np.float64)
    fitted = FrameFitter((320, 180), "yuv420p").fit(rgb).to_ndarray(format="rgb24")
    diff = np.abs(fitted.astype(np.float64) - torch_frame)
    assert diff.mean() < 3.0 and np.percentile(diff, 99) < 16.0  # colour conversion only


def test_a_new_input_size_is_taken_in_stride() -> None:
    fitter = FrameFitter((128, 72), "yuv420p")
    small = fitter.fit(_picture(32)).to_ndarray(format="rgb24")
    large = fitter.fit(_picture(96)).to_ndarray(format="rgb24")
    assert small.shape == large.shape == (72, 128, 3)
    assert np.abs(small.astype(int) - large.astype(int)).mean() < 4.0  # the same picture


@pytest.mark.parametrize(("size", "pix_fmt"), [((63, 32), "yuv420p"), ((64, 32), "nv12")])
def test_bad_sizes_and_formats_are_refused(size, pix_fmt) -> None:
    with pytest.raises(ValueError, match=r"must be even|cannot fit"):
        FrameFitter(size, pix_fmt)


@pytest.mark.parametrize("pix_fmt", ["bgr0", "bgra", "rgba", "rgb24", "uyvy422"])
@pytest.mark.parametrize("size", [(160, 90), (64, 64)])
def test_packed_frames_hold_the_picture_on_black_rows_without_padding(size, pix_fmt) -> None:
    rgb = _picture()
    frame = FrameFitter(size, pix_fmt).fit(rgb)
    assert (frame.width, frame.height, frame.format.name) == (*size, pix_fmt)
    pixels = packed_pixels(frame)
    width, height = size
    assert pixels.shape == (width * height * PACKED_BYTES[pix_fmt],)
    # Back to RGB through FFmpeg: the square is the picture, the bars are black.
    back = frame.reformat(format="rgb24").to_ndarray().astype(int)
    side, top, left = placement(size)
    alone = (
        av.VideoFrame.from_ndarray(rgb, format="rgb24")
        .reformat(width=side, height=side, format="rgb24", interpolation="BICUBIC")
        .to_ndarray()
        .astype(int)
    )
    inner = back[top : top + side, left : left + side]
    assert np.abs(inner - alone).mean() < (1.0 if pix_fmt != "uyvy422" else 4.0)
    if left:
        assert back[:, : left - 1].max() <= 2
    if pix_fmt in ("bgra", "rgba"):  # opaque
        assert (pixels.reshape(height, width, 4)[..., 3] == 255).all()
    if pix_fmt == "rgb24":
        rgb_back = pixels.reshape(height, width, 3)[top : top + side, left : left + side]
        assert np.abs(rgb_back.astype(int) - alone).mean() < 1.0
    if pix_fmt == "bgr0":  # blue first
        bgr = pixels.reshape(height, width, 4)[top : top + side, left : left + side, :3]
        assert np.abs(bgr[..., ::-1].astype(int) - alone).mean() < 1.0


def test_packed_pixels_refuses_a_planar_frame() -> None:
    frame = FrameFitter((64, 64), "yuv420p").fit(_picture())
    with pytest.raises(ValueError, match="not a packed"):
        packed_pixels(frame)
