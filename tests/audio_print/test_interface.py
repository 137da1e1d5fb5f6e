"""[interface] from studio.toml: values checked, each bad key named."""

import pytest

from hybrid.live.audio.interface import InterfaceSettings, load_interface
from hybrid.errors import HybridError


def _studio(tmp_path, text):
    (tmp_path / "studio.toml").write_text(text)
    return tmp_path


def test_reads_and_overrides(tmp_path):
    s = load_interface(_studio(tmp_path, '[interface]\ndevice = "hybrid-gear"\nsamplerate = 48000\nblocksize = 256\n'))
    assert s == InterfaceSettings("hybrid-gear", None, 48000, 256)
    assert s.override(samplerate=44100, blocksize=None).samplerate == 44100
    assert s.override(blocksize=0).blocksize == 0


@pytest.mark.parametrize("text, expected", [
    ('name = "x"\n', "missing \\[interface\\]"),
    ('[interface]\nsamplerate = 48000\n', "interface.device"),
    ('[interface]\ndevice = "g"\nsamplerate = "fast"\n', "interface.samplerate"),
    ('[interface]\ndevice = "g"\nblocksize = -1\n', "interface.blocksize"),
    ('[interface\n', "not valid TOML"),
])
def test_bad_files_name_the_key(tmp_path, text, expected):
    with pytest.raises(HybridError, match=expected) as info:
        load_interface(_studio(tmp_path, text))
    assert "studio.toml" in str(info.value)


def test_no_studio(tmp_path):
    with pytest.raises(HybridError, match="no studio.toml"):
        load_interface(tmp_path)
