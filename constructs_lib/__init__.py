"""The constructs of the platform. Importing this package first enables the Node side of the lazy provider
loading (constructs_lib/aws.py), which must happen before cdktf starts its jsii kernel, and registers the bare
provider package, so construct modules import provider classes by name and load only those modules."""

from .aws import enable_node_loader, register_package

enable_node_loader()
register_package()
