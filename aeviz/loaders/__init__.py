"""Readers behind `aeviz.data`: IDX files, cached downloads, synthetic manifolds and user files.

Each reader returns plain numpy arrays; `aeviz.data` turns them into a `Dataset` (scaling checks, split).
Nothing here imports streamlit, and nothing here ever writes outside the download cache.
"""


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB': sizes in messages, readable whether the limit is a test's 100 bytes or 2 GB."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    raise AssertionError("unreachable")


def one_line(text: object, limit: int = 200) -> str:
    """Squeeze an exception's text into one short line, so user-facing messages stay single-line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
