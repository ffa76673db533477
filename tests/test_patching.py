"""Patches of third-party code check the shape they rely on before patching anything (tests/patching.py)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from .patching import Absent, Function, Patch, PatchShapeError, Property, apply
from .toolchain import ROOT


class Model:
    """Stands for a third-party class as a patch found it."""

    def __init__(self, backend, name, **kwargs):
        self.backend, self.name = backend, name

    def modify(self, group_id, rules):
        return rules

    @property
    def info(self):
        return None


class Newer(Model):
    """The next release: it sets `flag` itself (as moto 5.2.6's DBInstance sets performance_insights_enabled)."""

    def __init__(self, backend, name, enable_flag: bool = False, **kwargs):
        super().__init__(backend, name)
        self.flag = enable_flag


def test_patches_that_fit_are_all_applied():
    class Target(Model):
        pass

    new_modify = lambda self, group_id, rules: "patched"  # noqa: E731
    apply((Patch("modify", Target, "modify", new_modify, Function(("self", "group_id", "rules"))),
           Patch("flag", Target, "flag", property(lambda self: True), Absent()),
           Patch("info", Target, "info", property(lambda self: "patched"), Property())), package="pytest", where="here")
    target = Target(None, "x")
    assert (target.modify(1, 2), target.flag, target.info) == ("patched", True, "patched")


def test_an_attribute_a_new_release_sets_itself_refuses_every_patch_and_names_the_package_version():
    class Target(Newer):
        pass

    before = Target.modify
    with pytest.raises(PatchShapeError) as raised:
        apply((Patch("modify", Target, "modify", lambda self, group_id, rules: None, Function(("self", "group_id"))),
               Patch("the flag", Newer, "flag", property(lambda self: True), Absent()),
               Patch("the flag", Newer, "__init__", lambda self: None, Function(("self",), lacks=("enable_flag",)))),
              package="pytest", where="tests/fake_patched.py")
    message = str(raised.value)
    assert message.startswith(f"tests/fake_patched.py: pytest {metadata.version('pytest')} no longer has the shape")
    assert f"- the flag: {__name__}.Newer now sets self.flag itself" in message
    assert f"- the flag: {__name__}.Newer.__init__ now takes enable_flag itself" in message
    assert "modify" not in message  # the one that fits is not listed...
    assert Target.modify is before  # ...nor applied: all or none
    assert Newer(None, "x").flag is False


def test_a_changed_signature_a_lost_property_and_a_new_attribute_are_each_named():
    class Changed:
        def modify(self, group, rules):
            pass

        info = None

        def added(self):
            pass

    with pytest.raises(PatchShapeError) as raised:
        apply((Patch("m", Changed, "modify", None, Function(("self", "group_id", "rules"))),
               Patch("i", Changed, "info", None, Property()),
               Patch("a", Changed, "added", None, Absent()),
               Patch("g", Changed, "gone", None, Function())), package="pytest", where="w")
    lines = str(raised.value).splitlines()[1:5]
    qualified = f"{__name__}.{Changed.__qualname__}"
    assert lines == [f"- m: {qualified}.modify takes (self, group, rules), expected (self, group_id, rules, ...)",
                     f"- i: {qualified}.info is a NoneType, not a property",
                     f"- a: {qualified}.added now exists",
                     f"- g: {qualified}.gone is missing, not a function"]


def test_a_comparison_with_the_attribute_is_not_taken_for_an_assignment():
    class Reads:
        def check(self):
            return self.flag == 1

    assert Absent().problem(Reads, "flag") is None


def test_every_moto_patch_fits_the_installed_moto():
    """The emulator's patches, applied in a fresh process as the emulator starts (an import of tests.moto_patched)."""
    started = subprocess.run([sys.executable, "-c", "import tests.moto_patched as m; print(len(m.PATCHES))"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-3000:]
    assert int(started.stdout) >= 25
