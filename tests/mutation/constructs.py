"""Curated semantic mutations of constructs_lib/: each must make a named test fail, the golden test aside.

mutmut would take hours on constructs_lib/ (every mutant re-synthesizes through jsii), so this keeps a short list
of the mistakes that matter for security and day-2 safety instead. For each one, a copy of the repository gets
one exact edit, the suite runs without the emulator tests and without the golden-file test (which fails on any
change and so proves nothing about the others), and the failing tests are recorded. The run fails when a
mutation survives, or when a test named for it is not among those that caught it.

    python tests/mutation/constructs.py                      # every mutation (16 suite runs: 38 min on 2 busy cores)
    python tests/mutation/constructs.py --only "Redis transit encryption off" -n 0
    python tests/mutation/constructs.py --list

Not collected by pytest (no test_ prefix); run before every release, not in CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_TEST = "tests/test_app.py::test_example_matches_the_reviewed_golden_json"
PYTEST = ["-m", "not emulator and not e2e", "-p", "no:cacheprovider", "--deselect", GOLDEN_TEST]
RUN_TIMEOUT = 1800


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str                   # relative to the repository root
    old: str                    # must occur exactly once in the file
    new: str
    caught_by: tuple[str, ...]  # node ids that must all fail; an id without [params] names its cases


MUTATIONS = (
    Mutation("a service becomes public", "constructs_lib/worker_service.py",
             "is_publicly_accessible=False),", "is_publicly_accessible=True),",
             ("tests/test_stack.py::test_one_private_service_per_worker",)),
    Mutation("instance role trust widened", "constructs_lib/worker_service.py",
             "assume_role_policy=service_trust_policy(APPRUNNER_TASKS),",
             'assume_role_policy=service_trust_policy("ec2.amazonaws.com"),',
             ("tests/test_stack.py::test_instance_roles_are_assumable_only_by_apprunner_tasks",)),
    Mutation("instance role reads every secret", "constructs_lib/worker_service.py",
             '"Resource": secrets})', '"Resource": "*"})',
             ("tests/test_data_plane.py::test_instance_role_reads_exactly_the_referenced_secrets",)),
    Mutation("connector name ignores its placement", "constructs_lib/worker_service.py",
             'shorten(f"{prefix}-workers", APPRUNNER_NAME_MAX, suffix=f"-{placement}")',
             'shorten(f"{prefix}-workers", APPRUNNER_NAME_MAX)',
             ("tests/test_stack.py::test_vpc_connector_gets_a_new_name_when_its_placement_changes",)),
    Mutation("encryption at rest off for Aurora", "constructs_lib/data_stores.py",
             "storage_encrypted=True,", "storage_encrypted=False,",
             ("tests/test_data_plane.py::test_aurora_is_encrypted_serverless_v2_with_a_managed_password",)),
    Mutation("store prevent_destroy dropped (Aurora)", "constructs_lib/data_stores.py",
             "prevent_destroy=protected or None,", "prevent_destroy=None,",
             ("tests/test_data_plane.py::test_every_environment_protects_the_data_stores_with_uniquely_named_"
              "final_snapshots",
              "tests/test_replacements.py::test_refused_types_are_prevent_destroy_in_every_environment")),
    Mutation("Redis transit encryption off", "constructs_lib/data_stores.py",
             "transit_encryption_enabled=True,", "transit_encryption_enabled=False,",
             ("tests/test_data_plane.py::test_redis_is_encrypted_at_rest_and_in_transit",)),
    Mutation("data stores admit any address", "constructs_lib/data_stores.py",
             'referenced_security_group_id=props.client_security_group_id, description=f"{what} from workers")',
             'cidr_ipv4="0.0.0.0/0", description=f"{what} from workers")',
             ("tests/test_data_plane.py::test_data_stores_admit_only_the_connector_on_their_port",)),
    Mutation("endpoint SG admits 0.0.0.0/0", "constructs_lib/private_ingress.py",
             "from_port=HTTPS, to_port=HTTPS, referenced_security_group_id=self.security_group_id,",
             'from_port=HTTPS, to_port=HTTPS, cidr_ipv4="0.0.0.0/0",',
             ("tests/test_stack.py::test_the_endpoint_admits_only_the_nlbs_group_and_the_nlb_admits_nothing_but_its_"
              "vpc_link",)),
    Mutation("the NLB filters nothing (no security group)", "constructs_lib/private_ingress.py",
             "security_groups=[self.security_group_id],", "",
             ("tests/test_stack.py::test_the_endpoint_admits_only_the_nlbs_group_and_the_nlb_admits_nothing_but_its_"
              "vpc_link",)),
    Mutation("a managed rule group dropped", "constructs_lib/waf.py",
             "enumerate(MANAGED_RULE_GROUPS, start=1)", "enumerate(MANAGED_RULE_GROUPS[:1], start=1)",
             ("tests/test_stack.py::test_waf_rate_limit_and_managed_rules_on_the_stage",)),
    Mutation("WAF rate limit ignores the setting", "constructs_lib/waf.py",
             '"limit": props.rate_limit,', '"limit": 2000,',
             ("tests/test_stack.py::test_waf_rate_limit_comes_from_settings",
              "tests/test_waf.py::test_the_web_acl_is_named_after_the_prefix_and_limits_each_ip_at_the_given_rate")),
    Mutation("WAF logs keep credentials", "constructs_lib/waf.py",
             "for header in REDACTED_HEADERS]", "for header in REDACTED_HEADERS[:0]]",
             ("tests/test_stack.py::test_waf_rate_limit_and_managed_rules_on_the_stage",)),
    Mutation("flow-logs role trusts any account's flow logs", "constructs_lib/network.py",
             '"vpc-flow-logs.amazonaws.com", source_account=account,', '"vpc-flow-logs.amazonaws.com",',
             ("tests/test_stack.py::test_every_role_trusts_one_service_and_flow_logs_only_from_this_accounts_"
              "flow_logs",)),
    # What a worker is given is declared in workers_scan/injected.py, which the constructs supply from.
    Mutation("a worker may read the master password with an IAM database user", "workers_scan/injected.py",
             "on |= {AURORA, AURORA_IAM if settings.aurora_iam_user else AURORA_PASSWORD}",
             "on |= {AURORA, AURORA_PASSWORD, AURORA_IAM if settings.aurora_iam_user else AURORA_PASSWORD}",
             ("tests/test_data_plane.py::test_an_iam_database_user_replaces_the_master_secret_for_workers",)),
    Mutation("a deployment trigger reference dropped (method id)", "constructs_lib/api_gateway.py",
             "resource.id, method.id, integration.id,", "resource.id, integration.id,",
             ("tests/test_stack.py::test_deployment_redeploys_on_any_route_change_and_stage_is_separate",)),
    Mutation("integration loses its VPC link", "constructs_lib/api_gateway.py",
             'connection_type="VPC_LINK",', 'connection_type="INTERNET",',
             ("tests/test_stack.py::test_two_resources_methods_and_integrations_per_routed_worker_none_for_a_private_one",)),
    Mutation("a private App Runner worker gets an ingress connection", "constructs_lib/worker_service.py",
             "        if not props.private:\n", "        if True:\n",
             ("tests/test_worker_service.py::test_a_private_service_has_no_ingress_connection_and_is_otherwise_the_same_service",)),
    Mutation("a private ECS worker's tasks admit the ALB", "constructs_lib/fargate_service.py",
             "        if not props.private:\n", "        if True:\n",
             ("tests/test_fargate_service.py::test_a_private_workers_tasks_admit_nothing_and_the_alb_does_not_reach_them",)),
    Mutation("state bucket public access block off", "constructs_lib/state_backend.py",
             "block_public_policy=True,", "block_public_policy=False,",
             ("tests/test_state.py::test_bootstrap_creates_a_private_encrypted_versioned_bucket_and_lock_table",)),
    Mutation("lock table deletion protection off", "constructs_lib/state_backend.py",
             "deletion_protection_enabled=True,", "deletion_protection_enabled=False,",
             ("tests/test_state.py::test_bootstrap_creates_a_private_encrypted_versioned_bucket_and_lock_table",)),
)


class SetupError(Exception):
    """The list or the environment is wrong: nothing was measured."""


def tracked_files(root: Path) -> list[str]:
    """Tracked files plus new ones not ignored: what the next commit would hold, as it is on disk now."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_repository(root: Path, target: Path) -> None:
    for name in tracked_files(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)


