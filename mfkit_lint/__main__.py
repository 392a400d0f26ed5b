from mfkit_lint.cli import main

main()
