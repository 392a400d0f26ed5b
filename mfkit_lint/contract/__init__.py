"""Facts about Metaflow that rules rely on, kept as data so linting never imports metaflow."""
