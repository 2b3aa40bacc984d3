"""One stylizer per served style, shared by every call, built off the event loop.

The networks' weights are shared by every call; each call runs a :func:`stream_view` of the
stylizer (its own region statistics) and its own stabilizer.  Building one can take seconds (loading weights; an ONNX export the
first time), so it runs in a worker thread: :meth:`StylizerCache.get` awaits it without ever
blocking the event loop, and :meth:`StylizerCache.ready` tells a caller whether it would wait
(the page is then told the style is being prepared).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import threading
from collections.abc import Callable
from typing import Any

from ..backends.base import Stylizer


class StylizerCache:
    """Stylizers by style name; ``build(name)`` makes one (through ``RunSpec.stylizer()``).

    Each name is built once, in its own thread, however many calls ask for it at once; a build
    that fails is forgotten (the next request tries again) and its error is raised to every
    waiter.
    """

    def __init__(self, build: Callable[[str], Stylizer]) -> None:
        self.build = build
        self._futures: dict[str, concurrent.futures.Future] = {}
        self._lock = threading.Lock()

    def ready(self, name: str) -> bool:
        """Whether ``name`` is built already (a request for it will not wait)."""
        with self._lock:
            future = self._futures.get(name)
        return future is not None and future.done() and future.exception() is None

    def _future(self, name: str) -> concurrent.futures.Future:
        with self._lock:
            future = self._futures.get(name)
            if future is None:
                future = concurrent.futures.Future()
                self._futures[name] = future
                threading.Thread(target=self._run, args=(name, future), name=f"steadystyle-build-{name}",
                                 daemon=True).start()
            return future

    def _run(self, name: str, future: concurrent.futures.Future) -> None:
        try:
            future.set_result(self.build(name))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiters
            with self._lock:
                if self._futures.get(name) is future:
                    del self._futures[name]
            future.set_exception(exc)

    async def get(self, name: str) -> Stylizer:
        """The stylizer for ``name``, built in a thread if needed (the event loop keeps running)."""
        return await asyncio.wrap_future(self._future(name))

    def get_blocking(self, name: str, timeout: float | None = None) -> Stylizer:
        """The same from a plain thread (waits for the build)."""
        return self._future(name).result(timeout)

    def prepare(self, names: Any) -> None:
        """Start building ``names`` now, in the background."""
        for name in names:
            self._future(name)


def stream_view(stylizer: Stylizer) -> Stylizer:
    """A view of ``stylizer`` for one stream: the same network and weights (nothing is loaded
    again), but its own per-pass state — the instance-norm statistics a region pass freezes
    (``region_stats``) come from this stream's own last full frame, never from another call's,
    and OpenVINO's infer requests (not thread-safe) are its own (see ``RegionStylizer.view``).
    A stylizer without ``view`` gets a shallow copy: attributes the copy assigns are its own."""
    if hasattr(stylizer, "view"):
        return stylizer.view()
    view = copy.copy(stylizer)
    if hasattr(view, "region_stats"):
        view.region_stats = None
    return view


__all__ = ["StylizerCache", "stream_view"]
