"""The error an operator's request can fix, shared by the CLI, the admin API and the console."""


class OperationError(ValueError):
    """A request an operator can fix: unknown kind, impossible date, bad number."""
