"""Where the course looks for datasets that it cannot make itself.

Real public datasets (CIFAR-10, COCO captions) are never downloaded by the
code: the user places an official copy in one folder, the *data root*, and
the loaders read it from there. The data root is ``$COURSE_DATA`` when that
environment variable is set, else ``~/.course/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "COURSE_DATA"
DEFAULT_DATA_ROOT = Path("~/.course/data")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset (or one of its files) is not where the course looked for it.

    The message names the exact path that was looked in and says how to get
    the data; nothing is downloaded automatically.
    """


def data_root() -> Path:
    """Return the folder that holds the course's downloaded datasets.

    Returns
    -------
    root : Path
        ``$COURSE_DATA`` when that environment variable is set and not empty,
        else ``~/.course/data``, with ``~`` expanded. The folder need not exist.

    Raises
    ------
    ValueError
        ``~`` cannot be expanded (``COURSE_DATA='~nouser/x'``, or no home
        directory); the message names the variable and its value.
    """
    value = os.environ.get(DATA_ENV_VAR, "").strip()
    root = Path(value) if value else DEFAULT_DATA_ROOT
    try:
        return root.expanduser()
    except RuntimeError as error:  # "~user" of no known user, or no home directory at all
        home = root.parts[0]
        if value:
            raise ValueError(
                f"{DATA_ENV_VAR}={value!r}: cannot expand {home!r}, no such user's home "
                f"directory is known on this machine. Set {DATA_ENV_VAR} to an absolute "
                f"path, e.g. export {DATA_ENV_VAR}=$HOME/data"
            ) from error
        raise ValueError(
            f"the default data root {DEFAULT_DATA_ROOT} needs a home directory, and this "
            f"machine has none for the current user (HOME is not set). Set {DATA_ENV_VAR} "
            f"to the folder for datasets, e.g. export {DATA_ENV_VAR}=/data"
        ) from error
