"""Output files: checked before the work, grown under one partial name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganterp.live.core.errors import ConfigError
from ganterp.live.core.paths import check_output_path, partial_path


def test_an_output_path_is_checked_before_the_work(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "a.png", "--plot") == tmp_path / "a.png"
    with pytest.raises(ConfigError, match=r"--plot: the folder .*nodir does not exist"):
        check_output_path(tmp_path / "nodir" / "a.png", "--plot")
    with pytest.raises(ConfigError, match="is a folder"):
        check_output_path(tmp_path, "--json")


def test_every_writer_grows_its_file_under_one_partial_name() -> None:
    assert partial_path(Path("/v/song.mp4")) == Path("/v/song.partial.mp4")
    assert partial_path(Path("show.avi")) == Path("show.partial.avi")
