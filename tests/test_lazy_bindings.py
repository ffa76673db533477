"""The lazy provider loader must never change the output: compare with the package's normal import."""

import os
import subprocess
import sys
from pathlib import Path

from constructs_lib import aws
from constructs_lib.app import StackInput, synthesize

ROOT = Path(__file__).parent.parent


def test_provider_bindings_are_loaded_lazily(example_stack):
    assert aws.is_lazy(), "the full cdktf_cdktf_provider_aws __init__ ran: some import bypasses constructs_lib.aws"
    loaded = {m.split(".")[1] for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")}
    assert 10 < len(loaded) < 100, f"{len(loaded)} of the package's ~2,100 resource modules loaded"


def test_lazy_and_normal_import_synthesize_byte_identical_json(tmp_path, example_settings, example_workers):
    lazy = synthesize([StackInput(example_settings, tuple(example_workers))], tmp_path / "lazy")
    eager_out = tmp_path / "eager"
    env = dict(os.environ, CDKTF_AWS_EAGER_IMPORT="1", INFRA_ENV_FILE=str(example_settings.settings_file))
    script = (
        "import sys; from constructs_lib import aws; import main; "
        f"code = main.main(['--out', {str(eager_out)!r}, '--quiet']); "
        "assert not aws.is_lazy(), 'eager import was not used'; sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    eager = (eager_out / "stacks" / "acme-dev" / "cdk.tf.json").read_bytes()
    assert eager == lazy.stacks["acme-dev"].read_bytes()
