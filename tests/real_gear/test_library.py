"""The shipped library of real units, its metadata, the library path, per-unit settings, strips
and conditional parameters, and the hand-set panels' controls."""

from __future__ import annotations

import pytest

from devices.errors import ProfileError
from devices.profile import LIBRARY, builtin_profiles, load_library, resolve_profile
from devices.unit_settings import UnitSettings, customise, parse_unit_settings, port_url

EXAMPLES = {p.stem for p in LIBRARY.glob("hy-*.toml")}


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def real(lib):
    return {pid: p for pid, p in lib.items() if not pid.startswith("hy-")}


def test_at_least_24_real_units_each_naming_its_document(lib):
    units = real(lib)
    assert len(units) >= 24, sorted(units)
    for pid, p in units.items():
        assert p.version and p.author and p.firmware_tested, pid
        assert p.sources and all(s.document for s in p.sources), pid
        assert p.maker and not p.maker.startswith("Hybrid"), pid
    kinds = {p.transport for p in units.values()}
    assert {"midi", "serial", "tcp", "osc", "manual"} <= kinds


def test_library_path_reports_a_bad_file_and_loads_the_others(tmp_path, monkeypatch):
    user = tmp_path / "user"
    user.mkdir()
    (user / "broken.toml").write_text('spec = "hybrid-device/1"\nid = "x"\ntransport = "midi"\nkind = "nope"\n')
    (user / "binary.toml").write_bytes(b"\xff\xfe\x00")
    mine = (LIBRARY / "ua-1176ln.toml").read_text().replace('model = "1176LN"', 'model = "1176LN (my rev H)"')
    (user / "my-1176.toml").write_text(mine)
    studio = tmp_path / "studio"
    (studio / "profiles").mkdir(parents=True)
    (studio / "profiles" / "room-eq.toml").write_text(
        (LIBRARY / "neve-1073.toml").read_text().replace('id = "neve-1073"', 'id = "room-1073"'))
    monkeypatch.setenv("HYBRID_PROFILES", str(user))
    from devices.profile import library_path
    found = load_library(library_path(studio))
    assert "room-1073" in found.profiles and "strymon-bigsky" in found.profiles
    assert found.profiles["ua-1176ln"].model == "1176LN (my rev H)"          # the user's copy wins
    assert "ua-1176ln" in found.overridden
    report = found.report()
    assert len(report) == 2
    assert any("broken.toml" in line and "kind" in line for line in report)
    assert any("binary.toml" in line for line in report)
    assert resolve_profile("room-1073", base_dir=studio).id == "room-1073"
    assert resolve_profile("ua-1176ln", base_dir=studio).model == "1176LN (my rev H)"


# ---- per-unit settings ----------------------------------------------------------------------------
def test_two_spx2000s_on_different_channels_and_a_users_h9_ccs(lib):
    spx = lib["yamaha-spx2000"]
    second = customise(spx, UnitSettings(channel=7, device_id=3), where="devices.SPX2")
    assert second.midi.channel == 7 and second.settings["midi"].device_id == 3 and spx.midi.channel == 1
    h9 = customise(lib["eventide-h9"], parse_unit_settings({"cc": {"kb0": 40, "kb1": 41}}, file="studio.toml",
                                                            key="devices.H9"), where="devices.H9")
    assert h9.parameters["kb0"].encoding.control == 40 and lib["eventide-h9"].parameters["kb0"].encoding.control == 22
    with pytest.raises(ProfileError, match="also used by"):
        customise(lib["eventide-h9"], UnitSettings(cc={"kb0": 23}), where="devices.H9")
    with pytest.raises(ProfileError, match="not sent as a 7-bit CC"):
        customise(lib["eventide-h9"], UnitSettings(cc={"preset": 23}), where="devices.H9")
    with pytest.raises(ProfileError, match="expected a controller number"):
        parse_unit_settings({"cc": {"kb0": 200}}, file="studio.toml", key="devices.H9")


def test_router_base_and_host_per_unit(lib):
    hub = customise(lib["blackmagic-videohub"], UnitSettings(port_base=1), where="devices.Hub")
    assert hub.router.port_base == 1 and lib["blackmagic-videohub"].router.port_base == 0
    unit = UnitSettings(host="10.0.0.7")
    assert port_url(lib["blackmagic-videohub"], unit, 9990, where="d") == "tcp://10.0.0.7:9990"
    assert port_url(lib["behringer-x32"], unit, 10023, where="d") == "osc.udp://10.0.0.7:10023"
    assert port_url(lib["extron-mav-plus"], UnitSettings(host="mav.local", network_port=2323), 23,
                    where="d") == "socket://mav.local:2323"
    with pytest.raises(ProfileError, match="host name or IP"):
        parse_unit_settings({"host": "not a host!"}, file="s", key="devices.X")


