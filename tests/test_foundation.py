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


def test_jack_server_keeps_running_while_it_logs_a_lot():
    """jackd writes a line per xrun/client error to stderr; the server must never block on it.

    Each refused connection below makes jackd log a few lines; 2000 of them are far more
    than a pipe holds (64 KiB), which used to stop the whole graph: then the flood never
    finishes (a blocked libjack call cannot be interrupted, so it runs in a thread).
    """
    import threading

    from devices.jack_server import JackServer

    with JackServer(name=f"hybrid-log-{os.getpid()}") as server:
        client = jack.Client("log-flood", servername=server.name, no_start_server=True)
        client.activate()
        jack.set_error_function(lambda message: None)

        def flood():
            for _ in range(2000):
                try:
                    client.connect("no-such:port", "none:either")
                except jack.JackError:
                    pass

        worker = threading.Thread(target=flood, daemon=True)
        worker.start()
        worker.join(timeout=60)
        jack.set_error_function(None)
        assert not worker.is_alive(), "jackd stopped answering while it logged"
        assert server.log_tail(), "jackd logged nothing: the flood did not flood"
        probe = jack.Client("log-probe", servername=server.name, no_start_server=True)
        assert probe.get_ports("system:")
        probe.close()
        client.deactivate()
        client.close()


def test_a_signal_the_moment_a_long_command_is_ready_ends_it_normally():
    """Simulators install their Ctrl-C/SIGTERM handling before they print "listening": CI once
    caught the gap between the two (exit 130, "hybrid: interrupted", from a plain Ctrl-C)."""
    import os
    import signal

    from hybrid.cli.stopping import stop_signals, wait_until

    before = signal.getsignal(signal.SIGINT)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with stop_signals() as stop:
            os.kill(os.getpid(), sig)           # delivered before the next bytecode
            assert stop.wait(1.0)
            wait_until(stop, None)              # returns at once: already stopped
    assert signal.getsignal(signal.SIGINT) is before
