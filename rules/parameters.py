"""Rules on how flow parameters and configs travel from trigger to ``init`` and the steps."""
