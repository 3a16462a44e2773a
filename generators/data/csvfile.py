"""Reading a data CSV so that every failure names the file (and the line, where the parser
knows it): an empty file, bytes that are not UTF-8, a malformed row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from generators.data.report import DataSchemaError


def read_csv(path: Path) -> pd.DataFrame:
    """Every column of the CSV at `path` as text; a `DataSchemaError` naming it otherwise."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataSchemaError(path, "the file is empty (no header row)") from None
    except UnicodeDecodeError as error:
        raise DataSchemaError(
            path, f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})"
        ) from None
    except pd.errors.ParserError as error:  # its message names the line
        raise DataSchemaError(path, f"malformed CSV ({str(error).strip()})") from None
