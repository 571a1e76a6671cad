"""The footer, ordered for the commander: the focused pane's keys first (what acts on the row
under the cursor), then help and quit, then the incident keys. Textual's Footer lists the
app's keys first, so on a 100- or 160-column terminal a pane's own keys and `? Keys` were
the ones cut off the right edge."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS = ("warroom.help", "warroom.quit")  # how to learn the rest, and how to leave


class PaneFooter(Footer):
    _fitted_width = 0

    def on_resize(self) -> None:
        if self.size.width != self._fitted_width:
            self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        screen = self.screen
        rows = [
            (node, binding, enabled, tooltip)
            for node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show
        ]

        def rank(row: tuple) -> int:
            node, binding = row[0], row[1]
            if node is not screen and node is not self.app:
                return 0  # the focused widget's (and its containers') own keys
            return 1 if binding.id in ALWAYS else 2

        shown, seen = [], set()
        for row in sorted(rows, key=rank):  # stable: each group keeps its table order
            if row[1].action not in seen:  # two keys for one action: show the first
                seen.add(row[1].action)
                shown.append(row)
        # Whole entries only: a key cut in half ("e Evidenc") helps nobody; `?` lists the rest.
        room, fitted = self.size.width or self.app.size.width, []
        for row in shown:
            need = cell_len(self.app.get_key_display(row[1])) + cell_len(row[1].description) + 2
            if need > room:
                break
            room -= need
            fitted.append(row)
        self._fitted_width = self.size.width
        self.styles.grid_size_columns = len(fitted)
        for _, binding, enabled, tooltip in fitted:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
