"""The demo school that `make run` serves."""
