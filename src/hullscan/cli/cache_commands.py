"""``hullscan cache``: show and empty the per-layer analysis cache."""

from __future__ import annotations

import typer

from hullscan.cli.options import CacheDirOption, CacheMaxSizeOption, layer_cache

cache_app = typer.Typer(help="Show or empty the per-layer analysis cache.", no_args_is_help=True)


def _human(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@cache_app.command("status")
def status(cache_dir: CacheDirOption = None,
           cache_max_size: CacheMaxSizeOption = "5GiB") -> None:
    """Where the cache is, how many layers it holds and how large it is."""
    cache = layer_cache(cache_dir=cache_dir, no_cache=False, cache_max_size=cache_max_size)
    assert cache is not None
    found = cache.status()
    typer.echo(f"directory  {found.directory}")
    typer.echo(f"entries    {found.entries}")
    typer.echo(f"size       {_human(found.bytes)} ({found.bytes} bytes) "
               f"of at most {_human(found.max_bytes)}")


@cache_app.command("clean")
def clean(cache_dir: CacheDirOption = None) -> None:
    """Remove every cached layer result."""
    cache = layer_cache(cache_dir=cache_dir, no_cache=False, cache_max_size="5GiB")
    assert cache is not None
    removed = cache.clean()
    typer.echo(f"removed {removed} cached layer(s) from {cache.directory}")
