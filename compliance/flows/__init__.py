"""The flows the live suites deploy. Each is copied into a test's own directory."""
