"""One error root for every failure a user can see; only the CLI turns them into exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem with the user's input, located as precisely as we know."""

    message: str
    file: str | None = None
    line: int | None = None
    key_path: str | None = None

    def __post_init__(self) -> None:
        # A key may hold a newline or an escape sequence: never print those raw.
        if self.key_path is not None and not self.key_path.isprintable():
            printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in self.key_path)
            object.__setattr__(self, "key_path", printable)

    def where(self) -> str:
        place = self.file or "<values>"
        if self.line is not None:
            place += f":{self.line}"
        return place

    def render(self) -> str:
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{self.where()}:{key} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "key": self.key_path,
            "message": self.message,
        }


# Exit codes, one per kind of failure (the README has the table; tests run each one).
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_OUTPUT = 3
EXIT_INTERNAL = 4
EXIT_CLUSTER = 5
# `diff` alone, as `helm diff --detailed-exitcode`: 0 no changes, 2 changes, and 1 for
# every error (its message still says which kind).
EXIT_DIFFERENT = 2
EXIT_DIFF_TROUBLE = 1


class LmfchartError(Exception):
    """Root of every error lmfchart reports to a user."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(LmfchartError):
    """The command line itself is wrong (bad flag value, bad --set syntax, bad release name)."""

    exit_code = EXIT_USAGE


class InputError(LmfchartError):
    """One or more problems in the values the user gave; each one is located."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = in_reading_order(issues)
        super().__init__("\n".join(issue.render() for issue in self.issues))

    @classmethod
    def single(
        cls,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key_path: str | None = None,
    ) -> InputError:
        return cls([Issue(message, file=file, line=line, key_path=key_path)])


class ReleaseRecordError(LmfchartError):
    """A Helm release record that cannot be read or written; names the Secret and why."""


class OutputError(LmfchartError):
    """The chart could not be written where the user asked."""

    exit_code = EXIT_OUTPUT


class TemplateError(LmfchartError):
    """A bug in lmfchart's own templates: names the template so it can be fixed."""

    exit_code = EXIT_INTERNAL


class ClusterError(LmfchartError):
    """The cluster refused or failed a request: names the object and the server's message."""

    exit_code = EXIT_CLUSTER

    def __init__(self, message: str, *, kind: str, name: str, status: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(f"{kind}/{name}: {message}")
        self.kind = kind
        self.name = name
        self.status = status
        self.reason = reason


class ConflictError(ClusterError):
    """409: someone else changed the object first (a resourceVersion precondition failed)."""


class ReleaseStateError(LmfchartError):
    """The release cannot be changed as asked (another operation runs, objects owned by
    someone else, no such release); nothing was changed."""

    exit_code = EXIT_CLUSTER


class NotReadyError(LmfchartError):
    """`--wait` ended with objects not ready (failed, or out of time); says why for each."""

    exit_code = EXIT_CLUSTER


def in_reading_order(issues: Sequence[Issue]) -> tuple[Issue, ...]:
    """Each file's issues by line, files in the order their first issue came (stable, so
    issues without a line keep their place after the located ones of their file)."""
    first_seen: dict[str | None, int] = {}
    for issue in issues:
        first_seen.setdefault(issue.file, len(first_seen))
    return tuple(sorted(issues, key=lambda i: (
        first_seen[i.file], i.line is None, i.line or 0,
    )))

