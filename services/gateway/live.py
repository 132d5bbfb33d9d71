"""Live updates: the relay's notices (thin: type, stream, position; never
an event's data) broadcast to every browser connected to this gateway
process over server-sent events (``/events/stream``). A page listens with
``VSC.live(types, callback)`` (static/console.js) and reloads the list the
notice concerns."""
from __future__ import annotations

import json

import eventlet
from eventlet.queue import Full, LightQueue, Empty

HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 200
NOTICE_FIELDS = ("position", "stream_id", "type", "version", "event_id")


def thin(envelope: dict, source: str) -> dict | None:
    """What a browser is told of a relayed event (ids, type, position)."""
    if not isinstance(envelope, dict):
        return None
    notice = {key: envelope[key] for key in NOTICE_FIELDS if isinstance(envelope.get(key), (str, int))}
    if "type" not in notice:
        return None
    notice["source"] = source
    return notice


class Hub:
    """Every connected SSE client's queue; a slow client loses notices, not the process."""

    def __init__(self, heartbeat: float = HEARTBEAT_SECONDS):
        self.heartbeat = heartbeat
        self._clients: set[LightQueue] = set()

    def __len__(self):
        return len(self._clients)

    def publish(self, notice: dict) -> int:
        delivered = 0
        for queue in list(self._clients):
            try:
                queue.put_nowait(notice)
                delivered += 1
            except Full:
                pass
        return delivered

    def stream(self, stop_after: float | None = None):
        """The SSE body for one client: a generator of bytes, ending when the
        client goes away (the WSGI server stops iterating) or after
        ``stop_after`` seconds (tests)."""
        queue = LightQueue(QUEUE_SIZE)
        self._clients.add(queue)

        def body():
            try:
                yield b"retry: 3000\n: connected\n\n"
                deadline = None if stop_after is None else eventlet.hubs.get_hub().clock() + stop_after
                while True:
                    wait = self.heartbeat
                    if deadline is not None:
                        wait = min(wait, deadline - eventlet.hubs.get_hub().clock())
                        if wait <= 0:
                            return
                    try:
                        notice = queue.get(timeout=wait)
                    except Empty:
                        yield b": keep-alive\n\n"
                        continue
                    data = json.dumps(notice, separators=(",", ":"), ensure_ascii=True)
                    yield f"event: {notice['type']}\ndata: {data}\n\n".encode()
            finally:
                self._clients.discard(queue)

        return body()
