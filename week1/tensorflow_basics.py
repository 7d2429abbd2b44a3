"""TensorFlow basics: the slides' "TensorFlow 기초" in TensorFlow 2 — tensors, graphs, autodiff, devices, checkpoints.

요약: 슬라이드는 TensorFlow를 데이터 흐름 그래프(노드는 연산, 간선은 텐서)로 소개하고, 그래프를 먼저 만든 뒤
Session.run으로 실행하는 두 단계를 보여 줍니다. TensorFlow 2에서는 연산이 바로 값을 냅니다(즉시 실행). 그래프는
tf.function이 파이썬 함수를 추적(tracing)해서 만들고, TensorBoard의 Graphs 탭에서 볼 수 있습니다.

Run:    python week1/tensorflow_basics.py
Smoke:  python week1/tensorflow_basics.py --smoke
Expect: printed in order (each section's numbers are checked by tests/test_week1_basics.py):
        1. tf.add(3, 5) -> tf.Tensor(8, shape=(), dtype=int32): a value at once (TF1 printed Tensor("Add:0", ...));
        2. the traced graph of add_and_double: Placeholder a, b -> AddV2 "Add" -> Mul -> Identity, with the
           tensor names "Add:0", "mul:0"; calling it with a new dtype or shape traces a new graph (3 graphs);
        3. tensors of rank 0 to 3 with their shapes and dtypes, broadcasting (3,1) + (4,) -> (3, 4),
           a tf.Variable changed in place while a constant cannot be;
        4. dJ/dw of J(w) = (w x - y)^2 from tf.GradientTape equal to the hand derivative 2 x (w x - y);
        5. the device each operation ran on (CPU:0, or GPU:0 when TensorFlow sees a GPU);
        6. a tf.train.Checkpoint written, the variable changed, and restored to its saved value.
        TensorBoard (`tensorboard --logdir runs`): the Graphs tab shows add_and_double's graph.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # 어느 폴더에서 실행해도 `import common`이 되도록
from common import flags

# 명령행 옵션(flags): 학습하지 않는 스크립트라서 학습 옵션(--epochs 등)이 없습니다.
PARSER = flags.make_parser(__file__, __doc__, data_dir=False)
if __name__ == "__main__":
    PARSER.parse_args()  # --help나 잘못된 옵션은 여기서 바로 멈춥니다

import tensorflow as tf

from common import runtime, tb


# 1. 즉시 실행 / Eager execution: an operation gives its value at once
def eager_add():
    """TF1에서 `a = tf.add(3, 5); print(a)`는 값이 아니라 그래프의 노드 Tensor("Add:0", ...)를 찍고,
    Session.run(a)을 해야 8이 나왔습니다. TF2는 연산을 쓰는 즉시 계산합니다(즉시 실행, eager execution)."""
    a = tf.add(3, 5)
    print(f"1. tf.add(3, 5) -> {a!s}   (.numpy() = {a.numpy()})")
    return a


# 2. 계산 그래프 / The graph: tf.function traces Python into a data-flow graph
@tf.function
def add_and_double(a, b):
    return tf.add(a, b) * 2


def traced_graph(log_dir):
    """Traces add_and_double for int32 scalars, prints its operations, writes the graph to TensorBoard."""
    concrete = add_and_double.get_concrete_function(tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32))
    print("2. add_and_double의 그래프 / its graph (operation: inputs -> outputs)")
    operations = concrete.graph.get_operations()
    for op in operations:  # 노드는 연산, 간선은 연산 사이를 흐르는 텐서입니다
        inputs = ", ".join(t.name for t in op.inputs) or "-"
        outputs = ", ".join(t.name for t in op.outputs)
        print(f"   {op.type:12s} {op.name:8s} {inputs:16s} -> {outputs}")
    with tb.writer(log_dir, "graph").as_default():
        tf.summary.graph(concrete.graph)  # TensorBoard의 Graphs 탭
    # 같은 함수를 새 dtype이나 새 모양으로 부르면 그래프를 새로 추적합니다(retracing).
    add_and_double(tf.constant(1), tf.constant(2))  # int32 스칼라: 위에서 만든 그래프를 다시 씀
    add_and_double(tf.constant(1.0), tf.constant(2.0))  # float32: 새 그래프
    add_and_double(tf.constant([1, 2]), tf.constant([3, 4]))  # 모양 (2,): 또 새 그래프
    graphs = add_and_double.experimental_get_tracing_count()
    print(f"   int32 스칼라, float32 스칼라, int32 (2,) 벡터로 부르면 그래프 {graphs}개 / {graphs} traced graphs")
    save_graph_figure(operations, Path(log_dir) / "graph.png", log_dir)
    return [op.type for op in operations], graphs


def save_graph_figure(operations, path, log_dir):
    """The slides' picture: operations as nodes, tensors as the arrows between them, inputs on the left."""
    depth = {}
    for op in operations:  # get_operations()는 입력이 먼저 오는 순서입니다
        depth[op.name] = 1 + max((depth[t.op.name] for t in op.inputs), default=-1)
    rows = {}
    position = {}
    for op in operations:
        column = depth[op.name]
        position[op.name] = (column, -rows.setdefault(column, 0))
        rows[column] += 1
    plt = tb.pyplot()
    fig, ax = plt.subplots(figsize=(9, 3))
    for op in operations:
        x, y = position[op.name]
        for t in op.inputs:
            x0, y0 = position[t.op.name]
            ax.annotate("", xy=(x - 0.28, y), xytext=(x0 + 0.28, y0), arrowprops={"arrowstyle": "->"})
            ax.text((x + x0) / 2, (y + y0) / 2 + 0.12, t.name, ha="center", fontsize=8, color="tab:blue")
        ax.text(x, y, f"{op.type}\n{op.name}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "lightyellow"})
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-max(rows.values()) + 0.4, 0.6)
    ax.axis("off")
    ax.set_title("add_and_double의 계산 그래프: 노드는 연산, 화살표는 텐서 / nodes are operations, edges are tensors")
    tb.save_figure(fig, path, log_dir=log_dir)


