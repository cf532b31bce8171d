"""``python -m planner``: the same command line as the ``planner`` console script."""

from planner.cli import main

if __name__ == "__main__":
    main()
