"""The window's map panel wiring: which map lies over the aligned faces, and the gallery.

A mixin of MainWindow. What each toggle is, its settings and cache key are in
core.workbench.explainer_catalogue; the computed maps live in the Session's
cache; the maps are computed by core.workbench.jobs in a worker. Here are only
the toggles, the overlay images and the panel's texts.
"""

from __future__ import annotations

from core.explainers.marginals import paint_boxes
from core.models.registry import load_model
from core.workbench import explainer_catalogue as catalogue
from core.workbench import jobs, map_sanity
from core.workbench.state import SIDES
from gui.colormaps import overlay_rgba, symmetric_limit, table_name
from gui.explainer_panel import MARGINALS, NONE
from gui.sanity_dialog import SanityDialog

MARGINALS_INFO = (
    "Each cell is painted with its exact share of the score: Q with its row "
    "sums, K with its column sums (pair terms plus head-bias terms)."
)
NONE_INFO = "Click a cell on one aligned face to paint its terms onto the other."


class MapOverlays:
    """Explainer toggles, overlays on the aligned faces, opacity, colour map, SDD gallery.

    An explainer runs as two jobs: "explain" (the map, with provisional maps while
    it refines) and then "fidelity". A new photo, face, model or case stops both
    (within one batch of passes) and does not restart them on the new pair.
    """

    _provisional: tuple | None = None  # (cache key, partial maps) of the running explainer
    sanity_dialog: SanityDialog | None = None  # the last sanity-check result shown

    def _refresh_overlays(self) -> None:
        self._update_sanity_action()
        comparison = self.state.comparison
        for side in SIDES:
            values = None if comparison is None else self._overlay_values(side)
            if values is None:
                self.panes[side].show_overlay(None)
                continue
            limit = symmetric_limit(values)
            rgba = overlay_rgba(values, self._cmap, self._overlay_opacity, limit)
            self.panes[side].show_overlay(rgba, table_name(self._cmap), limit)

    def _overlay_values(self, side: str):
        """Painted linked terms win; else the chosen map; None when nothing is drawn."""
        comparison = self.state.comparison
        layout = comparison.decomposition.layout
        painted = self.state.painted_terms(side)
        if painted is not None:
            values = paint_boxes(painted, layout.boxes, layout.input_size)
        elif self.maps.current == MARGINALS:
            d = comparison.decomposition
            marginals = d.row_marginals() if side == "q" else d.column_marginals()
            values = paint_boxes(marginals, layout.boxes, layout.input_size)
        elif self.maps.current in catalogue.TOGGLES:
            cached = self.session.cached_map(self.maps.current) or self._provisional_maps()
            if cached is None:
                return None
            values = cached["map_a" if side == "q" else "map_b"]
        else:
            return None
        return values

    def _map_toggled(self, name: str) -> None:
        """Show a map; an explainer not yet cached for this pair starts in a worker."""
        self._stop_explainers()
        comparison = self.state.comparison
        if name in catalogue.TOGGLES and comparison is not None:
            cached = self.session.cached_map(name)
            key = self.session.map_key(name)
            if cached is None:
                self.maps.set_busy(0.0, f"{name}: starting")
                self.runner.start(
                    "explain",
                    jobs.explain_job(
                        name, comparison, self.session.gallery_for(name), self.session.runtime
                    ),
                    on_done=lambda result, k=key, n=name, c=comparison: self._explained(
                        k, n, c, result
                    ),
                    on_error=lambda message, expected: self._failed(message, expected, None),
                    on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
                    on_partial=lambda maps, k=key, n=name: self._show_provisional(k, n, maps),
                )
            elif cached["figures"] is None:  # its fidelity was interrupted: measure it now
                self._measure_fidelity(key, name, comparison, cached)
        self.maps.info.setText(self._map_info(name))
        self._refresh_overlays()

    def _stop_explainers(self) -> None:
        """Cancel the running explainer, fidelity and sanity jobs; drop any provisional map."""
        self.runner.cancel("explain")
        self.runner.cancel("fidelity")
        self.runner.cancel("sanity")
        self._provisional = None
        self.maps.set_busy(None)

    def _provisional_maps(self) -> dict | None:
        if self._provisional is None or self.state.comparison is None:
            return None
        key, maps = self._provisional
        return maps if key == self.session.map_key(self.maps.current) else None

    def _show_provisional(self, key: tuple, name: str, maps: dict) -> None:
        self._provisional = (key, maps)
        if self.maps.current == name:
            self._refresh_overlays()

    def _explained(self, key: tuple, name: str, comparison, result: dict) -> None:
        """The map is shown at once; its fidelity is measured after, as a job of its own."""
        self._provisional = None
        self.session.store_map(key, result)
        self.maps.set_busy(None)
        if self.maps.current == name:
            self.maps.info.setText(self._map_info(name))
            self._refresh_overlays()
        self.explained.emit(name)
        self._measure_fidelity(key, name, comparison, result)

    def _measure_fidelity(self, key: tuple, name: str, comparison, result: dict) -> None:
        self.maps.set_busy(0.0, f"{name}: fidelity")
        self.runner.start(
            "fidelity",
            jobs.fidelity_job(name, comparison, result["explanation"], self.session.runtime),
            on_done=lambda figures, k=key, n=name: self._measured(k, n, figures),
            on_error=lambda message, expected: self._failed(message, expected, None),
            on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
        )

    def _measured(self, key: tuple, name: str, figures: dict) -> None:
        self.session.store_figures(key, name, figures)
        self.maps.set_busy(None)
        if self.maps.current == name:
            self.maps.info.setText(self._map_info(name))
        self.fidelity_measured.emit(name)

    # -- the randomisation sanity check of the map on show -------------------------------

    def _sanity_reason(self) -> str | None:
        """Why the map on show cannot be sanity-checked now, or None."""
        if self.state.comparison is None:
            return "Compare a pair first."
        current = self.maps.current
        cached = self.session.cached_map(current) if current in catalogue.TOGGLES else None
        return map_sanity.unavailable_reason(current, cached)

    def _update_sanity_action(self) -> None:
        reason = self._sanity_reason()
        tip = reason or "Re-draw the model's layers at random and see whether the map changes."
        for widget in (self.maps.sanity_button, self.case_actions.get("sanity")):
            if widget is not None:
                widget.setEnabled(reason is None)
                widget.setToolTip(tip)

    def sanity_check_current_map(self) -> bool:
        """Run the randomisation check of the map on show in a worker; False (and why, in
        the status bar) when it cannot run now."""
        reason = self._sanity_reason()
        if reason is not None:
            self.statusBar().showMessage(reason, 10000)
            return False
        name, comparison = self.maps.current, self.state.comparison
        cached, key = self.session.cached_map(name), self.session.map_key(name)
        self.maps.set_busy(0.0, f"{name}: sanity check")
        self.runner.start(
            "sanity",
            jobs.sanity_job(name, comparison, cached),
            on_done=lambda outcome, k=key, n=name, c=comparison: self._sanity_checked(
                k, n, c, outcome
            ),
            on_error=lambda message, expected: self._failed(message, expected, None),
            on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
        )
        return True

    def _sanity_checked(self, key: tuple, name: str, comparison, outcome: dict) -> None:
        """Keep the record with the map (the case records it on save) and show it."""
        self.session.store_sanity(key, outcome["sanity"])
        self.maps.set_busy(None)
        cached = self.session.cached_map(name) if self.session.map_key(name) == key else None
        if cached is None:
            return
        if self.sanity_dialog is not None:
            self.sanity_dialog.close()
        self.sanity_dialog = SanityDialog(name, comparison, cached, outcome, self)
        self.sanity_dialog.show()
        self.statusBar().showMessage(f"{name}: {map_sanity.verdict_line(outcome['sanity'])}", 15000)
        self.sanity_checked.emit(name)

    def _pair_changed(self) -> None:
        """A new photo, face, model or case: stop the explainers; a map already computed for
        the new pair is shown, any other is not recomputed unasked (its toggle is released)."""
        self._stop_explainers()
        current = self.maps.current
        if current in catalogue.TOGGLES and self.state.comparison is not None:
            if self.session.cached_map(current) is None:
                self.maps.choose(NONE)
                self.statusBar().showMessage(
                    f"{current} stopped: the pair changed. Choose it again to compute it.", 10000
                )

    def _choose_runtime(self, runtime: str) -> None:
        """What runs the explainers' black-box passes (the score always comes from torch)."""
        self.session.runtime = runtime
        self.settings.setValue("runtime", runtime)
        self._map_toggled(self.maps.current)

    def _map_info(self, name: str) -> str:
        if name == MARGINALS:
            return MARGINALS_INFO
        if name == NONE:
            return NONE_INFO
        if self.state.comparison is None:
            return ""
        cached = self.session.cached_map(name)
        return cached["info"] if cached is not None else f"Computing {name}…"

    def _update_toggles(self) -> None:
        """Disable the explainers that cannot run for the current model, saying why."""
        state, session = self.state, self.session
        comparison = state.comparison
        model = None if comparison is None else load_model(comparison.model.id, self.engine.device)
        for name in catalogue.TOGGLES:
            gallery = session.gallery_for(name)
            if model is None:
                reason = catalogue.gallery_reason(
                    name, state.model_id, gallery, state.gallery_model
                )
            else:
                reason = catalogue.unavailable_reason(name, model, gallery, state.gallery_model)
            button = self.maps.buttons[name]
            button.setEnabled(reason is None)
            button.setToolTip(reason or catalogue.settings_text(name, gallery))
        if model is not None and not self.maps.group.checkedButton().isEnabled():
            self.maps.choose(NONE)

    def _opacity_changed(self, value: float) -> None:
        self._overlay_opacity = value
        self._refresh_overlays()

    def _colormap_changed(self, name: str) -> None:
        self._cmap = name
        self.settings.setValue("colormap", name)
        self.grid.set_colormap(name)
        self._refresh_overlays()

    # -- the background gallery for SDD ------------------------------------------------------

    def load_gallery(self, folder: str) -> None:
        """Embed the gallery with the current model in a worker (progress and cancel)."""
        model_id = self.state.model_id
        self.maps.set_busy(0.0, "gallery")
        self.runner.start(
            "gallery",
            jobs.gallery_job(folder, self.engine, model_id, self.session.runtime),
            on_done=lambda gallery, m=model_id: self.state.set_gallery(gallery, m),
            on_error=lambda message, expected: self._failed(message, expected, None),
            on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
        )

    def _refresh_gallery(self) -> None:
        """Embed the chosen gallery again when the model changed (embeddings are per model)."""
        gallery = self.state.gallery
        if gallery is not None and self.state.gallery_model != self.state.model_id:
            self.load_gallery(gallery.folder)

    def _cancel_maps(self) -> None:
        """Stop the map, fidelity and gallery jobs; a map that was not computed is no longer
        chosen."""
        self._stop_explainers()
        self.runner.cancel("gallery")
        current = self.maps.current
        if current in catalogue.TOGGLES and self.session.cached_map(current) is None:
            self.maps.choose(NONE)
        self._refresh_overlays()

    def _gallery_changed(self) -> None:
        self.maps.gallery_label.setText(catalogue.gallery_text(self.state.gallery))
        self._update_toggles()
        self.maps.info.setText(self._map_info(self.maps.current))
        self.gallery_ready.emit()
