"""Each noise: identity at level 0, input untouched, range [0, 1], the statistics its level promises."""

import pytest
import torch

from aeviz import noise
from aeviz.errors import InputError


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", sorted(noise.NOISES))
def test_level_zero_is_an_exact_copy(kind):
    x = torch.rand(8, 1, 28, 28, generator=gen())
    out = noise.apply(kind, x, 0.0, gen())
    assert torch.equal(out, x) and out is not x


@pytest.mark.parametrize("kind", sorted(noise.NOISES))
@pytest.mark.parametrize("shape", [(16, 1, 28, 28), (16, 3, 9, 7), (16, 20)])
def test_new_tensor_in_range_and_input_untouched(kind, shape):
    x = torch.rand(shape, generator=gen(1))
    before = x.clone()
    out = noise.apply(kind, x, noise.NOISES[kind].default, gen())
    assert torch.equal(x, before)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.equal(out, x)


@pytest.mark.parametrize("kind", sorted(noise.NOISES))
def test_reproducible_under_a_seed(kind):
    x = torch.rand(4, 1, 12, 12, generator=gen(2))
    assert torch.equal(noise.apply(kind, x, 0.4, gen(5)), noise.apply(kind, x, 0.4, gen(5)))
    assert not torch.equal(noise.apply(kind, x, 0.4, gen(5)), noise.apply(kind, x, 0.4, gen(6)))


def test_gaussian_mean_and_std():
    x = torch.full((200, 1, 28, 28), 0.5)
    out = noise.gaussian(x, 0.1, gen())
    assert abs(float(out.mean()) - 0.5) < 0.002
    assert abs(float(out.std()) - 0.1) < 0.002


def test_masking_drops_the_asked_fraction():
    out = noise.masking(torch.ones(100, 784), 0.3, gen())
    assert abs(float((out == 0).float().mean()) - 0.3) < 0.005
    assert set(out.unique().tolist()) == {0.0, 1.0}


def test_salt_and_pepper_half_each():
    out = noise.salt_and_pepper(torch.full((100, 784), 0.5), 0.2, gen())
    assert abs(float((out == 0).float().mean()) - 0.1) < 0.004
    assert abs(float((out == 1).float().mean()) - 0.1) < 0.004
    assert abs(float((out == 0.5).float().mean()) - 0.8) < 0.005


def test_speckle_scales_with_the_value():
    out = noise.speckle(torch.full((200, 784), 0.5), 0.2, gen())
    assert abs(float(out.std()) - 0.1) < 0.002  # 0.5 * 0.2
    assert torch.equal(noise.speckle(torch.zeros(10, 10), 0.9, gen()), torch.zeros(10, 10))


def test_block_zeroes_one_square_box_per_image():
    out = noise.block(torch.ones(50, 3, 28, 28), 0.25, gen())
    zeros = out == 0
    assert torch.equal(zeros.flatten(1).sum(1), torch.full((50,), 3 * 7 * 7))  # 7x7 box, every channel
    for img in zeros[:, 0]:
        rows, cols = img.any(1).nonzero().flatten(), img.any(0).nonzero().flatten()
        assert len(rows) == 7 and len(cols) == 7
        assert int(rows[-1] - rows[0]) == 6 and int(cols[-1] - cols[0]) == 6  # contiguous
    starts = zeros[:, 0].any(2).float().argmax(1)
    assert len(starts.unique()) > 5  # boxes land in different places


def test_block_on_vectors_zeroes_a_span():
    out = noise.block(torch.ones(20, 40), 0.5, gen())
    assert torch.equal((out == 0).sum(1), torch.full((20,), 20))


@pytest.mark.parametrize("spec, fragment", [
    ("gaussian", "needs a level"), ("gaussian:abc", "not a number"), ("fog:0.1", "Unknown noise"),
    ("masking:1.5", r"\[0, 1\]"), ("gaussian:-0.1", r"\[0, 1\]"),
])
def test_bad_specs_are_refused(spec, fragment):
    with pytest.raises(InputError, match=fragment):
        noise.parse(spec)


def test_parse_good_spec():
    assert noise.parse("salt-pepper:0.25") == ("salt-pepper", 0.25)
