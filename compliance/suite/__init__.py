"""The live test suites, run by `mfkit compliance` in its own pytest process."""
