"""The Qt-free application layer: workbench state, session, explainer catalogue, jobs."""
