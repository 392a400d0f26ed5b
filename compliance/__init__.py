"""`mfkit compliance`: live tests that deploy and run real flows through an extension."""
