"""The shipped styles: present, loadable, described, and in the real-time variant."""

import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.styles import default_style, list_styles, load_style, style_paths
from steadystyle.stylizer import Stylizer


def test_at_least_six_styles_including_scream_and_udnie():
    styles = {s["name"]: s for s in list_styles()}
    assert len(styles) >= 6
    assert styles["scream"]["painting"] == "munch_the_scream.jpg"
    assert styles["udnie"]["painting"] == "picabia_udnie.jpg"
    assert default_style() == "scream"


def test_every_painting_has_a_light_model():
    styles = list_styles()
    for painting in {s["painting"] for s in styles}:
        assert any(s["painting"] == painting and s["variant"] == "light" for s in styles), painting


def test_one_painting_in_both_variants():
    styles = list_styles()
    full = {s["painting"] for s in styles if s["variant"] == "full"}
    assert full and full <= {s["painting"] for s in styles if s["variant"] == "light"}


@pytest.mark.parametrize("name", sorted(style_paths()))
def test_style_metadata_and_output(name):
    meta = next(s for s in list_styles() if s["name"] == name)
    assert meta["trained_by"] == "steadystyle train" and meta["iterations"] > 0
    assert {"content", "style", "total"} <= set(meta["final_losses"])
    assert meta["content_data"] and meta["loss_network"].startswith("vgg")
    assert meta["preview"] and meta["preview"].endswith(f"{name}.jpg")
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    out = Stylizer(load_style(name), device="cpu")(frame)
    assert out.shape == frame.shape and out.std() > 5  # a trained network, not a blank


def test_unknown_style_names_the_shipped_ones():
    with pytest.raises(SteadyStyleError, match="scream"):
        load_style("no-such-style")
