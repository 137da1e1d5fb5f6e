"""The command palette (ctrl+p): open any song, and the main job's actions, by typing."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS = (
    ("Apply the recall of the open song", "recall", "apply"),
    ("Apply only what changed", "recall", "apply_changed"),
    ("Walk through the hand-set gear", "recall", "walk"),
    ("Measure all loops", "loops", "measure_all"),
    ("Print the open song", "print", "print"),
    ("Show the print plan", "print", "plan"),
    ("Save the sheet", "sheet", "save"),
    ("Diff the sheet against the gear now", "sheet", "diff_gear"),
    ("Check device ports", "devices", "refresh_status"),
    ("Take in a client's upload", "intake", "take_in"),
    ("Connect the selected control surface", "surfaces", "connect"),
    ("Measure the album's loudness", "album", "measure"),
    ("Build and verify the album's DDP", "album", "build"),
    ("Write the approval set from the DDP", "album", "approve"),
)

VIEWS = ("songs", "sheet", "recall", "devices", "loops", "print", "intake", "surfaces", "album")


class HybridCommands(Provider):
    """Songs by title ("open Night Drive"), views ("go to Loops") and actions."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        out = []
        for song in app.session.known_songs():
            out.append((f"Open song: {song.title}", partial(app.open_song, song.slug),
                        f"{song.album or 'no album'} · {song.stage or '-'}"))
        for view in VIEWS:
            out.append((f"Go to {view.title()}", partial(app.action_show, view), f"view {VIEWS.index(view) + 1}"))
        for title, view, action in ACTIONS:
            out.append((title, partial(app.run_view_action, view, action), f"on {view.title()}"))
        return out

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
