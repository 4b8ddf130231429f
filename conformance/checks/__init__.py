"""Importing this package registers every check, in report order."""
from checks import lifecycle  # noqa: F401
