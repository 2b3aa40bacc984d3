"""The browser side of steadystyle: a WebRTC video call (:mod:`.server`) and the user-study game
(:mod:`.study`).  Needs the ``web`` extra (aiohttp, aiortc)."""
