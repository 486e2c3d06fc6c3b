"""Errors a user can cause. The CLI prints them as one line and exits with code 2, never a traceback."""


class UserError(Exception):
    """A mistake in what the user gave us (a file, an argument, an invoice number)."""

    exit_code = 2


class InvalidInput(UserError):
    """A value a person gave that the rules or the facts refuse, in neutral words: `field` names the value
    ("credit", "reason", "due"), and each front end says it its own way (the CLI its option, a form its field's
    label). The text holds "{field}" where that name goes."""

    def __init__(self, field: str, text: str):
        self.field = field
        self.text = text
        super().__init__(self.phrased(field.replace("_", " ")))

    def phrased(self, label: str) -> str:
        return self.text.replace("{field}", label)


def check_name(field: str, name: str) -> None:
    """A person's name: the one rule for `by`, `responsible` and the like."""
    if len(name) > 100:
        raise InvalidInput(field, f"{{field}}: at most 100 characters, got {len(name)}")
