"""The storage graph: reading tensor and array metadata from a namespace, exact overlaps, and
the plain-data graph model with its ``tensorviews.graph/1`` JSON."""

from tensorviews.graph.model import (
    MIME_TYPE,
    SCHEMA,
    GroupNode,
    OverlapEdge,
    StorageGraph,
    StorageNode,
    TensorNode,
)
from tensorviews.graph.pair_overlap import overlaps
from tensorviews.graph.scan import Snapshotter, snapshot

__all__ = [
    "MIME_TYPE",
    "SCHEMA",
    "GroupNode",
    "OverlapEdge",
    "Snapshotter",
    "StorageGraph",
    "StorageNode",
    "TensorNode",
    "overlaps",
    "snapshot",
]
