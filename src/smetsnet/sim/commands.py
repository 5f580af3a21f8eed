"""``smetsnet simulate``: the network at work for simulated days, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smetsnet.errors import SmetsnetError
from smetsnet.sim.config import SimConfig


def simulate_command(
    premises: Annotated[int | None, typer.Option(help="Dual-fuel premises (default 1000).")] = None,
    days: Annotated[int | None, typer.Option(help="Simulated days (default 7).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed: the same seed, the same report.")] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for report.json, report.html and the readings.")
    ] = Path("sim-out"),
    config: Annotated[
        Path | None, typer.Option(help="JSON settings (any SimConfig field).")
    ] = None,
) -> None:
    """Run a network of premises for simulated days through DUIS, the hub, the WAN and the
    devices, with full security; write the report."""
    from smetsnet.sim.run import simulate

    console = Console()
    try:
        base = SimConfig.from_file(config) if config is not None else SimConfig()
        settings = base.with_overrides(premises=premises, days=days, seed=seed)
        if out.exists() and any(out.iterdir()):
            raise SmetsnetError(f"--out {out} is not empty: give a new or empty folder")
        with Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}% of simulated time"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("run", total=1.0)
            report, sim = simulate(
                settings, out=out, progress=lambda done: bar.update(task, completed=done)
            )
    except SmetsnetError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    show(console, report, wall_s=sim.wall_s)
    console.print(f"report: {out / 'report.html'}, {out / 'report.json'}; readings: {out}/readings")


def show(console: Console, report: dict[str, Any], *, wall_s: float) -> None:
    head = Table(title="smetsnet simulation", show_header=False)
    head.add_row("premises / meters", f"{report['premises']:,} / {report['meters']:,}")
    head.add_row("days from", f"{report['days']} from {report['start']} (seed {report['seed']})")
    head.add_row("messages", f"{report['messages_total']:,} ({wall_s:,.1f} s wall)")
    head.add_row("per meter per month", f"{report['messages_per_meter_per_month']:.1f}")
    head.add_row(
        "signatures verified",
        f"{report['signatures_verified']:,} of {report['messages_with_signature']:,}",
    )
    head.add_row("MACs verified", f"{report['macs_verified']:,} of {report['messages_with_mac']:,}")
    console.print(head)
    share = Table(title="share by category")
    share.add_column("category")
    share.add_column("share", justify="right")
    for category, fraction in report["share_by_category"].items():
        if fraction:
            share.add_row(category, f"{fraction:.1%}")
    console.print(share)
    latency = Table(title="latency (ms)")
    for column in ("class", "p50", "p99", "count"):
        latency.add_column(column, justify="left" if column == "class" else "right")
    for sr_class, figures in report["latency_ms"].items():
        latency.add_row(
            sr_class, f"{figures['p50']:,.0f}", f"{figures['p99']:,.0f}", f"{figures['count']:,}"
        )
    console.print(latency)
    if report["alerts_by_code"]:
        console.print(
            "alerts: " + ", ".join(f"{k} {v}" for k, v in report["alerts_by_code"].items())
        )
    if report["failures"]:
        console.print("failures: " + ", ".join(f"{k} {v}" for k, v in report["failures"].items()))
