"""The rules of each kind of network: what a stack of RBMs, a feed-forward classifier and an
encoder-decoder must each satisfy beyond having shapes that fit.  (Which trainer and which
views a network needs is the family registry's question: ``playground.training.families``.)
"""

from __future__ import annotations

from ..engine.costs import check_cost_fits
from ..engine.layers import layer_class
from ..engine.layers.recurrent_base import RecurrentLayer
from .spec import NetworkSpec, Problem, layer_prefix


def chain_output_problems(spec: NetworkSpec, order: list[str]) -> list[Problem]:
    """A chain that trains on labels must end in a layer that gives the output, with a cost that fits
    its activation; a stack of RBMs, which learns without an output, ends where it likes."""
    if spec.node(order[-1]).type == "rbm":
        return []
    problems = []
    last = spec.node(order[-1])
    if len(order) < 2 or not layer_class(last.type).produces_output:
        problems.append(
            Problem(
                last.id,
                layer_prefix(last.id) + "the network must end in a dense layer, whose activation gives the output",
            )
        )
    else:
        problem = check_cost_fits(spec.training.cost, last.config.activation)
        if problem:
            problems.append(Problem(last.id, layer_prefix(last.id) + problem))
    return problems


def rbm_stack_problems(spec: NetworkSpec, order: list[str]) -> list[Problem]:
    """What stops a stack of RBMs from being pretrained greedily and fine-tuned as its file asks.

    Each RBM learns from the units of the layer below it (the data, or the hidden units
    of the RBM beneath), so it must follow the input or another RBM.  Fine-tuning as a
    classifier needs an output layer on top; unrolling into an autoencoder needs the stack
    to end in an RBM, whose mirror image becomes the decoder.
    """
    rbms = {node_id for node_id in order if spec.node(node_id).type == "rbm"}
    if not rbms:
        return []
    problems = []
    for below, node_id in zip(order, order[1:]):
        below_type = spec.node(below).type
        if node_id in rbms and below_type not in ("input", "rbm", "flatten"):
            problems.append(
                Problem(
                    node_id,
                    layer_prefix(node_id) + f"an RBM learns from the units below it, so it "
                    f"must follow the input or another RBM, not a {below_type} layer",
                    (below, node_id),
                )
            )
    last = spec.node(order[-1])
    mode = spec.pretraining.fine_tune
    if mode == "classifier" and not layer_class(last.type).produces_output:
        problems.append(
            Problem(
                last.id,
                layer_prefix(last.id) + "fine-tuning as a classifier needs an output "
                "layer on top of the stack: add a dense softmax layer, or set fine_tune to "
                '"autoencoder" or "none"',
            )
        )
    if mode == "autoencoder" and last.type != "rbm":
        problems.append(
            Problem(
                last.id,
                layer_prefix(last.id) + "unrolling into an autoencoder needs a stack that "
                f"ends in an RBM, not in a {last.type} layer: remove it, or set fine_tune to "
                '"classifier"',
            )
        )
    return problems


def _is_recurrent(spec: NetworkSpec, node_id: str) -> bool:
    return issubclass(layer_class(spec.node(node_id).type), RecurrentLayer)


def state_edge_problems(spec: NetworkSpec) -> list[Problem]:
    """What makes the state connection impossible: wrong layer kinds, different state shapes."""
    problems = []
    for extra in spec.state_edges[1:]:
        problems.append(
            Problem(
                extra[1],
                layer_prefix(extra[1]) + "a network has one state connection, from "
                "the encoder's recurrent layer to the decoder's",
                extra,
            )
        )
    edge = source, target = spec.state_edges[0]
    for end in (source, target):
        if not _is_recurrent(spec, end):
            problems.append(
                Problem(
                    end,
                    layer_prefix(end) + "a state connection joins two recurrent layers "
                    f"(SimpleRNN or LSTM), not a {spec.node(end).type} layer",
                    edge,
                )
            )
    if problems:
        return problems
    encoder, decoder = spec.node(source), spec.node(target)
    encoder_class, decoder_class = layer_class(encoder.type), layer_class(decoder.type)
    if encoder_class.state_names != decoder_class.state_names:
        problems.append(
            Problem(
                target,
                layer_prefix(target) + f"the state connection brings a {encoder.type} "
                f'state ({", ".join(encoder_class.state_names)}) from "{source}", but a '
                f"{decoder.type} starts from ({', '.join(decoder_class.state_names)}): "
                "use the same kind of recurrent layer at both ends",
                edge,
            )
        )
    elif encoder.config.hidden != decoder.config.hidden:
        problems.append(
            Problem(
                target,
                layer_prefix(target) + f"its hidden size {decoder.config.hidden} differs "
                f'from the {encoder.config.hidden} of the encoder "{source}": the encoder\'s final '
                "state becomes this layer's initial state, so the sizes must be equal",
                edge,
            )
        )
    if decoder.config.return_sequences != "yes":
        problems.append(
            Problem(
                target,
                layer_prefix(target) + "the decoder must output h_t at every step "
                '(return_sequences "yes"), so its head can predict every token',
            )
        )
    return problems


def decoder_problems(spec: NetworkSpec, decoder: list[str], output_shapes: dict[str, tuple[int, ...]]) -> list[Problem]:
    """The decoder must end in a per-step softmax head."""
    problems = []
    last = spec.node(decoder[-1])
    if not layer_class(last.type).produces_output or len(output_shapes.get(last.id, ())) != 2:
        problems.append(
            Problem(
                last.id,
                layer_prefix(last.id) + "the decoder must end in a time_dense layer with "
                "softmax, which predicts a token at every step",
            )
        )
    elif last.config.activation != "softmax" or spec.training.cost != "log-likelihood":
        problems.append(
            Problem(
                last.id,
                layer_prefix(last.id) + "the decoder predicts tokens: it needs a softmax "
                f"output and the log-likelihood cost, not {last.config.activation} with "
                f"{spec.training.cost}",
            )
        )
    return problems
