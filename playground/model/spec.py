"""The network description: layers (nodes), their connections (edges), how to train them, and
where the window drew them; the two words for what is wrong with one; and the two descriptions
the program writes itself (Nielsen's multilayer perceptron, Sutskever's encoder-decoder).

Everything else in ``playground.model`` works on these dataclasses: ``analysis`` infers shapes
and finds problems, ``families`` holds the rules of each kind of network, ``build`` makes the
engine's objects and ``network_file`` reads and writes them.  ``Problem`` lives here, not in
``analysis``, because the family rules produce problems and sit below the analysis that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.layers import layer_class
from .settings import AugmentationSettings, DatasetSettings, PretrainingSettings, TrainingSettings


class NetworkFileError(ValueError):
    """A network file or description that cannot be used; the message says where and why."""


@dataclass
class Node:
    id: str
    type: str
    config: object

    @property
    def version(self) -> int:
        return layer_class(self.type).version


@dataclass
class NetworkSpec:
    nodes: list[Node]
    edges: list[tuple[str, str]]
    training: TrainingSettings = field(default_factory=TrainingSettings)
    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    ui: dict = field(default_factory=dict)
    name: str = ""
    lesson: dict | None = None
    #: fabricated training examples; written to the file only when switched on
    augmentation: AugmentationSettings = field(default_factory=AugmentationSettings)
    #: state connections of an encoder-decoder: (encoder's recurrent layer, decoder's recurrent
    #: layer).  Kept apart from ``edges`` because no activation flows along them, only the final
    #: state becoming the initial state; the file marks them ``"kind": "state"``.
    state_edges: list[tuple[str, str]] = field(default_factory=list)
    #: greedy pretraining of a stack of RBMs and the fine-tuning after it (the ``pretraining``
    #: entry of the file's ``training`` section); written only when it differs from the defaults
    pretraining: PretrainingSettings = field(default_factory=PretrainingSettings)
    #: values that replace the initialiser's draw for some parameters, keyed like a weights file
    #: (``"out.weight"``): a lesson's variant that starts a neuron at w = 2, b = 2 (``variants``).
    #: Never written to a file: a network file's weights are drawn, and a weights file holds the rest
    starting_parameters: dict = field(default_factory=dict)
    #: where each id was last seen in ``nodes``, so ``node`` is O(1); see ``node``
    _positions: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def node(self, node_id: str) -> Node:
        """The layer with id ``node_id``, in constant time.

        Analysis, building and the canvas look up every layer by id, so a linear search here
        made reading a 40,000-layer file take over a minute.  ``nodes`` is a plain list that
        callers may replace or change in place, so a remembered position is trusted only while
        the node there still has that id, and the positions are found afresh otherwise (into a
        new dict, so a thread reading the old one meanwhile never sees it half filled).
        """
        nodes = self.nodes
        position = self._positions.get(node_id)
        if position is None or position >= len(nodes) or nodes[position].id != node_id:
            positions: dict[str, int] = {}
            for index, node in enumerate(nodes):
                positions.setdefault(node.id, index)
            self._positions = positions
            if node_id not in positions:
                raise KeyError(node_id)
            position = positions[node_id]
        return nodes[position]


@dataclass
class Problem:
    """One reason the network cannot train, attached to a node (and an edge where one is to blame)."""

    node: str | None
    message: str
    edge: tuple[str, str] | None = None


def layer_prefix(node_id) -> str:
    """How every message about one layer begins, so a learner sees at once which layer is meant."""
    return f'layer "{node_id}": '


def empty_spec(name: str = "untitled") -> NetworkSpec:
    """File › New: an empty canvas, but for the input layer of the digits it trains on (28×28 = 784
    values), with the default training settings; the user adds the layers from the palette."""
    return NetworkSpec(
        [Node("in", "input", layer_class("input").Config(shape=(784,)))],
        [],
        TrainingSettings(),
        DatasetSettings(name="digits"),
        {"positions": {"in": [0.0, 0.0]}},
        name,
    )


def sequential_spec(
    sizes: list[int], *, activation: str, output: str, cost: str, initializer: str, name: str = ""
) -> NetworkSpec:
    """A multilayer perceptron ``sizes = [784, 30, 10]``: Nielsen's ``Network([784, 30, 10])``."""
    dense = layer_class("dense")
    nodes = [Node("in", "input", layer_class("input").Config(shape=(sizes[0],)))]
    for index, units in enumerate(sizes[1:], start=1):
        last = index == len(sizes) - 1
        nodes.append(
            Node(
                "out" if last else f"fc{index}",
                "dense",
                dense.Config(units=units, activation=output if last else activation),
            )
        )
    edges = [(a.id, b.id) for a, b in zip(nodes, nodes[1:])]
    ui = {"positions": {node.id: [0.0, 110.0 * i] for i, node in enumerate(nodes)}}
    training = TrainingSettings(cost=cost, initializer=initializer)
    return NetworkSpec(nodes, edges, training, DatasetSettings(name="digits"), ui, name)


def encoder_decoder_spec(
    *,
    source_vocabulary: int,
    target_vocabulary: int,
    source_length: int,
    target_length: int,
    hidden: int,
    dimension: int,
    cell: str = "lstm",
    name: str = "",
) -> NetworkSpec:
    """Sutskever's encoder-decoder: embedded source tokens into a recurrent encoder, whose final
    state starts a recurrent decoder reading the embedded target tokens, with a per-step softmax."""
    rnn = layer_class(cell).Config
    embedding = layer_class("embedding").Config
    nodes = [
        Node("source", "input", layer_class("input").Config(shape=(source_length,))),
        Node("source_embedding", "embedding", embedding(vocabulary=source_vocabulary, dimension=dimension)),
        Node("encoder", cell, rnn(hidden=hidden, return_sequences="no")),
        Node("target", "input", layer_class("input").Config(shape=(target_length,))),
        Node("target_embedding", "embedding", embedding(vocabulary=target_vocabulary, dimension=dimension)),
        Node("decoder", cell, rnn(hidden=hidden, return_sequences="yes")),
        Node("words", "time_dense", layer_class("time_dense").Config(units=target_vocabulary, activation="softmax")),
    ]
    edges = [
        ("source", "source_embedding"),
        ("source_embedding", "encoder"),
        ("target", "target_embedding"),
        ("target_embedding", "decoder"),
        ("decoder", "words"),
    ]
    # the encoder's column on the left, the decoder's on the right: the state connection runs across
    ui = {
        "positions": {
            node.id: [0.0 if index < 3 else 260.0, 110.0 * (index if index < 3 else index - 3)]
            for index, node in enumerate(nodes)
        }
    }
    training = TrainingSettings(cost="log-likelihood", optimizer="adam", learning_rate=0.003, batch_size=64)
    return NetworkSpec(
        nodes, edges, training, DatasetSettings(name="numbers"), ui, name, state_edges=[("encoder", "decoder")]
    )
