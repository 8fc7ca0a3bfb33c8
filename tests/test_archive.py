"""Run archives: an exported run imports back identical; every kind of hostile zip is refused and leaves nothing."""

import io
import stat
import zipfile

import pytest
import torch

from aeviz import archive, catalog, runs
from aeviz.errors import InputError
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One trained run on disk (with optimizer state) and its exported zip."""
    data = toy_images(n=60)
    run = Run.create("vae", data.shape, "mnist", train_config=TrainConfig(epochs=1, batch_size=16), hidden=(8,),
                     latent_dim=2)
    train(run, data)
    folder = runs.save(run, tmp_path_factory.mktemp("src") / run.id)
    return run, folder, archive.export_zip(folder)


def members(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def make_zip(entries):
    """entries: {name: bytes} or {name: (bytes, ZipInfo tweak)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(content, tuple):
                content, tweak = content
                tweak(info)
            zf.writestr(info, content)
    return buf.getvalue()


def refused(blob, root, match):
    with pytest.raises(InputError, match=match) as exc:
        archive.import_zip(blob, root)
    assert "\n" not in str(exc.value)
    assert not root.exists() or not any(root.iterdir())  # nothing half-imported, no temp folder left
    return exc.value


def test_round_trip_restores_the_same_run(saved, tmp_path):
    run, folder, blob = saved
    names = set(members(blob))
    assert names == {f"{run.id}/{n}" for n in ("config.json", "model.safetensors", "history.json",
                                                "optimizer.safetensors", "replay.safetensors")}
    target = archive.import_zip(blob, tmp_path / "runs")
    assert target == tmp_path / "runs" / run.id
    back = runs.load(target)
    assert (back.id, back.model_name, back.epoch, back.history) == (run.id, "vae", 1, run.history)
    for key, value in run.model.state_dict().items():
        torch.testing.assert_close(back.model.state_dict()[key], value.cpu())
    assert back.optimizer_state is not None
    assert [r["id"] for r in catalog.list_runs(tmp_path / "runs")] == [run.id]


def test_a_flat_zip_without_the_folder_imports_too(saved, tmp_path):
    run, _, blob = saved
    flat = make_zip({name.split("/")[1]: data for name, data in members(blob).items()})
    assert runs.load(archive.import_zip(flat, tmp_path)).id == run.id


def test_an_existing_run_is_never_overwritten(saved, tmp_path):
    run, _, blob = saved
    target = archive.import_zip(blob, tmp_path)
    before = (target / "history.json").read_bytes()
    with pytest.raises(InputError, match="already saved"):
        archive.import_zip(blob, tmp_path)
    assert (target / "history.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.id]


def test_export_of_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(InputError, match="not an aeviz run folder"):
        archive.export_zip(tmp_path)


def test_not_a_zip(tmp_path):
    refused(b"PK\x03\x04 definitely not a zip", tmp_path / "r", "not a zip file")


def test_path_traversal(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    evil = {f"../{n.split('/')[1]}": d for n, d in files.items()}
    refused(make_zip(evil), tmp_path / "r", "points outside")
    refused(make_zip({"run/../../config.json": b"{}"}), tmp_path / "r", "points outside")
    assert not (tmp_path / "config.json").exists()


def test_absolute_names(tmp_path):
    refused(make_zip({"/tmp/config.json": b"{}"}), tmp_path / "r", "absolute path")
    refused(make_zip({"C:/runs/config.json": b"{}"}), tmp_path / "r", "absolute path")


def test_symlinks(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    name = next(n for n in files if n.endswith("history.json"))

    def as_link(info):
        info.external_attr = (stat.S_IFLNK | 0o777) << 16

    files[name] = (b"/etc/passwd", as_link)
    refused(make_zip(files), tmp_path / "r", "symbolic link")


def test_unexpected_files(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    run_id = next(iter(files)).split("/")[0]
    refused(make_zip({**files, f"{run_id}/model.pkl": b"cos\nsystem\n"}), tmp_path / "r", "unexpected file")
    refused(make_zip({**files, f"{run_id}/sub/config.json": b"{}"}), tmp_path / "r", "unexpected file")
    other = {n.replace(run_id, "other"): d for n, d in files.items() if n.endswith("optimizer.safetensors")}
    refused(make_zip({**files, **other}), tmp_path / "r", "twice|more than one folder")


def test_missing_files(saved, tmp_path):
    _, _, blob = saved
    files = {n: d for n, d in members(blob).items() if not n.endswith("model.safetensors")}
    refused(make_zip(files), tmp_path / "r", "no model.safetensors")


def test_oversized_member(saved, tmp_path, monkeypatch):
    _, _, blob = saved
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    refused(blob, tmp_path / "r", "unpacks to .* bytes; the limit is 1,000")


def test_oversized_total(saved, tmp_path, monkeypatch):
    _, _, blob = saved
    sizes = [len(d) for d in members(blob).values()]
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", sum(sizes) - 1)
    refused(blob, tmp_path / "r", "unpacks to .* bytes; the limit is")


def test_zip_bomb_ratio(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    name = next(n for n in files if n.endswith("history.json"))
    files[name] = b"\0" * (4 << 20)  # 4 MiB of zeros deflate ~1000x
    refused(make_zip(files), tmp_path / "r", "zip bomb")


def patch_central(blob, suffix, offset, value):
    """Overwrite 2 or 4 bytes of the central-directory record of the member ending in `suffix`."""
    raw = bytearray(blob)
    name = next(n for n in members(blob) if n.endswith(suffix)).encode()
    at = raw.rfind(b"PK\x01\x02", 0, raw.rfind(name))
    raw[at + offset:at + offset + len(value)] = value
    return bytes(raw)


def test_a_header_that_understates_the_size_is_caught_while_extracting(saved, tmp_path):
    _, _, blob = saved
    lying = patch_central(blob, "history.json", 24, (10).to_bytes(4, "little"))  # uncompressed size: 10 bytes
    refused(lying, tmp_path / "r", "more than it declares|cannot be unpacked")


def test_encrypted_members(saved, tmp_path):
    _, _, blob = saved
    refused(patch_central(blob, "config.json", 8, b"\x01\x00"), tmp_path / "r", "encrypted")  # flag bit 0


def test_a_folder_that_does_not_load_is_removed_again(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    name = next(n for n in files if n.endswith("model.safetensors"))
    files[name] = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "  # a valid safetensors header with no tensors
    err = refused(make_zip(files), tmp_path / "r", "cannot be loaded: .*does not match")
    assert ".import-" not in str(err)
    files[name.replace("model.safetensors", "config.json")] = b'{"format": "aeviz-run", "pickle": "no"}'
    refused(make_zip(files), tmp_path / "r", "cannot be loaded")


def test_an_unsafe_run_id_is_refused(saved, tmp_path):
    _, _, blob = saved
    files = members(blob)
    name = next(n for n in files if n.endswith("config.json"))
    files[name] = files[name].replace(b'"id": "', b'"id": "../../', 1)
    refused(make_zip(files), tmp_path / "r", "'id' must be a safe folder name")


def test_a_run_pointing_at_a_server_path_is_refused(tmp_path):
    import io
    import json
    import zipfile

    from aeviz import archive, runs
    from aeviz.errors import InputError
    from aeviz.runs import Run

    run = Run.create("ae", (4,), "/etc", hidden=(3,), latent_dim=2)
    folder = runs.save(run, tmp_path / "src" / run.id)
    blob = archive.export_zip(folder)
    with pytest.raises(InputError, match="trained on a file"):
        archive.import_zip(blob, tmp_path / "runs")
    assert not (tmp_path / "runs" / run.id).exists()
