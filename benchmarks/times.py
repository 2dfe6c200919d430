"""The timed rows: start-up, `template`, and `validate` of many files, next to helm."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.inputs import CHART_LAYOUT_BASE, SEED_LAYOUT_BASE, FileSets, ValuesFile
from benchmarks.table import duration
from benchmarks.timing import Contest, Results, Sample, interleave, measure, median_wall, peak_rss
from benchmarks.tools import Tools

LAYOUTS = ("chart-layout", "seed-layout")  # index: whether the files are in the seed layout
# The libraries every `template` run imports, and the first pydantic validator it builds.
LIBRARY_FLOOR = "import typer, jinja2, yaml, pydantic; pydantic.TypeAdapter(int)"


@dataclass(frozen=True)
class Settings:
    runs: int
    files: int
    helm_sample: int
    kube_version: str  # X.Y, the version lmfchart validates against by default

    @property
    def quarter(self) -> int:
        """The smaller `validate` set, to show memory flat in the number of files."""
        return max(1, self.files // 4)


@dataclass(frozen=True)
class Row:
    measure: str
    ours: str
    theirs: str
    ratio: str
    ours_rss: str
    theirs_rss: str
    target: str


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def render_chart(tools: Tools, *, values: Path, into: Path) -> Path:
    measure([*tools.lmfchart, "render", "-f", str(values), "-o", str(into)], env=tools.env)
    return into


def _helm_validate(tools: Tools, *, chart: Path, values: Path, kube_version: str) -> Sample:
    """Helm's nearest per-file equivalent of `lmfchart validate`: lint the chart with the
    file (schema, rendering), render it, and check every object against the Kubernetes
    schemas with kubernetes-validate."""
    lint = measure([tools.helm4, "lint", "--strict", str(chart), "-f", str(values)],
                   env=tools.env)
    rendered = measure([tools.helm4, "template", "lmf", str(chart), "-f", str(values)],
                       env=tools.env)
    checked = measure([*tools.kubernetes_validate, "--strict", "-k", f"{kube_version}.0",
                       "-"], env=tools.env, stdin=rendered.stdout)
    return Sample.combined([lint.sample, rendered.sample, checked.sample])


@dataclass(frozen=True)
class _ValidateRace:
    """`validate` of one layout: lmfchart on a fresh set of files per round, helm's
    pipeline on a sample of that round's files (its time is per file, scaled later)."""

    full: list[list[ValuesFile]]  # index: round + 1 (0 is the warm-up's)
    quarter: list[list[ValuesFile]]
    chart: Path
    tools: Tools
    settings: Settings

    def lmfchart(self, sets: list[list[ValuesFile]]) -> Callable[[int], Sample]:
        def run(round_: int) -> Sample:
            files = [str(f.path) for f in sets[round_ + 1]]
            return measure([*self.tools.lmfchart, "validate", *files],
                           env=self.tools.env).sample
        return run

    def helm_per_file(self, round_: int) -> Sample:
        sample = self.full[round_ + 1][: 1 if round_ < 0 else self.settings.helm_sample]
        total = Sample.combined([
            _helm_validate(self.tools, chart=self.chart, values=f.for_helm,
                           kube_version=self.settings.kube_version) for f in sample])
        return Sample(total.wall_s / len(sample), total.peak_rss_kib)


def _validate_contests(tools: Tools, settings: Settings, *, scratch: Path,
                       seed_layout: bool, chart: Path) -> list[Contest]:
    layout = LAYOUTS[seed_layout]
    folder = scratch / layout
    folder.mkdir()
    sets = FileSets(folder=folder, seed_layout=seed_layout, count=settings.files)
    quarter = settings.quarter
    race = _ValidateRace(
        full=[sets.new_set() for _ in range(settings.runs + 1)],
        quarter=[sets.new_set(quarter) for _ in range(settings.runs + 1)],
        chart=chart, tools=tools, settings=settings)
    return [
        Contest(f"validate {layout} N", race.lmfchart(race.full), race.helm_per_file),
        Contest(f"validate {layout} N/4", race.lmfchart(race.quarter), None),
    ]


def _once(command: Sequence[str], tools: Tools) -> Callable[[int], Sample]:
    return lambda _round: measure(command, env=tools.env).sample


