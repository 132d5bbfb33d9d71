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


class CommandIdConflict(EventStoreError):
    """The command id was used before by an append to another stream; nothing
    was appended. (The same id on the same stream is a retry and returns the
    first result.)"""

    def __init__(self, command_id: str, stream_id: str, first_stream_id: str):
        self.command_id = command_id
        self.stream_id = stream_id
        self.first_stream_id = first_stream_id
        super().__init__("the command id was already used on another stream")


class DamagedRecord(EventStoreError):
    """A stored record cannot be read back (its data or metadata is not the
    JSON the store wrote): the log was altered outside the store.
    ``position`` names the record."""

    def __init__(self, position: int, problem: str):
        self.position = position
        self.problem = problem
        super().__init__(f"the record at position {position} is damaged: {problem}")
