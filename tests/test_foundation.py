"""The base: the CLI answers, the JACK server fixture runs, a pty pair passes bytes."""

from __future__ import annotations

import os

import jack
import serial


def test_cli_help_lists_areas(cli):
    out = cli("--help")
    assert out.returncode == 0
    assert "usage: hybrid" in out.stdout


def test_cli_without_command_prints_help_and_fails(cli):
    out = cli()
    assert out.returncode == 2
    assert "usage: hybrid" in out.stdout


def test_jack_server_accepts_clients(jack_server):
    client = jack.Client("foundation-check", servername=jack_server.name, no_start_server=True)
    try:
        assert client.samplerate == 48000
        assert client.blocksize == 256
    finally:
        client.close()


def test_pty_pair_carries_all_byte_values(pty_pair):
    master, path = pty_pair
    with serial.Serial(path, 38400, timeout=1) as port:
        payload = bytes(range(256))
        os.write(master, payload)
        got = b""
        while len(got) < len(payload):
            chunk = port.read(len(payload) - len(got))
            assert chunk, "pty stopped delivering bytes"
            got += chunk
        assert got == payload
