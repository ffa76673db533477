"""docs/: the generated regions (command_line/reference_docs.py) are fresh, and the README stays a front page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from command_line import reference_docs
from command_line.reference_docs import COMMAND, REGIONS, begin, end, stale_pages, write_pages
from workers_scan.outputs import OUTPUTS
from workers_scan.settings import KEYS

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250


def copy_of_docs(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_every_generated_page_is_what_the_code_declares():
    assert stale_pages() == [], f"run `{COMMAND}`"


@pytest.mark.parametrize("page", sorted(REGIONS))
def test_a_changed_region_is_named_with_its_page_and_the_command_and_rewritten_by_it(tmp_path, page):
    root = copy_of_docs(tmp_path)
    name = next(iter(REGIONS[page]))
    path = root / page
    fresh = path.read_text()
    path.write_text(fresh.replace(begin(name) + "\n", begin(name) + "\n| a row kept by hand |\n"))
    assert stale_pages(root) == [f"{page}: stale ({name}): run `{COMMAND}`"]
    assert write_pages(root) == [] and path.read_text() == fresh and stale_pages(root) == []


def test_a_page_without_its_markers_is_reported_and_left_alone(tmp_path):
    root = copy_of_docs(tmp_path)
    path = root / "docs" / "settings.md"
    broken = path.read_text().replace(end("settings"), "")
    path.write_text(broken)
    [problem] = stale_pages(root)
    assert problem.startswith("docs/settings.md: region settings: needs one line `<!-- begin settings")
    assert write_pages(root) == [problem] and path.read_text() == broken


def test_the_check_exits_1_naming_the_stale_page(tmp_path, capsys):
    root = copy_of_docs(tmp_path)
    (root / "docs" / "outputs.md").write_text((root / "docs" / "outputs.md").read_text().replace("`nlb_arn`", "`nlb`"))
    assert reference_docs.main(["--check"], root=root) == 1
    assert capsys.readouterr().err == f"docs/outputs.md: stale (outputs): run `{COMMAND}`\n"


def test_the_settings_page_has_one_row_per_key_in_the_schemas_order():
    page = (ROOT / "docs" / "settings.md").read_text()
    assert re.findall(r"^\| `([A-Z_]+)` \|", page, re.MULTILINE) == [key.name for key in KEYS]


def test_the_outputs_page_has_one_row_per_declared_output():
    page = (ROOT / "docs" / "outputs.md").read_text()
    assert re.findall(r"^\| `([a-z_]+)` \|", page, re.MULTILINE) == [output.name for output in OUTPUTS]


def test_the_readme_is_a_front_page_with_the_two_commands_before_any_reference():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    sections = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert sections[:2] == ["Quick start: two commands", "Use it on your monorepo"]
    assert "python -m pytest" in readme.split("## Use it on your monorepo")[0]
    for step in ("main.py init", "main.py doctor", "main.py local", "terraform -chdir"):
        assert step in readme.split("## Use it on your monorepo")[1], step


def test_every_page_the_readme_and_the_docs_link_to_exists():
    links = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            links.append((page.relative_to(ROOT), (page.parent / target).resolve()))
    assert [(page, str(target.relative_to(ROOT))) for page, target in links if not target.exists()] == []


def test_the_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert [p.name for p in sorted((ROOT / "docs").glob("*.md")) if f"(docs/{p.name})" not in readme] == []


def test_ci_runs_exactly_the_test_command_of_the_readmes_quick_start():
    readme = (ROOT / "README.md").read_text()
    [command] = re.findall(r"^# 2\. Run the tests.*\n(.+)$", readme, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[ci.index("# The README's test command:") + 1] == command == "python -m pytest"
