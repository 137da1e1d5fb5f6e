"""The command palette (ctrl+p): open any song, and the main job's actions, by typing."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.views import VIEWS


class HybridCommands(Provider):
    """Songs by title ("open Night Drive"), views ("go to Loops") and actions."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        out = []
        for song in app.session.known_songs():
            out.append((f"Open song: {song.title}", partial(app.open_song, song.slug),
                        f"{song.album or 'no album'} · {song.stage or '-'}"))
        for number, view in enumerate(VIEWS, start=1):
            out.append((f"Go to {view.label}", partial(app.action_show, view.id), f"view {number}"))
        for view in VIEWS:   # each view's own palette entries (its PALETTE)
            for title, action in getattr(view.cls, "PALETTE", ()):
                out.append((title, partial(app.run_view_action, view.id, action), f"on {view.label}"))
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
