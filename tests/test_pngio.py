import cv2
import numpy as np
import pytest

from factory.pngio import encode_png, write_png


@pytest.mark.parametrize("shape", [(7, 5), (40, 33, 3), (1, 1), (1, 9, 3)])
def test_png_round_trips_exactly_through_opencv(shape):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    decoded = cv2.imdecode(np.frombuffer(encode_png(image), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == image.shape
    assert np.array_equal(decoded, image)


def test_write_png_replaces_atomically(tmp_path):
    path = tmp_path / "page.png"
    image = np.full((10, 10, 3), 200, np.uint8)
    write_png(path, image)
    assert np.array_equal(cv2.imread(str(path)), image)
    assert not list(tmp_path.glob("*.part"))


def test_rejects_what_png_cannot_hold():
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape|\\(h, w\\)"):
        encode_png(np.zeros((2, 2, 4), np.uint8))
