"""Property tests (hypothesis): random mutations of a signed manifest or a lab calibration
never raise anything but the documented error, and never read as verified unless the
bytes are unchanged. Bounded examples keep the module to a few seconds."""

from __future__ import annotations

import json

import pytest
from hostile_corpus import DEMO, demo_model, members_of, saved_case, write_members
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.case.case_file import MANIFEST, open_case
from core.errors import CalibrationError, CaseFileError
from core.strength_of_evidence.calibration_file import calibration_from_bytes

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def good_case(tmp_path_factory):
    return saved_case(tmp_path_factory.mktemp("prop"))


@pytest.fixture(scope="module")
def lab_calibration(tmp_path_factory) -> bytes:
    from core.strength_of_evidence.calibration_file import write_calibration

    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data.update(kind="lab", label="lab", status="lab calibration: prop", name="prop")
    path = tmp_path_factory.mktemp("cal") / "lab.json"
    write_calibration(path, data)
    return path.read_bytes()


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "replace"]),
        st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
        st.binary(min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(data: bytes, steps) -> bytes:
    out = bytearray(data)
    for kind, where, payload in steps:
        at = int(where * len(out)) if out else 0
        if kind == "flip" and out:
            out[at] ^= payload[0] or 1
        elif kind == "insert":
            out[at:at] = payload
        elif kind == "delete" and out:
            del out[at : at + len(payload)]
        elif out:
            out[at : at + len(payload)] = payload
    return bytes(out)


@EXAMPLES
@given(steps=mutations)
def test_a_mutated_manifest_never_tracebacks_and_never_verifies(good_case, tmp_path, steps):
    members = members_of(good_case)
    original = dict((i.filename, d) for i, d in members)[MANIFEST]
    mutated = _mutate(original, steps)
    path = write_members(
        tmp_path / "m.pwcase",
        [(i, mutated if i.filename == MANIFEST else d) for i, d in members],
    )
    try:
        _, _, verification = open_case(path)
    except CaseFileError:
        return
    if verification.ok and verification.signed:
        assert mutated == original


@EXAMPLES
@given(steps=mutations)
def test_a_mutated_case_file_never_tracebacks_and_never_verifies(good_case, tmp_path, steps):
    original = good_case.read_bytes()
    mutated = _mutate(original, steps)
    path = tmp_path / "f.pwcase"
    path.write_bytes(mutated)
    try:
        _, stored, verification = open_case(path)
    except CaseFileError:
        return
    if verification.ok and verification.signed:
        # zip framing may change (e.g. a timestamp); the signed and hashed content may not
        assert dict((i.filename, d) for i, d in members_of(path)) == dict(
            (i.filename, d) for i, d in members_of(good_case)
        )


@EXAMPLES
@given(steps=mutations)
def test_a_mutated_lab_calibration_never_tracebacks_and_never_verifies(lab_calibration, steps):
    mutated = _mutate(lab_calibration, steps)
    try:
        calibration = calibration_from_bytes(mutated, "lab.json", demo_model())
    except CalibrationError:
        return
    if calibration.signature.verified and calibration.data["kind"] == "lab":
        assert json.loads(mutated) == json.loads(lab_calibration)