def test_studio_toml_carries_per_unit_settings(tmp_path):
    from recall.studio import load_studio
    (tmp_path / "studio.toml").write_text('''spec = "hybrid-studio/1"
name = "Room"
[devices."SPX A"]
profile = "yamaha-spx2000"
port = "spx-a"
[devices."SPX B"]
profile = "yamaha-spx2000"
port = "spx-b"
channel = 2
device_id = 5
[devices.H9]
profile = "eventide-h9"
port = "h9"
cc = { kb3 = 70 }
[devices.Hub]
profile = "blackmagic-videohub"
host = "192.168.1.40"
''')
    studio = load_studio(tmp_path)
    b = studio.devices["SPX B"].profile
    assert b.settings["midi"].device_id == 5 and studio.devices["SPX A"].profile.settings["midi"].device_id != 5
    assert studio.devices["H9"].profile.parameters["kb3"].encoding.control == 70
    assert studio.devices["Hub"].port == "tcp://192.168.1.40:9990"
    (tmp_path / "studio.toml").write_text('spec = "hybrid-studio/1"\nname = "Room"\n[devices.H9]\nprofile = "eventide-h9"\nport = "h9"\n'
                                          'cc = { nope = 70 }\n')
    from recall.errors import RecallError
    with pytest.raises(RecallError, match=r"devices\.H9.*nope"):
        load_studio(tmp_path)


# ---- conditional parameters -----------------------------------------------------------------------
def test_algorithm_controls_exist_only_for_their_algorithm(lib):
    sky = lib["strymon-bigsky"]
    room = sky.applicable({"type": "Room"})
    assert "room_low_end" in room and "hall_low_end" not in room and "shimmer_amount" not in room
    assert "shimmer_amount" in sky.applicable_to({"type": "shimmer"})
    api = lib["api-2500"]
    assert "variable_release" not in api.applicable_to({"release": "200 ms"})
    assert "variable_release" in api.applicable_to({"release": "VARIABLE"})


def test_selector_goes_first_in_a_plan(lib):
    from devices.device import Device
    dev = Device(lib["strymon-bigsky"], "nowhere")
    plan = dev.plan({"room_low_end": 12, "type": "Room"})
    assert [m.hex() for m in plan] == ["B0 13 00", "B0 3D 0C"]      # CC 19 (type) before CC 61


def test_a_condition_naming_an_unknown_selector_is_refused(tmp_path):
    text = (LIBRARY / "api-2500.toml").read_text().replace('when = { release = "VARIABLE" }',
                                                           'when = { releese = "VARIABLE" }')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    from devices.profile import load_profile
    with pytest.raises(ProfileError, match=r"variable_release\.when\.releese.*no parameter"):
        load_profile(path)


# ---- hand-set panels: the control the panel has ---------------------------------------------------
@pytest.mark.parametrize("pid,param,control", [
    ("ua-1176ln", "ratio", "buttons"), ("ua-1176ln", "meter", "buttons"),
    ("tubetech-cl1b", "timing", "toggle3"), ("tubetech-cl1b", "meter", "toggle3"),
    ("neve-1073", "mid_gain", "concentric"), ("neve-1073", "mid_freq", "concentric"),
    ("api-2500", "attack", "stepped"), ("api-2500", "knee", "toggle3"), ("ssl-g-bus-compressor", "release", "stepped"),
    ("manley-variable-mu", "recovery", "stepped"), ("teletronix-la2a", "mode", "toggle"),
])
def test_panels_declare_the_real_control(lib, pid, param, control):
    assert lib[pid].parameters[param].panel_control() == control


def test_quoted_ranges_of_hand_set_units(lib):
    # Tube-Tech CL 1B manual p. 3: "The attack control is continuously variable from 0.5 to 300 milliseconds",
    # "The release control is continuously variable from 0,05 to 10 seconds", "The threshold is continuously
    # variable from +20dBU to -40 dBU", "continuously variable from 2:1 to 10:1", gain "from off to +30 dB";
    # p. 4: attack/release select "1. Fixed. 2. Manual. 3. Fix/man."
    cl = lib["tubetech-cl1b"].parameters
    assert (cl["attack"].minimum, cl["attack"].maximum) == (0.5, 300.0)
    assert (cl["release"].minimum, cl["release"].maximum) == (0.05, 10.0)
    assert (cl["threshold"].minimum, cl["threshold"].maximum) == (-40.0, 20.0)
    assert (cl["ratio"].minimum, cl["ratio"].maximum) == (2.0, 10.0)
    assert cl["timing"].labels == ["Fixed", "Manual", "Fix/man"]
    # API 2500 manual p. 6: "There are seven positions to choose from, 30u/sec, 100u/sec, 300u/sec, 1 m/sec,
    # 3 m/sec, 10 m/sec and 30 m/sec"; ratio "1.5:1, 2:1, 3:1, 4:1, 6:1, 10:1 and INF:1"; release "50m/sec.,
    # 100m/sec, 200m/sec., 500/m/sec, 1 sec, 2 sec, and VARIABLE"; variable "from 50m/sec. to 3 seconds".
    api = lib["api-2500"].parameters
    assert [api["attack"].number(x) for x in api["attack"].labels] == [0.03, 0.1, 0.3, 1, 3, 10, 30]
    assert api["ratio"].labels == ["1.5", "2", "3", "4", "6", "10", "INF"]
    assert api["release"].labels[-1] == "VARIABLE"
    assert (api["variable_release"].minimum, api["variable_release"].maximum) == (0.05, 3.0)
    # Manley Variable Mu manual p. 6: "RECOVERY ... VERY SLOW 8 seconds, SLOW 4 seconds, MEDIUM 0.6 seconds,
    # FAST 0.4 second, VERY FAST 0.2 second"; attack "Fast =25mS, Med =50mS, Slow =70mS".
    mu = lib["manley-variable-mu"].parameters
    assert [mu["recovery"].number(x) for x in mu["recovery"].labels] == [8.0, 4.0, 0.6, 0.4, 0.2]
    assert (mu["attack"].minimum, mu["attack"].maximum) == (25.0, 70.0)
    # 1176LN manual p. 22: the meter "set to +4 or +8 ... or ... GR"; "press all four Ratio buttons".
    assert {"GR", "+8", "+4"} <= set(lib["ua-1176ln"].parameters["meter"].labels)
    assert lib["ua-1176ln"].parameters["ratio"].labels[:4] == ["4", "8", "12", "20"]


