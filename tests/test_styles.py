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


# ---------------------------------------------------------------------------------------------
# The Gram check: every shipped style is recognisably in its painting's style


def _paintings_dir():
    from pathlib import Path

    for folder in (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "styles",
                   Path("/work/shared/data/styles")):
        if folder.is_dir():
            return folder.resolve()
    return None


PAINTINGS = _paintings_dir()
needs_paintings = pytest.mark.skipif(
    PAINTINGS is None, reason="the paintings (../shared/data/styles next to the repository) are not on this machine")


@pytest.fixture(scope="module")
def gram_setup():
    """The loss network and two frames of the built-in synthetic call clip (256×192 RGB)."""
    from steadystyle.evaluate.synthetic import CallClipConfig, make_call_clip
    from steadystyle.train.vgg import DEFAULT_LAYERS, make_loss_network

    clip = make_call_clip(CallClipConfig(width=256, height=192, seconds=2.0, fps=5))
    return make_loss_network("vgg19", DEFAULT_LAYERS["vgg19"][1]), [clip.frames[0], clip.frames[9]]


@needs_paintings
@pytest.mark.parametrize("name", sorted(style_paths()))
def test_shipped_style_passes_the_gram_check(name, gram_setup):
    """Stylized frames are at most half as far from the painting's Gram statistics as the frames
    themselves (the training's relative Gram distance, VGG-19 relu1_1–relu4_1)."""
    from steadystyle.train.gramcheck import PASS_RATIO, GramCheck, gram_ratio
    from steadystyle.weights import read_metadata

    vgg, frames = gram_setup
    meta = read_metadata(style_paths()[name])
    check = GramCheck(PAINTINGS / meta["painting"], meta["settings"]["style_size"], vgg)
    stylizer = Stylizer(load_style(name), device="cpu")
    result = gram_ratio(check, frames, [stylizer(f) for f in frames])
    assert result.ratio <= PASS_RATIO, f"{name}: Gram ratio {result.ratio:.3f} (stylized {result.stylized:.3f}, " \
                                       f"unstylized {result.unstylized:.3f})"


@needs_paintings
def test_the_gram_check_fails_an_untrained_network(gram_setup, tiny_style):
    from steadystyle.train.gramcheck import GramCheck, gram_ratio

    vgg, frames = gram_setup
    check = GramCheck(PAINTINGS / "munch_the_scream.jpg", 256, vgg)
    stylizer = Stylizer(load_style(str(tiny_style)), device="cpu")
    result = gram_ratio(check, frames, [stylizer(f) for f in frames])
    assert not result.passes and result.ratio > 0.5
    same = gram_ratio(check, frames, frames)
    assert same.ratio == pytest.approx(1.0)
