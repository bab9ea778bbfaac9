"""Policy: bundles of gates and triggers that turn scan results into STOP, WARN or GO."""
