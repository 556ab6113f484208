"""Face detectors: the bundled MTCNN and, when a local pack exists, insightface."""
