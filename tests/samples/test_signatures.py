import numpy as np

from factory.samples import SignatureWriter


def ink_columns(image: np.ndarray) -> np.ndarray:
    return np.where(image.min(axis=0) < 128)[0]


def test_signature_is_dark_ink_on_white_and_fits_the_box():
    writer = SignatureWriter()
    image = writer.write("张晓明", np.random.default_rng(1))
    assert image.shape == (160, 480) and image.dtype == np.uint8
    assert np.median(image) == 255
    assert 0.03 < (image < 128).mean() < 0.4


def test_writers_differ_and_the_same_writer_repeats():
    writer = SignatureWriter()
    a = writer.write("王未", np.random.default_rng(1))
    b = writer.write("王未", np.random.default_rng(2))
    again = writer.write("王未", np.random.default_rng(1))
    assert np.array_equal(a, again)
    assert not np.array_equal(a, b)


def test_look_alike_characters_render_differently():
    writer = SignatureWriter()
    xiao, wrong = writer.glyph("晓"), writer.glyph("哓")
    assert (xiao < 128).sum() > 100 and (wrong < 128).sum() > 100
    assert not np.array_equal(xiao, wrong)
