"""Face recognition models whose cosine similarity decomposes exactly into cell pairs."""