def check_snippets(base: Path, mutations) -> None:
    stale = []
    for mutation in mutations:
        text = (base / mutation.file).read_text()
        found = text.count(mutation.old)
        if found != 1 or mutation.old == mutation.new:
            stale.append(f"{mutation.name!r}: the old snippet occurs {found} times in {mutation.file} "
                         f"(must be exactly once): {mutation.old!r}")
    if stale:
        raise SetupError("stale mutations (update the list in tests/mutation/constructs.py):\n  " + "\n  ".join(stale))


def apply(copy: Path, mutation: Mutation) -> None:
    path = copy / mutation.file
    path.write_text(path.read_text().replace(mutation.old, mutation.new, 1))


def checkov_binary() -> str:
    """The checkov the policy-scan test would use, found here once: otherwise every copy would install its own."""
    for candidate in (os.environ.get("CHECKOV_BIN"), shutil.which("checkov"), str(ROOT / ".venv-tools/bin/checkov")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SetupError("checkov not found: install it as .ci/run does (python3 -m venv .venv-tools && "
                     ".venv-tools/bin/python -m pip install 'checkov>=3.3,<3.4'), or set CHECKOV_BIN")


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(copy), os.environ.get("PYTHONPATH")])),
               CHECKOV_BIN=checkov_binary(),
               # Two edits of one file within a second could otherwise reuse a stale .pyc.
               PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    return env


