"""Profiles: the built-in library loads; malformed files are refused with file, key path and reason."""

from pathlib import Path

import pytest

from devices.errors import DeviceError, ProfileError
from devices.profile import LIBRARY, builtin_profiles, load_profile, load_profiles_dir, resolve_profile

HERE = Path(__file__).parent

GOOD = '''
spec = "hybrid-device/1"
id = "t-comp"
kind = "compressor"
transport = "midi"
[parameters.threshold]
kind = "continuous"
unit = "dB"
range = [-40.0, 0.0]
default = -10.0
midi = { type = "cc", control = 20 }
'''


def test_builtin_library_has_the_promised_profiles():
    lib = builtin_profiles()
    want = {"hy-comp-cc": ("compressor", "midi", "compressor"), "hy-eq-nrpn": ("equaliser", "midi", "eq"),
            "hy-verb-sysex": ("reverb", "midi", "reverb"), "hy-patchbay-pc": ("patchbay", "midi", None),
            "hy-matrix-sis": ("router", "serial", None), "hy-sat-serial": ("saturator", "serial", "saturator"),
            "hy-pultec-manual": ("manual", "manual", "eq")}
    for pid, (kind, transport, model) in want.items():
        p = lib[pid]
        assert (p.kind, p.transport, p.sound["model"] if p.sound else None) == (kind, transport, model)
        assert p.source.is_file()
    assert lib["hy-verb-sysex"].readback and lib["hy-sat-serial"].readback and lib["hy-matrix-sis"].readback
    assert not lib["hy-pultec-manual"].readback and not lib["hy-pultec-manual"].recallable
    assert list(lib["hy-comp-cc"].parameters)[:3] == ["threshold", "ratio", "attack"]   # panel order
    ratio = lib["hy-comp-cc"].parameters["ratio"]
    assert ratio.labels == ["2:1", "4:1", "8:1", "12:1", "20:1"] and ratio.values == [2, 4, 8, 12, 20]


def test_sound_roles_resolve_to_numbers():
    comp = builtin_profiles()["hy-comp-cc"]
    state = comp.defaults() | {"ratio": "8:1"}
    assert comp.role_number(comp.sound["roles"]["ratio"], state) == 8.0
    assert comp.role_number(comp.sound["roles"]["noise_dbfs"], state) == -92.0
    pultec = builtin_profiles()["hy-pultec-manual"]
    band = pultec.sound["bands"][2]
    assert pultec.role_number(band["freq_hz"], pultec.defaults()) == 10000.0


def test_resolve_by_id_and_by_path(tmp_path):
    assert resolve_profile("hy-comp-cc").id == "hy-comp-cc"
    (tmp_path / "mine.toml").write_text(GOOD)
    assert resolve_profile("mine.toml", base_dir=tmp_path).id == "t-comp"
    with pytest.raises(ProfileError, match="no built-in profile 'nope'"):
        resolve_profile("nope")


@pytest.mark.parametrize("edit, key, fragment", [
    (lambda s: s.replace('spec = "hybrid-device/1"', 'spec = "hybrid-device/9"'), "spec", 'expected "hybrid-device/1"'),
    (lambda s: s.replace('transport = "midi"', 'transport = "usb"'), "transport", "one of midi, serial, tcp, osc, manual"),
    (lambda s: s.replace("range = [-40.0, 0.0]", "range = [0.0, -40.0]"), "parameters.threshold.range",
     "minimum < maximum"),
    (lambda s: s.replace("default = -10.0", "default = 5.0"), "parameters.threshold.default", "out of range"),
    (lambda s: s.replace('type = "cc", control = 20', 'type = "cc", control = 200'),
     "parameters.threshold.midi.control", "integer 0..119"),
    (lambda s: s.replace('type = "cc"', 'type = "ccc"'), "parameters.threshold.midi.type", "must be one of"),
    (lambda s: s.replace("midi = {", "mdi = {"), "parameters.threshold.mdi", "unknown key"),
    (lambda s: s.replace('kind = "continuous"', 'kind = "continuous"\ntaper = "log"'),
     "parameters.threshold.taper", "above zero"),
    (lambda s: s + '[sound]\nmodel = "compressor"\nroles = { ratio = "nope" }\n', "sound.roles.ratio",
     "no parameter 'nope'"),
    (lambda s: s + '[sound]\nmodel = "eq"\n', "sound.bands", "at least one band"),
    (lambda s: s.replace('id = "t-comp"', ""), "id", "missing"),
    (lambda s: s + '[parameters.ratio]\nkind = "continuous"\nrange = [1.0, 20.0]\nmidi = { type = "cc", control = 20 }\n',
     "parameters.ratio.midi", "CC 20 is also used by parameters.threshold"),
    (lambda s: s + "readback = true\n" if False else s.replace('kind = "compressor"', 'kind = "compressor"\nreadback = true'),
     "readback", "not every parameter"),
])
def test_malformed_profile_names_file_key_and_expectation(tmp_path, edit, key, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path) and err.key == key, str(err)
    assert fragment in str(err)
    assert "\n" not in str(err) and str(err).startswith(str(path))


def test_not_toml_and_missing_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("spec = \n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(path)
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "absent.toml")


def test_folder_with_duplicate_ids_is_refused(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(ProfileError, match="also used by a.toml"):
        load_profiles_dir(tmp_path)


def test_test_profiles_folder_loads():
    profiles = load_profiles_dir(HERE / "profiles")
    assert "test-sysex-sums" in profiles
    assert isinstance(ProfileError("x"), DeviceError) and isinstance(ProfileError("x"), ValueError)


@pytest.mark.parametrize("sound, key, fragment", [
    ('model = "compressor"\nroles = { atack_ms = "attack" }', "sound.roles.atack_ms",
     "unknown role for a compressor model; expected one of threshold_db, ratio, attack_ms"),
    ('model = "saturator"\nroles = { decay_s = 2.0 }', "sound.roles.decay_s", "unknown role for a saturator model"),
    ('model = "compressor"\nbands = [{ type = "peak", freq_hz = 100 }]', "sound.bands",
     "only an eq model has bands"),
])
def test_unknown_sound_roles_are_refused_with_file_and_key(tmp_path, sound, key, fragment):
    text = (LIBRARY / "hy-comp-cc.toml").read_text()
    text = text[: text.index("[sound]")] + "[sound]\n" + sound + "\n"
    path = tmp_path / "comp.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert caught.value.file == str(path) and caught.value.key == key and fragment in caught.value.reason