def _ratio_row(label: str, got: Results, target: Callable[[float, float], str]) -> Row:
    ours, theirs = median_wall(got.ours), median_wall(got.theirs)
    return Row(label, duration(ours), duration(theirs), f"{ours / theirs:.2f}x",
               _mib(peak_rss(got.ours)), _mib(peak_rss(got.theirs)), target(ours, theirs))


def _helm_seconds(helm: Results, count: int) -> float:
    return median_wall(helm.theirs) * count


def _validate_row(label: str, count: int, ours: Results, helm: Results, *,
                  settings: Settings, target: str) -> Row:
    ours_s, theirs_s = median_wall(ours.ours), _helm_seconds(helm, count)
    sampled = min(settings.helm_sample, settings.files)
    return Row(
        label,
        f"{duration(ours_s)} ({count / ours_s:.1f} files/s)",
        f"{duration(theirs_s)} ({count / theirs_s:.1f} files/s; {_files(sampled)} a round, "
        f"scaled to {count})",
        f"{theirs_s / ours_s:.1f}x faster",
        _mib(peak_rss(ours.ours)), _mib(peak_rss(helm.theirs)), target)


def time_rows(tools: Tools, settings: Settings, *, scratch: Path,
              progress: Callable[[str], None]) -> list[Row]:
    seed_chart = render_chart(tools, values=SEED_LAYOUT_BASE, into=scratch / "seed-chart")
    own_chart = render_chart(tools, values=CHART_LAYOUT_BASE, into=scratch / "own-chart")
    python = Contest("python", _once([sys.executable, "-c", "pass"], tools), None)
    help_ = Contest("help", _once([*tools.lmfchart, "--help"], tools),
                    _once([tools.helm4, "--help"], tools))
    template = Contest(
        "template",
        _once([*tools.lmfchart, "template", "lmf", "-n", "llm", "-f", str(SEED_LAYOUT_BASE)],
              tools),
        _once([tools.helm4, "template", "lmf", str(seed_chart), "-n", "llm"], tools))
    # What `template` cannot do without: its libraries imported, nothing of lmfchart's.
    floor = Contest("floor", _once([sys.executable, "-c", LIBRARY_FLOOR], tools), None)
    contests = [python, floor, help_, template]
    for seed_layout, chart in ((False, own_chart), (True, seed_chart)):
        contests += _validate_contests(tools, settings, scratch=scratch,
                                       seed_layout=seed_layout, chart=chart)
    progress(f"timing: {settings.runs} rounds after a warm-up")
    got = interleave(contests, rounds=settings.runs, progress=progress)

    py = got["python"]
    rows = [
        Row("Python start-up (`python -c pass`), for reference", duration(median_wall(py.ours)),
            "", "", _mib(peak_rss(py.ours)), "", ""),
        Row("Importing typer, pydantic, jinja2 and yaml (`template`'s floor), for reference",
            duration(median_wall(got["floor"].ours)), "",
            f"{median_wall(got['floor'].ours) / median_wall(got['template'].theirs):.2f}x "
            "helm's `template`", _mib(peak_rss(got["floor"].ours)), "", ""),
        _ratio_row("`--help`", got["help"],
                   lambda ours, _: f"lmfchart ≤ 100 ms ({_verdict(ours <= 0.1)})"),
        _ratio_row("`template` of examples/seed (whole process; helm: the rendered chart)",
                   got["template"],
                   lambda ours, theirs: f"≤ 2x ({_verdict(ours <= 2 * theirs)})"),
    ]
    quarter = settings.quarter
    for layout in LAYOUTS:
        full, part = got[f"validate {layout} N"], got[f"validate {layout} N/4"]
        faster = _helm_seconds(full, settings.files) / median_wall(full.ours)
        growth = peak_rss(full.ours) - peak_rss(part.ours)
        rows += [
            _validate_row(f"`validate` of {_files(settings.files)}, {layout}",
                          settings.files, full, full, settings=settings,
                          target=f"≥ 40x faster ({_verdict(faster >= 40)})"),
            _validate_row(f"`validate` of {_files(quarter)}, {layout}", quarter, part, full,
                          settings=settings,
                          target=f"peak RSS flat in N ({round(growth / 1024):+d} MiB to N)"),
        ]
    return rows