def check_imports_from(copy: Path) -> None:
    """The editable install points at the working tree: the copy must win, or the mutation is never seen."""
    probe = "import importlib.util as u; print(*(u.find_spec(m).origin for m in ('constructs_lib', 'workers_scan')))"
    origins = subprocess.run([sys.executable, "-c", probe], cwd=copy, env=environment(copy), capture_output=True,
                             text=True, check=True).stdout.split()
    outside = [o for o in origins if not Path(o).resolve().is_relative_to(copy.resolve())]
    if outside:
        raise SetupError(f"the copy's packages are not the ones imported: {outside}")


def collected(copy: Path) -> set[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST[:4], "-n", "0", "--collect-only", "-q"],
                            cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if result.returncode != 0:
        raise SetupError(f"collection failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return {line for line in result.stdout.splitlines() if "::" in line}


def names(test_id: str, node_ids) -> bool:
    return any(node == test_id or node.startswith(test_id + "[") for node in node_ids)


def check_test_ids(node_ids: set[str], mutations) -> None:
    unknown = [GOLDEN_TEST] if GOLDEN_TEST not in node_ids else []
    unknown += [f"{m.name!r}: {test}" for m in mutations for test in m.caught_by if not names(test, node_ids)]
    if unknown:
        raise SetupError("test ids that the suite does not collect:\n  " + "\n  ".join(unknown))


def failing_tests(copy: Path, workers: str | None) -> tuple[list[str], float]:
    """Run the suite in `copy`; the node ids that failed or errored, and the seconds it took."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST, "-rfE", *(["-n", workers] if workers else [])],
                            cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    failed = sorted({m.group(2) for m in re.finditer(r"^(FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)})
    if result.returncode not in (0, 1) or (result.returncode == 1) != bool(failed):
        raise SetupError(f"pytest exited {result.returncode} with failures {failed}:\n{result.stdout[-3000:]}\n"
                         f"{result.stderr[-2000:]}")
    return failed, time.monotonic() - started


def short(test_id: str) -> str:
    return test_id.removeprefix("tests/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="NAME", help="run the one mutation of this name")
    parser.add_argument("-n", dest="workers", metavar="N", help="passed to pytest (xdist); default: pyproject's")
    parser.add_argument("--list", action="store_true", help="print the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the unmutated copy (which must pass for the others to mean anything)")
    args = parser.parse_args(argv)

    mutations = MUTATIONS
    if args.only:
        mutations = tuple(m for m in MUTATIONS if m.name == args.only)
        if not mutations:
            parser.error(f"no mutation named {args.only!r}; --list shows them")
    if args.list:
        for m in mutations:
            print(f"{m.name}\n    {m.file}: {m.old!r} -> {m.new!r}\n    caught by {', '.join(map(short, m.caught_by))}")
        return 0

    started = time.monotonic()
    rows, problems = [], 0
    with tempfile.TemporaryDirectory(prefix="construct-mutations-") as scratch:
        base = Path(scratch) / "base"
        try:
            copy_repository(ROOT, base)
            check_snippets(base, mutations)
            check_imports_from(base)
            check_test_ids(collected(base), mutations)
            if not args.no_baseline:
                failed, seconds = failing_tests(base, args.workers)
                if failed:
                    raise SetupError(f"the unmutated suite fails, so no mutation result means anything: {failed}")
                print(f"baseline: passes ({seconds:.0f} s)", flush=True)
        except SetupError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        for mutation in mutations:
            copy = Path(scratch) / "mutant"
            shutil.copytree(base, copy)
            try:
                apply(copy, mutation)
                failed, seconds = failing_tests(copy, args.workers)
            except SetupError as error:
                print(f"error: {mutation.name!r}: {error}", file=sys.stderr)
                return 2
            finally:
                shutil.rmtree(copy)
            named = all(names(test, failed) for test in mutation.caught_by)
            problems += not (failed and named)
            rows.append((mutation.name, "yes" if failed else "NO (survived)", ", ".join(map(short, failed)) or "-",
                         "yes" if named else "NO"))
            print(f"{mutation.name}: {len(failed)} failing test(s), named test(s) among them: {rows[-1][3]} "
                  f"({seconds:.0f} s)", flush=True)

    print("\n| mutation | caught? | by which tests | named test among them? |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{len(rows) - problems} of {len(rows)} mutations caught by their named tests "
          f"in {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
