"""The workbench's Qt-free parts: state, selection, linking and cell maps."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.decomposition import decompose
from core.models.face_model import CellFeatures, grid_layout
from core.workbench.state import WorkbenchState, cell_at


def _state_with(matrix_seed: int = 0) -> WorkbenchState:
    rng = np.random.default_rng(matrix_seed)
    layout = grid_layout(2, 8)
    a = CellFeatures(cells=rng.normal(size=(4, 6)), bias=None)
    b = CellFeatures(cells=rng.normal(size=(4, 6)), bias=None)
    state = WorkbenchState("test")
    state.set_comparison(SimpleNamespace(decomposition=decompose(a, b, layout)))
    return state


def test_cell_at_finds_the_box_under_a_point():
    boxes = grid_layout(4, 112).boxes
    assert cell_at(boxes, 80, 30) == 6  # column 2, row 1
    assert cell_at(boxes, 0, 0) == 0
    assert cell_at(boxes, 200, 5) is None
    overlapping = ((0, 0, 10, 10), (4, 4, 14, 14))
    assert cell_at(overlapping, 8, 8) == 1  # nearer centre wins


def test_selection_starts_on_top_pair_and_moves_within_the_grid():
    state = _state_with()
    matrix = state.comparison.decomposition.pair_matrix
    top = np.unravel_index(np.argmax(matrix), matrix.shape)
    assert (state.selection.i, state.selection.j) == tuple(int(v) for v in top)
    state.select_cell(0, 0)
    assert state.move_selection(-1, 1)
    assert (state.selection.i, state.selection.j) == (0, 1)
    assert not state.select_cell(4, 0)  # out of range: ignored
    assert (state.selection.i, state.selection.j) == (0, 1)


def test_clicking_a_patch_paints_its_row_onto_the_other_face():
    state = _state_with(3)
    matrix = state.comparison.decomposition.pair_matrix
    events = []
    state.subscribe("selection", lambda: events.append(state.selection))
    assert state.select_patch_at("q", 6, 1)  # cell 1 (top right of a 2x2 grid over 8 px)
    assert state.selection.i == 1 and state.selection.focus == "q"
    assert state.selection.j == int(np.argmax(matrix[1]))
    np.testing.assert_array_equal(state.painted_terms("k"), matrix[1])
    assert state.painted_terms("q") is None
    assert state.select_patch_at("k", 1, 6)  # cell 2 of K
    np.testing.assert_array_equal(state.painted_terms("q"), matrix[:, 2])
    assert len(events) == 2


def test_share_of_score_is_term_over_cosine():
    state = _state_with(5)
    d = state.comparison.decomposition
    info = state.term_info(1, 2)
    assert info["term"] == pytest.approx(d.pair_matrix[1, 2])
    assert info["share"] == pytest.approx(d.pair_matrix[1, 2] / d.cosine)


def test_choices_are_undone_and_redone_in_order_without_qt():
    from core.workbench.undo import EditKind

    state = _state_with(1)
    stack = state.undo
    state.set_photo("q", "a.jpg")
    state.set_photo("q", "b.jpg")
    state.set_model("other")
    assert stack.undo_label == "model" and stack.redo_label is None
    edit = stack.undo()
    assert edit.kind is EditKind.MODEL and (edit.before, edit.after) == ("test", "other")
    edit = stack.undo()
    assert edit.kind is EditKind.PHOTO and edit.side == "q"
    assert edit.before == ("a.jpg", "a.jpg") and edit.after == ("b.jpg", "b.jpg")
    assert stack.undo().before is None  # the first photo: undoing it leaves the side empty
    assert stack.undo() is None and stack.redo_label == "photo of Q"
    assert stack.redo().after == ("a.jpg", "a.jpg")
    with stack.replay():  # applying an undone edit records nothing
        state.set_photo("q", "a.jpg")
    state.set_photo("k", "c.jpg")  # a new choice: what was undone can no longer be redone
    assert stack.redo() is None and stack.undo_label == "photo of K"
    state.new_case()
    assert stack.undo() is None


def test_face_choice_is_undoable_and_labelled_from_one():
    from types import SimpleNamespace

    state = WorkbenchState("test")
    state.set_photo("q", "group.jpg")
    state.set_prepared("q", SimpleNamespace(faces=(object(), object(), object())))
    assert state.choose_face("q", 2)
    assert state.undo.undo_label == "face 3 of Q"
    edit = state.undo.undo()
    assert (edit.before, edit.after) == (0, 2)
