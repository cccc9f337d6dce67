"""Structured JSON logs with a request id. Never log personal data: log keyed pseudonyms."""

from __future__ import annotations

import contextvars
import logging
import sys
import traceback

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


def describe_error(exc: BaseException) -> str:
    """The exception's type and the first line of its message, and where it was raised.

    Never what a database driver appends to its message: SQLAlchemy adds the statement's
    parameters and PostgreSQL a `DETAIL: Key (…)=(…)` line, either of which may carry personal
    data. The one scrubber of errors: the job queue's `last_error` and every logged traceback."""
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError) and exc.orig is not None:
        inner: BaseException = exc.orig
        text = f"{type(exc).__name__} ({type(inner).__name__}): {str(inner).strip()}"
    else:
        text = f"{type(exc).__name__}: {str(exc).strip()}"
    text = text.splitlines()[0][:500] if text else type(exc).__name__
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    if frame:
        text += f" (at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno})"
    return text


def scrubbed_traceback(exc: BaseException) -> str:
    """A traceback fit for the logs: the frames (file, line, function — no source values, no
    locals) and each exception of the chain as `describe_error` gives it."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__) if current.__traceback__ else []
        lines = [f"  {f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames]
        parts.append("\n".join([describe_error(current), *lines]))
        current = current.__cause__ or current.__context__
    return "\n-- caused by --\n".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            data["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            data["exc"] = scrubbed_traceback(record.exc_info[1])  # never the driver's values
        return orjson.dumps(data, default=str).decode()


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
