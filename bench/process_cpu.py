"""CPU time of the processes a benchmark runs, read from /proc (Linux), to see where it goes.

A process's count includes its children that have exited and been reaped, so a server that
replaces a worker, or PostgreSQL's postmaster ending a backend, keeps what they used.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[str, int, float]]:
    """pid: (command name, parent pid, CPU seconds of it and its reaped children)."""
    stats = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The name is in parentheses and may itself hold spaces or parentheses.
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # utime, stime, cutime, cstime are fields 14 to 17 of proc(5); here from the state (3).
        ticks = sum(int(value) for value in fields[11:15])
        stats[int(entry.name)] = (name, int(fields[1]), ticks / TICK)
    return stats


def cpu_seconds(trees: dict[str, int], named: dict[str, str] | None = None) -> dict[str, float]:
    """CPU seconds used so far by each process tree in `trees` (part: root pid, the root and
    all its descendants) and by each `named` part (part: command name, every process of it)."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    used = {}
    for part, root in trees.items():
        total, pending = 0.0, [root]
        while pending:
            pid = pending.pop()
            if pid in stats:
                total += stats[pid][2]
            pending.extend(children.get(pid, ()))
        used[part] = total
    for part, name in (named or {}).items():
        used[part] = sum(seconds for name_of, _, seconds in stats.values() if name_of == name)
    return used


def busy_cores_seconds() -> float:
    """Seconds the machine's cores have spent on anything but idling, all cores together."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / TICK
