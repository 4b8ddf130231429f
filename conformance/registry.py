"""The table of checks: name -> function(env, runtime)."""

CHECKS = []


def register(name, spec=""):
    """Register a check.  `spec` quotes (in short) the statement it tests, for --list."""
    def deco(fn):
        if any(n == name for n, _f, _s in CHECKS):
            raise SystemExit("duplicate check name %s" % name)
        CHECKS.append((name, fn, spec))
        return fn
    return deco
