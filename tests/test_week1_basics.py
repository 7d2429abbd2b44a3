"""week1/tensorflow_basics.py: what its printout and TensorBoard show."""

import json
from pathlib import Path

from tests.helpers import load_script

REPO = Path(__file__).resolve().parents[1]


def graph_defs(folder):
    """The graphs written for TensorBoard's Graphs tab under `folder`."""
    import tensorflow as tf
    from tensorboard.compat.proto import event_pb2, graph_pb2

    graphs = []
    for path in Path(folder).rglob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            if event.HasField("graph_def"):
                graphs.append(graph_pb2.GraphDef.FromString(event.graph_def))
    return graphs


def test_basics_prints_values_graph_gradient_and_writes_the_graph(tmp_path, capsys):
    basics = load_script(REPO / "week1/tensorflow_basics.py")
    metrics = basics.main(["--smoke", "--log-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out

    assert "1. tf.add(3, 5) -> tf.Tensor(8, shape=(), dtype=int32)" in out and metrics["add_result"] == 8
    # the traced graph, as the slides draw it: an AddV2 node named Add whose output tensor is Add:0
    assert "AddV2" in out and "a:0, b:0" in out and "-> Add:0" in out and "-> mul:0" in out
    assert metrics["graph_operations"] == ["Placeholder", "Placeholder", "AddV2", "Const", "Mul", "Identity"]
    assert metrics["traced_graphs"] == 3  # int32 scalars, float32 scalars, an int32 vector: one graph each
    assert metrics["broadcast_shape"] == [3, 4] and metrics["variable_after_assign_add"] == 1.5
    assert metrics["gradient_tape"] == metrics["gradient_by_hand"] == 2 * 3.0 * (2.0 * 3.0 - 1.0)
    assert metrics["cpu_device"].endswith("CPU:0") and metrics["device"].split("/")[-1].startswith(("device:CPU", "device:GPU"))
    assert metrics["restored"] == [1.0, 2.0]

    graphs = graph_defs(tmp_path / "run" / "graph")
    assert len(graphs) == 1, "TensorBoard's Graphs tab needs exactly one graph"
    assert {node.op for node in graphs[0].node} >= {"Placeholder", "AddV2", "Mul"}
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["add_result"] == 8
    assert (tmp_path / "run" / "graph.png").stat().st_size > 0
