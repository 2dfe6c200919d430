"""Starts the measured commands, so their peak memory is theirs and not the benchmark's.

On Linux a child's max RSS starts at the peak RSS of the process it was forked from: exec
records the memory it leaves as the child's own. Forked from the benchmark (tens of MiB of
Python), every command would seem to need at least that much. This launcher runs as a
bare interpreter (`python -S -I`, about 8 MiB) and starts each command for it.

Protocol, over stdin and stdout, one marshal record each way per command:
(argv, env, stdin path, stdout path, stderr path) -> (exit code, wall seconds, max RSS
KiB), or ("error", message, 0) when the command could not be started.
"""

import marshal
import os
import sys
import time


def main() -> None:
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            argv, env, stdin, stdout, stderr = marshal.load(requests)
        except EOFError:
            return
        actions = [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_TRUNC, 0),
                   (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_TRUNC, 0)]
        start = time.perf_counter()
        try:
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
        except OSError as e:
            marshal.dump(("error", f"{argv[0]}: {e}", 0), replies)
        else:
            _, status, usage = os.wait4(pid, 0)
            wall = time.perf_counter() - start
            marshal.dump((os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss), replies)
        replies.flush()


if __name__ == "__main__":
    main()
