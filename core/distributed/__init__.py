"""Running Patchwise's batch work on a cluster (Ray); see docs/scale.md."""
