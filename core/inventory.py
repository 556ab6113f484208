"""Every registered model and detector, with its provenance or the reason it fails."""

from __future__ import annotations

from core.detection.insightface_detector import find_insightface_pack
from core.detection.select import make_detector
from core.device import select_device
from core.errors import PatchwiseError
from core.models.registry import available_model_ids, load_model, model_card


def inventory(args) -> dict:
    from core.models.onnx_pack import use_model_pack

    use_model_pack(getattr(args, "model_pack", None))
    device = select_device(args.device)
    models = []
    for model_id in available_model_ids():
        try:
            models.append({**load_model(model_id, device).describe(), "card": model_card(model_id)})
        except PatchwiseError as exc:
            models.append({"id": model_id, "error": str(exc)})
    detectors = [make_detector("mtcnn", device=device).describe()]
    pack = find_insightface_pack(args.detector_pack)
    if pack is None:
        detectors.append(
            {
                "id": "insightface",
                "error": "no local model pack found "
                "(--detector-pack DIR, $PATCHWISE_DETECTOR_PACK, ~/.insightface/models)",
            }
        )
    else:
        try:
            detectors.append(
                make_detector("insightface", pack_dir=str(pack), device=device).describe()
            )
        except PatchwiseError as exc:
            detectors.append({"id": "insightface", "error": str(exc)})
    return {"models": models, "detectors": detectors, "device": str(device)}
