import cv2
import numpy as np
import pytest

from factory.pngio import encode_png, read_png, write_png


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


@pytest.mark.parametrize("shape", [(7, 5), (40, 33, 3), (1, 1), (1, 9, 3), (300, 200, 3)])
@pytest.mark.parametrize("level", [1, 2])
def test_read_png_gives_what_opencv_reads(tmp_path, shape, level):
    image = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "image.png"
    write_png(path, image, level=level)
    grey = len(shape) == 2
    read = read_png(path, grey=grey)
    assert read.flags.c_contiguous and read.dtype == np.uint8
    assert np.array_equal(read, cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR))
    # The other conversion (colour from grey, grey from colour) is OpenCV's, as cv2.imread does it.
    assert np.array_equal(read_png(path, grey=not grey),
                          cv2.imread(str(path), cv2.IMREAD_COLOR if grey else cv2.IMREAD_GRAYSCALE))


def test_read_png_hands_other_files_to_opencv(tmp_path):
    image = np.random.default_rng(3).integers(0, 256, (50, 40, 3), dtype=np.uint8)
    image[10:30] = 128  # rows libpng filters with Sub/Paeth/Average
    for name in ("libpng.png", "photo.jpg"):
        cv2.imwrite(str(tmp_path / name), image)
        assert np.array_equal(read_png(tmp_path / name), cv2.imread(str(tmp_path / name)))
        assert np.array_equal(read_png(tmp_path / name, grey=True),
                              cv2.imread(str(tmp_path / name), cv2.IMREAD_GRAYSCALE))
    assert read_png(tmp_path / "missing.png") is None
    (tmp_path / "truncated.png").write_bytes(encode_png(image)[:200])
    assert read_png(tmp_path / "truncated.png") is None
