"""Pure-Python core: settings and worker discovery. Importing this never loads cdktf or jsii."""

from .errors import InputError, Problem
from .settings import Settings, SettingsSource
from .settings_files import (COMMITTED_NAME, CONNECTION_KEYS, LOCAL_NAME, in_ci, load_all_settings, load_settings,
                             locate_settings, repository_root)
from .workers import Worker, load_workers

__all__ = ["COMMITTED_NAME", "CONNECTION_KEYS", "LOCAL_NAME", "InputError", "Problem", "Settings", "SettingsSource",
           "Worker", "in_ci", "load_all_settings", "load_settings", "load_workers", "locate_settings", "repository_root"]
