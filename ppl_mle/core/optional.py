"""Optional dependencies: imported where needed, with the extra that installs them named.

The core install (``pip install ppl_mle``) fits models; a few features need more:

- ``[scale]``: Dask and ``distributed`` (data reduced by a Dask cluster);
- ``[symbolic]``: SymPy (the derivations of :mod:`ppl_mle.teaching.symbolic`);
- ``[plots]``: matplotlib (pictures; ArviZ installs it too);
- ``[all]``: everything.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ppl_mle.core.errors import MissingExtraError

__all__ = ["require"]


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming the extra to install.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"distributed"``.
    extra : str
        The extra of ppl_mle that installs it, e.g. ``"scale"``.
    feature : str
        What needs it, in words, for the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs {module.split('.')[0]!r}, which is not installed: "
            f"pip install 'ppl_mle[{extra}]' (or 'ppl_mle[all]')."
        ) from exc
