"""Pure-Python core: settings and worker discovery. Importing this never loads cdktf or jsii."""

from .errors import InputError, Problem
from .settings import Settings, SettingsSource, load_settings, locate_settings
from .workers import Worker, load_workers

__all__ = ["InputError", "Problem", "Settings", "SettingsSource", "Worker", "load_settings", "load_workers",
           "locate_settings"]
