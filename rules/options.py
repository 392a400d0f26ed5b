"""Rules on the options of Metaflow command lines: known, on the right side, right values."""
