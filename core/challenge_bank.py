"""The challenges of every topic page: specs and questions only, never their answers.

Each answer is measured live by core.challenges.measure. The specs are small (width 64,
batch 64, a few short trainings) so that a question is answered in about a second.
"""
from __future__ import annotations

import math

from .challenges import Challenge
from .experiments.activations import activation_experiment
from .experiments.problem import identity_spec
from .spec import ModelSpec
from .through_time import ThroughTimeSpec
from .training import TrainingSpec

VERDICTS = ("vanishing", "healthy", "exploding")
SMALL = dict(width=64, batch_size=64)


def _net(**settings) -> ModelSpec:
    return ModelSpec(**{**SMALL, **settings})


def _one(spec) -> tuple:
    return (("", (spec,)),)


def _phase_net(activation: str, sigma_w2: float, sigma_b2: float) -> ModelSpec:
    """A point of the phase diagram: W ~ N(0, sigma_w2 / n), b ~ N(0, sigma_b2)."""
    return _net(depth=50, activation=activation, init="variance_scaling", scale=sigma_w2,
                bias_stddev=math.sqrt(sigma_b2))


def _rnn(**settings) -> ThroughTimeSpec:
    return ThroughTimeSpec(**{"units": 32, "batch_size": 16, **settings})


BANK = (
    # --- The problem ------------------------------------------------------------------
    Challenge(
        "identity-explode", "problem",
        "A linear network of 50 layers, every W = 1.5·I. The gradient ratio layer 1 / "
        "layer 50 is 10 to the power of... (in decades)",
        "The gradient is multiplied by a = 1.5 at each of the 49 layers between: "
        "1.5^49 ≈ 10^8.6.", "ratio_decades", _one(identity_spec(50, 1.5)), low=-20,
        high=20),
    Challenge(
        "identity-vanish", "problem",
        "The same 50 layers with W = 0.5·I. The gradient ratio layer 1 / layer 50, "
        "in decades?",
        "0.5^49 ≈ 10^−14.8: each layer halves the gradient, 49 times over.",
        "ratio_decades", _one(identity_spec(50, 0.5)), low=-30, high=10),
    Challenge(
        "identity-overflow", "problem",
        "150 linear layers with W = 1.9·I, in float32. Where does the forward signal "
        "first overflow to inf?",
        "‖h_l‖ = 1.9^l ‖x‖ passes float32's 3.4e38 once l·log10(1.9) ≈ 38.5 − "
        "log10‖x‖, past layer 130.", "overflow_layer", _one(identity_spec(150, 1.9)),
        kind="bucket", choices=("layers 1-50", "layers 51-100", "layers 101-150", "never"),
        edges=(51, 101, 151)),
    Challenge(
        "identity-float64", "problem",
        "The same 150 layers with W = 1.9·I, now in float64. Does it overflow?",
        "float64 reaches 1.8e308 and 1.9^150 ≈ 10^42 is far below it.",
        "overflow_layer", _one(identity_spec(150, 1.9, "float64")), kind="bucket",
        choices=("layers 1-50", "layers 51-100", "layers 101-150", "never"),
        edges=(51, 101, 151)),
    Challenge(
        "random-tanh", "problem",
        "50 tanh layers of 64 units, weights N(0, 0.05²) (Keras' RandomNormal default). "
        "The gradient ratio layer 1 / layer 50, in decades?",
        "Each layer scales the gradient by about σ_w·√n = 0.05·8 = 0.4: 49 layers give "
        "about 10^−19.", "ratio_decades",
        _one(_net(depth=50, activation="tanh", init="random_normal", stddev=0.05)),
        low=-40, high=10),
    # --- Why it happens ---------------------------------------------------------------
    Challenge(
        "sigmoid-glorot", "why",
        "30 sigmoid layers with Glorot initialization. The verdict on the gradient?",
        "sigmoid's slope is at most 0.25, so every layer shrinks the gradient even with "
        "Glorot's weights.", "verdict",
        _one(_net(depth=30, activation="sigmoid", init="glorot_normal")), kind="bucket",
        choices=VERDICTS),
    Challenge(
        "sigmoid-depth", "why",
        "20 sigmoid layers, Glorot initialization: the gradient ratio layer 1 / layer 20, "
        "in decades?",
        "The sigmoid's slope is at most 0.25, so each layer passes on about a quarter "
        "of the gradient: 19 layers give about 10^−12.",
        "ratio_decades", _one(_net(depth=20, activation="sigmoid", init="glorot_normal")),
        low=-30, high=10),
    Challenge(
        "tanh-vs-sigmoid", "why",
        "30 layers, Glorot initialization. Which activation keeps the gradient ratio "
        "layer 1 / layer 30 closest to 1?",
        "tanh's slope is 1 at 0, sigmoid's only 0.25: Glorot's init assumes a slope of "
        "1.", "ratio_decades",
        tuple((name, (_net(depth=30, activation=name, init="glorot_normal"),))
              for name in ("sigmoid", "tanh")), kind="pick"),
    # --- Initialization ---------------------------------------------------------------
    Challenge(
        "relu-init", "initialization",
        "50 ReLU layers of 64 units. Which initialization keeps the gradient ratio "
        "closest to 1?",
        "He's Var(W) = 2/n makes up for ReLU zeroing half of its inputs.", "ratio_decades",
        tuple((init, (_net(depth=50, activation="relu", init=init),))
              for init in ("glorot_normal", "he_normal", "random_normal")), kind="pick"),
    Challenge(
        "relu-glorot", "initialization",
        "50 ReLU layers with Glorot initialization. The gradient ratio layer 1 / layer 50, "
        "in decades?",
        "Glorot's variance is half what ReLU needs, so each layer scales the gradient by "
        "about 1/√2: about 10^−7 over 49 layers.", "ratio_decades",
        _one(_net(depth=50, activation="relu", init="glorot_normal")), low=-20, high=10),
    Challenge(
        "selu-init", "initialization",
        "40 SELU layers. Which initialization keeps SELU's gradient ratio closest to 1?",
        "SELU is self-normalizing only with LeCun's Var(W) = 1/n.", "ratio_decades",
        tuple((init, (_net(depth=40, activation="selu", init=init),))
              for init in ("lecun_normal", "he_normal", "random_normal")), kind="pick"),
    Challenge(
        "orthogonal-linear", "initialization",
        "100 linear layers with orthogonal weights (gain 1). The gradient ratio, in "
        "decades?",
        "An orthogonal matrix keeps every vector's length: 100 of them keep the gradient "
        "at exactly its size.", "ratio_decades",
        _one(_net(depth=100, activation="linear", init="orthogonal", no_bias=True)),
        low=-10, high=10),
    Challenge(
        "tanh-he", "initialization",
        "50 tanh layers with He initialization (Var(W) = 2/n). The verdict?",
        "σ_w² = 2 is past tanh's edge of chaos, so the gradient grows going back, but "
        "slowly: about a decade over 50 layers, inside the healthy band of ±2.",
        "verdict", _one(_net(depth=50, activation="tanh", init="he_normal")),
        kind="bucket", choices=VERDICTS),
    # --- Phase diagram ----------------------------------------------------------------
    Challenge(
        "phase-tanh-edge", "phase",
        "50 tanh layers, W ~ N(0, σ_w²/n), bias variance σ_b² = 0.05. Which σ_w² keeps the "
        "gradient ratio layer 1 / layer 50 closest to 1?",
        "Mean-field theory puts tanh's edge of chaos at σ_w² = 1.76 when σ_b² = 0.05: "
        "below it the signal is ordered and vanishes, above it chaotic and explodes.",
        "ratio_decades", tuple((f"σ_w² = {w:g}", (_phase_net("tanh", w, 0.05),))
                               for w in (0.5, 1.76, 3.5)), kind="pick"),
    Challenge(
        "phase-relu-bias", "phase",
        "50 ReLU layers with σ_w² = 2 (He) and a large bias variance σ_b² = 0.5. The "
        "gradient ratio layer 1 / layer 50, in decades?",
        "For ReLU χ₁ = σ_w²/2 whatever the bias: at σ_w² = 2 each layer passes the "
        "gradient on unchanged on average, so about 10^0.", "ratio_decades",
        _one(_phase_net("relu", 2.0, 0.5)), low=-10, high=10),
    # --- Activations ------------------------------------------------------------------
    Challenge(
        "dying-relu", "activations",
        "6 ReLU layers of 32 units (He init), 200 SGD steps at learning rate 0.7 on the "
        "digits. What fraction of the units is dead at the end?",
        "A large step pushes many pre-activations below 0 for every input; a dead ReLU's "
        "gradient is 0, so it never recovers.", "dead_last",
        (("", (activation_experiment("relu"), TrainingSpec(learning_rate=0.7,
                                                            steps=200))),),
        kind="bucket", choices=("under 10%", "10% to 30%", "30% to 60%", "over 60%"),
        edges=(0.1, 0.3, 0.6)),
    Challenge(
        "he-activations", "activations",
        "50 layers with He initialization. Which activation keeps the gradient ratio "
        "closest to 1?",
        "He's init is derived for ReLU; ELU also passes gradient on its negative side, "
        "and the sigmoid's slope of at most 0.25 shrinks it at every layer.",
        "ratio_decades",
        tuple((name, (_net(depth=50, activation=name, init="he_normal"),))
              for name in ("relu", "elu", "sigmoid")), kind="pick"),
    Challenge(
        "gelu-he", "activations",
        "40 GELU layers with He initialization. The gradient ratio, in decades?",
        "GELU is close to ReLU for large inputs but smaller near 0, so He's init is "
        "close to, not exactly, right.", "ratio_decades",
        _one(_net(depth=40, activation="gelu", init="he_normal")), low=-20, high=20),
    Challenge(
        "softsign-glorot", "activations",
        "30 softsign layers with Glorot initialization. The verdict?",
        "softsign saturates slowly (polynomially), so its slope stays near 1 longer than "
        "tanh's.", "verdict", _one(_net(depth=30, activation="softsign",
                                        init="glorot_normal")),
        kind="bucket", choices=VERDICTS),
    # --- Remedies ---------------------------------------------------------------------
    Challenge(
        "remedy-batchnorm", "remedies",
        "30 sigmoid layers with N(0, 0.05²) weights. Which change brings the gradient "
        "ratio closest to 1?",
        "Batch normalization rescales every layer's pre-activations to unit variance, "
        "so the weights' small scale no longer compounds.", "ratio_decades",
        tuple((label, (_net(depth=30, activation="sigmoid", init="random_normal",
                            **change),))
              for label, change in (("batch normalization", dict(batch_norm=True)),
                                    ("no bias", dict(no_bias=True)),
                                    ("twice the weights", dict(stddev=0.1)))),
        kind="pick"),
    Challenge(
        "residual-tanh", "remedies",
        "50 tanh layers with N(0, 0.05²) weights, now with a skip connection around "
        "every layer. The gradient ratio, in decades?",
        "The identity path carries the gradient past every layer; each layer adds a "
        "little to it, so it grows slowly instead of vanishing.", "ratio_decades",
        _one(_net(depth=50, activation="tanh", init="random_normal", stddev=0.05,
                  residual=True)), low=-20, high=20),
    Challenge(
        "remedy-training", "remedies",
        "10 sigmoid layers, weights U[±1/8], 200 SGD steps at learning rate 0.1 on the "
        "digits. Which change trains to the best test accuracy?",
        "ReLU with He init passes the gradient to the first layers at full size; the "
        "sigmoid's gradient there is about 10^−8 of the top's.", "test_accuracy",
        tuple((label, (ModelSpec(**{**dict(depth=10, width=64, activation="sigmoid",
                                    init="random_uniform", limit=0.125), **change}),
                       TrainingSpec(learning_rate=0.1, steps=200)))
              for label, change in (("ReLU + He init", dict(activation="relu",
                                                            init="he_normal")),
                                    ("Glorot init (still sigmoid)",
                                     dict(init="glorot_uniform")),
                                    ("nothing (baseline)", {}))),
        kind="pick", pick="largest"),
    # --- Through time -----------------------------------------------------------------
    Challenge(
        "rnn-linear-gain", "through_time",
        "A linear SimpleRNN whose recurrent kernel is 1.1 × orthogonal, 100 steps. The "
        "gradient ratio step 1 / step 100, in decades?",
        "Each step multiplies the gradient by W_hh, whose singular values are all 1.1: "
        "1.1^99 ≈ 10^4.1.", "time_decades",
        _one(_rnn(activation="linear", gain=1.1, steps=100)), low=-20, high=20),
    Challenge(
        "rnn-tanh", "through_time",
        "A tanh SimpleRNN with an orthogonal recurrent kernel (gain 1), 100 steps. The "
        "gradient ratio step 1 / step 100, in decades?",
        "tanh's slope is below 1 wherever the state is not 0, so even an orthogonal "
        "kernel loses gradient at every step.", "time_decades",
        _one(_rnn(steps=100)), low=-30, high=10),
    Challenge(
        "cells", "through_time",
        "100 steps, default Keras settings. Which cell keeps the gradient ratio step 1 / "
        "step 100 closest to 1?",
        "The LSTM's additive carry c_t loses less at each step than SimpleRNN's "
        "tanh(W_hh·h), though over 100 steps both still vanish.", "time_decades",
        tuple((name, (_rnn(cell=cell, steps=100),))
              for name, cell in (("SimpleRNN", "simple"), ("LSTM", "lstm"))),
        kind="pick"),
    Challenge(
        "forget-bias", "through_time",
        "An LSTM over 100 steps. Which initial forget-gate bias keeps the gradient ratio "
        "closest to 1?",
        "A larger forget bias keeps the gate open (near 1) from the start, so the carry "
        "passes the gradient back; at −2 it underflows to 0.", "time_decades",
        tuple((f"forget bias {bias:g}", (_rnn(cell="lstm", steps=100, forget_bias=bias),))
              for bias in (-2.0, 0.0, 3.0)), kind="pick"),
)
