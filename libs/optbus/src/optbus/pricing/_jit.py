"""How the pricing kernels are compiled: numba, cached on disk, invalidated by any edit.

numba's on-disk cache is keyed on the timestamp of the file that defines the called function
only, but a kernel also contains the code of every jitted function it calls from other
modules: after an edit to a helper, the caller would silently run the old code. So every
kernel here is stamped with a hash of all the kernel source files instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])

# "numpy" error model: x/0 gives inf or NaN (checked by the callers) instead of raising.
_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "fastmath": {"contract"}}
# No fused multiply-add: every operation rounds as numpy's does, for bit-identical ports.
_EXACT_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}


def _sources_fingerprint() -> tuple[str, str]:
    """Hash of every private module of this package (the kernels and what they call)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("_*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return ("sha256", digest.hexdigest())


_FINGERPRINT = _sources_fingerprint()


def kernel(func: F) -> F:
    """Compile func with numba in nopython mode, cached on disk under the sources' hash."""
    return _compiled(func, _OPTIONS)


def exact_kernel(func: F) -> F:
    """As ``kernel``, but every floating-point operation rounded on its own (no fused
    multiply-add), so that a port of numpy code gives numpy's results to the last bit."""
    return _compiled(func, _EXACT_OPTIONS)


def _compiled(func: F, options: dict[str, Any]) -> F:
    dispatcher = njit(cache=True, **options)(func)
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if cache_file is None or not hasattr(cache_file, "_source_stamp"):
        # numba's cache internals changed: correctness first, compile in every process.
        return njit(cache=False, **options)(func)  # type: ignore[no-any-return]
    cache_file._source_stamp = _FINGERPRINT
    return dispatcher  # type: ignore[no-any-return]
