"""`python -m bot` runs the dondoc command line."""

from bot.cli import main

main()
