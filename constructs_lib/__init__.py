"""The constructs of the platform. Importing this package first enables the Node side of the lazy provider
loading (constructs_lib/aws.py), which must happen before cdktf starts its jsii kernel."""

from .aws import enable_node_loader

enable_node_loader()
