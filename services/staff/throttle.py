"""Login throttling: after repeated failures an account, or a source (a
terminal or address), must wait. Kept in the staff service's memory: a
restart forgets it, which costs an attacker nothing but a restart they
cannot cause. Bounded: the oldest keys are dropped past ``max_keys``."""
from __future__ import annotations

from collections import OrderedDict, deque


class LoginThrottle:
    def __init__(self, *, per_account: int = 5, per_source: int = 20, window_seconds: float = 900.0,
                 max_keys: int = 10_000):
        self.limits = {"account": per_account, "source": per_source}
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: OrderedDict[tuple, deque] = OrderedDict()

    def _recent(self, key: tuple, now: float) -> deque:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, account: str, source: str, now: float) -> float | None:
        """Seconds to wait before another attempt, or None when one may try."""
        waits = []
        for kind, value in (("account", account), ("source", source)):
            failures = self._recent((kind, value), now)
            if len(failures) >= self.limits[kind]:
                waits.append(failures[0] + self.window - now)
        return max(waits) if waits else None

    def failed(self, account: str, source: str, now: float) -> None:
        for key in (("account", account), ("source", source)):
            failures = self._failures.pop(key, None) or deque()
            failures.append(now)
            self._failures[key] = failures  # most recent last
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, account: str) -> None:
        self._failures.pop(("account", account), None)