# 3. 텐서 / Tensors: rank, shape, dtype, broadcasting; Variable vs constant
def tensors():
    examples = {
        "스칼라 (rank 0)": tf.constant(3.0),
        "벡터 (rank 1)": tf.constant([1, 2, 3]),
        "행렬 (rank 2)": tf.zeros([2, 3]),
        "3차원 (rank 3)": tf.ones([2, 28, 28], dtype=tf.uint8),  # 예: 28x28 흑백 이미지 두 장
    }
    print("3. 텐서 = n차원 배열 / a tensor is an n-dimensional array")
    for name, t in examples.items():
        print(f"   {name:16s} rank {t.ndim}  shape {t.shape}  dtype {t.dtype.name}")
    column, row = tf.constant([[1.0], [2.0], [3.0]]), tf.constant([10.0, 20.0, 30.0, 40.0])
    total = column + row  # 브로드캐스팅(broadcasting): (3, 1)과 (4,)가 (3, 4)로 늘어납니다
    print(f"   broadcasting {column.shape} + {row.shape} -> {total.shape}; total[2, 3] = {total[2, 3].numpy()}")
    w = tf.Variable(1.0)  # 변수(Variable): 학습으로 바꾸는 값. 상수는 바꿀 수 없습니다
    w.assign_add(0.5)
    print(f"   tf.Variable after assign_add(0.5): {w.numpy()}; tf.constant has no assign: "
          f"{not hasattr(tf.constant(1.0), 'assign')}")
    return {name: (t.ndim, tuple(t.shape)) for name, t in examples.items()}, tuple(total.shape), float(w.numpy())


# 4. 자동 미분 / Autodiff: tf.GradientTape against the derivative by hand
def autodiff(w=2.0, x=3.0, y=1.0):
    """J(w) = (w x - y)^2 has dJ/dw = 2 x (w x - y): the tape must give the same number."""
    w = tf.Variable(w)
    with tf.GradientTape() as tape:
        J = (w * x - y) ** 2
    tape_gradient = float(tape.gradient(J, w))
    hand_gradient = 2 * x * (float(w) * x - y)
    print(f"4. J(w) = (w x - y)^2 at w={float(w)}, x={x}, y={y}: GradientTape {tape_gradient}, by hand {hand_gradient}")
    return tape_gradient, hand_gradient


# 5. 장치 / Devices: where each operation ran
def devices():
    cpu = tf.config.list_physical_devices("CPU")
    gpus = tf.config.list_physical_devices("GPU")
    product = tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]))  # 장치를 정하지 않으면 GPU가 있을 때 GPU에서
    with tf.device("/CPU:0"):
        on_cpu = tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]))  # 장치를 정해서 CPU에서
    print(f"5. devices: {len(cpu)} CPU, {len(gpus)} GPU; matmul ran on {product.device.split('/')[-1]}, "
          f"with tf.device('/CPU:0') on {on_cpu.device.split('/')[-1]}")
    return product.device, on_cpu.device


# 6. 체크포인트 / Checkpoints: save variables, change them, restore
def checkpoint(log_dir):
    w = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(w=w)
    path = ckpt.write(str(Path(log_dir) / "checkpoints" / "basics"))
    w.assign([9.0, 9.0])
    ckpt.read(path).assert_consumed()
    print(f"6. checkpoint written to {path}; after assign([9, 9]) and restore: {w.numpy().tolist()}")
    return w.numpy().tolist()


def main(argv=None):
    args = flags.parse(PARSER, argv)
    runtime.setup(args)  # 장치, 시드, 실행 폴더와 config.json
    value = eager_add()
    op_types, graphs = traced_graph(args.log_dir)
    ranks, broadcast_shape, variable = tensors()
    tape_gradient, hand_gradient = autodiff()
    device, cpu_device = devices()
    restored = checkpoint(args.log_dir)
    return tb.write_metrics(
        args.log_dir, add_result=int(value), graph_operations=op_types, traced_graphs=graphs,
        broadcast_shape=list(broadcast_shape), variable_after_assign_add=variable,
        gradient_tape=tape_gradient, gradient_by_hand=hand_gradient, device=device, cpu_device=cpu_device,
        restored=restored,
    )


if __name__ == "__main__":
    main()
