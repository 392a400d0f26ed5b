"""What rules query: the module model, constant values, and Metaflow command invocations."""
