"""`mfkit scaffold`: new orchestrator and backend extensions generated from templates."""
