"""`python -m app` is the `telos` command."""

from app.cli import main

main()