# ---- routers: bytes quoted from the documents, over the real transports -----------------------------
def test_extron_mav_audio_tie_is_the_guides_example(lib):
    # Extron MTPX Plus / CrossPoint MAV guide: "Tie input 12 audio to output 4: 12*4$ -> Out04 In12 Aud".
    r = lib["extron-mav-plus"].router
    assert r.tie.build(input=12, output=4) == "12*4$"
    assert r.tie_reply.match("Out04 In12 Aud") == {"output": "04", "input": "12"}


def test_kramer_p3000_audio_switch_syntax(lib):
    # Kramer VP-81K Table 9: "Switch audio only AUD IN>OUT"; "Read audio connection AUD? OUT"; syntax
    # "# Command SP Parameters CR", device message "~ Sender_id@ Message CR LF".
    p = lib["kramer-p3000-matrix"]
    assert p.router.tie.build(input=3, output=2) + p.serial.terminator == "#AUD 3>2\r"
    assert p.router.query.build(output=2) == "#AUD? 2"
    assert p.router.query_reply.match("~01@AUD 3>2") is not None


def test_dsp1100_controller_table(lib):
    # Behringer DSP1100 manual, Tab. 8.2: "Frequency 20 (Hz)..20 (kHz) 13 0..30", "Gain -48..+16 16 0..64",
    # "Fine (1/60 Oct) -9..+10 14 0..19", "Bandwidth 1..120 15 0..119".
    p = lib["behringer-dsp1100"].parameters
    assert p["frequency"].to_wire(20.0, 127) == 0 and p["frequency"].to_wire(20000.0, 127) == 30
    assert p["gain"].to_wire(-48.0, 127) == 0 and p["gain"].to_wire(16.0, 127) == 64
    assert p["fine"].to_wire(10.0, 127) == 19 and p["bandwidth"].to_wire(120.0, 127) == 119


def test_midiverb3_edit_message(lib):
    # Alesis Midiverb III manual, 03 - MIDI Editing: "F0 00 00 0E 03 03 <parameter#> <value lsb> <value msb>
    # F7", "7=REVERB DECAY 0-99", "<value lsb> = 0aaaaaaaB ... bits 0-6", "<value msb> ... bit 0-2".
    decay = lib["alesis-midiverb3"].parameters["reverb_decay"]
    wire = decay.to_wire(99.0, decay.encoding.wire_max)
    assert decay.encoding.encode(wire, 1)[0].hex() == "F0 00 00 0E 03 03 07 63 00 F7"
    amp = lib["alesis-midiverb3"].parameters["mod_amplitude"]
    wire = amp.to_wire(50.0, amp.encoding.wire_max)                     # 99 + 50 = 149 = 0x95
    assert amp.encoding.encode(wire, 1)[0].hex() == "F0 00 00 0E 03 03 0C 15 01 F7"


def test_bigsky_mx_banks(lib):
    # Strymon BigSky MX manual p. 76: "0 = Bank 0 (Preset locations 00A - 63B) • 1 = Bank 1 (Preset locations
    # 064A - 127B) • 2 = Bank 2 (Preset locations 128A - 149B)"; "Send CC 0 ... followed by MIDI PC".
    preset = lib["strymon-bigsky-mx"].parameters["preset"]
    enc = preset.encoding
    assert [m.hex() for m in enc.encode(preset.to_wire("064A", enc.wire_max), 1)] == ["B0 00 01", "C0 00"]
    assert [m.hex() for m in enc.encode(preset.to_wire("063B", enc.wire_max), 1)] == ["B0 00 00", "C0 7F"]

