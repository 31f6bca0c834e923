"""Whether someone is watching: progress bars show in a terminal or a notebook, nowhere else.

Long work (sampling, reading shards) shows a progress bar by default only where a person
sees it update: standard error attached to a terminal, or a Jupyter kernel. Logs, pipes,
CI runs and ``--json`` output get none.
"""

from __future__ import annotations

import sys

__all__ = ["watched"]


def watched() -> bool:
    """True in a terminal (stderr is a TTY) or a Jupyter notebook; False otherwise."""
    if sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
        return True
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    ipython = get_ipython() if get_ipython is not None else None
    return type(ipython).__name__ == "ZMQInteractiveShell"
