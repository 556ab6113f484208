"""tools/walkthrough.py drives the real window through an examiner's session: each step
leaves a small screenshot and reads back what the widgets show (docs/walkthrough.md)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from tools.walkthrough import PALETTE_COLOURS, Walkthrough

SUBSET = {  # small photos: 4 images, 6 pairs (1 genuine)
    "obama": ("obama_6_small.jpg", "obama_5_240p.jpg"),
    "kit_harington": ("kit_harington_2.jpg",),
    "alex_lacamoire": ("alex_lacamoire_3.png",),
}
STEPS = [
    "drop",
    "zoom",
    "landmarks-placing",
    "landmarks-placed",
    "threshold",
    "undo",
    "batch",
    "export",
]
MAX_SCREENSHOT_BYTES = 150_000


@pytest.mark.slow
def test_the_walkthrough_steps_leave_screenshots_and_read_back_the_widgets(
    make_window, genuine_small, faces_dir, tmp_path
):
    tree = tmp_path / "tree"
    for person, names in SUBSET.items():
        (tree / person).mkdir(parents=True)
        for name in names:
            (tree / person / name).symlink_to(faces_dir / "identities" / person / name)
    win = make_window(ask_before_discard=False)
    win.resize(1280, 800)
    lines: list[str] = []
    steps = Walkthrough(win, tmp_path / "out", echo=lines.append).run(
        *genuine_small, str(tree), threshold=0.5
    )
    assert [step.name for step in steps] == STEPS and win.dialogs == []
    for number, (step, line) in enumerate(zip(steps, lines, strict=True), start=1):
        assert line.startswith(f"{number}. {step.name}: ")
        image = QImage(str(step.screenshot))
        assert not image.isNull() and image.colorCount() <= PALETTE_COLOURS
        assert step.screenshot.stat().st_size <= MAX_SCREENSHOT_BYTES
    facts = {step.name: step.facts for step in steps}
    assert QImage(str(steps[0].screenshot)).size() == win.size()
    assert QImage(str(steps[6].screenshot)).size() == win.batch_page.size()

    widths = facts["zoom"]["widths"]
    assert widths["photo"][1] < widths["photo"][0] / 1.5  # the wheel zoomed the photo in
    assert widths["face_q"][1] < widths["face_q"][0] / 1.5
    assert widths["face_k"] == pytest.approx(widths["face_q"][1], rel=0.02)  # linked zoom
    assert facts["landmarks-placing"]["clicked"] == 4
    assert facts["landmarks-placed"]["placed_by_hand"]
    assert facts["landmarks-placed"]["marks"] == 5  # the hand-placed points stay shown
    assert "landmarks placed by hand" in facts["landmarks-placed"]["info"]
    placed = facts["landmarks-placed"]
    assert placed["moved"] == pytest.approx([placed["intended"]] * 5, abs=1.5)  # the clicks
    assert placed["after"] != placed["before"]  # compared again on the hand-placed points
    assert facts["threshold"]["threshold"] == facts["threshold"]["session"] == 0.5
    assert facts["undo"]["session"] is None and facts["undo"]["threshold"] != 0.5
    assert not facts["undo"]["placed_by_hand"]
    assert facts["undo"]["score"] == pytest.approx(facts["drop"]["score"], abs=1e-6)
    assert facts["batch"]["pairs"] == facts["batch"]["rows"] == 6
    assert facts["batch"]["genuine"] == 1 and facts["batch"]["tippett"]
    export = facts["export"]
    assert export["pdf"].read_bytes().startswith(b"%PDF")
    assert export["svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert not QImage(str(export["png"])).isNull()
    assert export["sha256"][:16] in lines[-1]
