"""Errors a user can cause. The CLI prints them as one line and exits with code 2, never a traceback."""


class UserError(Exception):
    """A mistake in what the user gave us (a file, an argument, an invoice number)."""

    exit_code = 2
