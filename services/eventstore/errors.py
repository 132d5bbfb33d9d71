"""The store's one exception root. Backends translate every driver error
(sqlite3, pymongo) into one of these at their edge."""


class EventStoreError(Exception):
    """Root of every error the event store raises."""


class ConcurrencyError(EventStoreError):
    """The stream moved on since the caller read it; nothing was appended."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int):
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream_id!r} is at version {actual_version}, expected {expected_version}"
        )


class InvalidEvent(EventStoreError):
    """An event (or append argument) failed its contract; nothing was appended.
    ``field`` names what is wrong, ``problems`` may hold per-field messages."""

    def __init__(self, field: str, message: str, problems: dict | None = None):
        self.field = field
        self.message = message
        self.problems = problems or {field: [message]}
        super().__init__(f"{field}: {message}")


class StoreConfigError(EventStoreError):
    """The store URI or configuration is malformed."""


class StoreUnavailable(EventStoreError):
    """The database cannot be reached or opened."""
