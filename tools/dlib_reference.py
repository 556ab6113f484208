"""dlib's side of the dlib-ResNet port check; runs ONLY in a separate venv with dlib.

    /work/venvs/dlib/bin/python tools/dlib_reference.py REQUEST.json OUT.npz

Needs `dlib-bin`, `face_recognition_models==0.3.0` and `face_recognition==1.3.0` (installed
with --no-deps). Never imported by Patchwise; dlib is not a project dependency.
tools/check_dlib_port.py writes REQUEST.json:

* "chips": an .npy of N x 150 x 150 x 3 uint8 RGB chips -> "chip_descriptors" (N x 128),
  dlib's `compute_face_descriptor` on exactly those chips;
* "images": photo paths -> for the largest face dlib's HOG detector finds (upsample 1, as
  face_recognition does): "landmarks5" (N x 5 x 2, the 5-point shape predictor),
  "dlib_chips" (dlib's own `get_face_chip`, 150 px, padding 0.25) and "encodings"
  (`face_recognition.face_encodings`, the end-to-end descriptor); "found" says which had
  a face.
"""

from __future__ import annotations

import json
import sys

import dlib
import face_recognition
import face_recognition_models as frm
import numpy as np


def main(request_path: str, out_path: str) -> int:
    request = json.loads(open(request_path, encoding="utf-8").read())
    net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    out = {}
    if request.get("chips"):
        chips = np.load(request["chips"])
        out["chip_descriptors"] = np.array([net.compute_face_descriptor(c) for c in chips])
    images = request.get("images") or []
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    found, landmarks, chips_out, encodings = [], [], [], []
    for path in images:
        rgb = face_recognition.load_image_file(path)
        boxes = sorted(detector(rgb, 1), key=lambda r: r.area(), reverse=True)
        found.append(bool(boxes))
        if not boxes:
            landmarks.append(np.zeros((5, 2)))
            chips_out.append(np.zeros((150, 150, 3), np.uint8))
            encodings.append(np.zeros(128))
            continue
        shape = predictor(rgb, boxes[0])
        landmarks.append(np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64))
        chips_out.append(dlib.get_face_chip(rgb, shape, 150, 0.25))
        encodings.append(np.array(net.compute_face_descriptor(rgb, shape)))
    if images:
        out.update(
            found=np.array(found),
            landmarks5=np.array(landmarks),
            dlib_chips=np.array(chips_out),
            encodings=np.array(encodings),
        )
    np.savez(out_path, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
