"""The locked toolchain: requirements/app.txt is exactly what pyproject.toml asks for and what is installed."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.version import Version

from .toolchain import APP_LOCK, BOOTSTRAP_LOCK, REFRESH, TOOLS_LOCK, lock_problems, locked, project_requirements


def test_the_app_lock_is_exactly_the_closure_of_pyproject_and_is_what_is_installed():
    problems = lock_problems(project_requirements(), locked(APP_LOCK), "requirements/app.txt")
    assert not problems, f"pyproject.toml and {APP_LOCK.name} disagree; refresh with `{REFRESH}`:\n" + "\n".join(problems)


def test_a_requirement_the_lock_lacks_is_named_with_who_wants_it():
    pins = locked(APP_LOCK)
    problems = lock_problems([*project_requirements(), Requirement("left-pad>=1")], pins, "app.txt")
    assert problems == ["left-pad>=1 (wanted by pyproject.toml) is not in app.txt"]


def test_a_pin_outside_pyproject_range_and_a_pin_nothing_needs_are_named():
    pins = dict(locked(APP_LOCK), moto=Version("5.2.6"), leftover=Version("1.0"))
    problems = lock_problems(project_requirements(), pins, "app.txt")
    assert "app.txt pins moto==5.2.6, outside moto[server]<5.2.6,>=5.2.5 (wanted by pyproject.toml)" in problems
    assert "moto 5.2.5 is installed, app.txt pins 5.2.6: pip install -c app.txt -e '.[test]'" in problems
    assert "app.txt pins leftover==1.0, which nothing requires" in problems


def test_a_transitive_requirement_is_followed_through_extras():
    """moto[server] brings flask: drop flask from the lock and the walk finds who wanted it."""
    pins = {name: version for name, version in locked(APP_LOCK).items() if name != "flask"}
    problems = lock_problems(project_requirements(), pins, "app.txt")
    assert any(p.startswith("flask") and "(wanted by moto[server])" in p and p.endswith("is not in app.txt")
               for p in problems), problems


def test_the_tool_and_installer_locks_pin_what_their_inputs_ask_for():
    for lock in (TOOLS_LOCK, BOOTSTRAP_LOCK):
        pins = locked(lock)
        wanted = [Requirement(line.split("#", 1)[0]) for line in lock.with_suffix(".in").read_text().splitlines()
                  if line.split("#", 1)[0].strip()]
        assert wanted, lock
        for requirement in wanted:
            assert requirement.name in pins and requirement.specifier.contains(pins[requirement.name]), \
                f"{lock.name} does not pin {requirement}; refresh with `{REFRESH}`"


def test_a_line_that_is_not_an_exact_pin_is_refused_with_its_line(tmp_path):
    lock = tmp_path / "app.txt"
    lock.write_text("# header\nmoto==5.2.5  # via x\nflask>=3\n")
    try:
        locked(lock)
    except ValueError as error:
        assert str(error).startswith("app.txt:3: 'flask>=3' is not an exact pin")
    else:
        raise AssertionError("a range in a lock was accepted")

