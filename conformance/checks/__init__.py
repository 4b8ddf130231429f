"""Importing this package registers every check, in report order."""
from checks import lifecycle  # noqa: F401
from checks import hooks  # noqa: F401
from checks import linux  # noqa: F401
from checks import process  # noqa: F401
from checks import cgroups  # noqa: F401
from checks import cli  # noqa: F401
