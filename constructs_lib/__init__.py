"""The constructs of the platform. Importing this package first enables the Node side of the lazy provider
loading and the in-process jsii kernel (constructs_lib/aws.py), which must happen before cdktf starts its
kernel, and registers the bare provider package, so construct modules import provider classes by name and load
only those modules."""

import os

from .aws import SILENCED_NODE_MAJOR, enable_in_process_kernel, enable_node_loader, register_package

# jsii prints a Node.js end-of-life banner (Node 20) as Python byte strings on every synth, --quiet or not;
# the Node version is the machine's choice, reported by `doctor`, not news for every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", SILENCED_NODE_MAJOR)
enable_node_loader()
enable_in_process_kernel()
register_package()
