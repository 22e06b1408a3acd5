"""The pages' experiments: named setups built from the engine's specs and measurements.

problem         the identity network of The problem (a^L)
why             Why it happens: slopes, Glorot & Bengio's Figure 2 networks, seeds
initialization  Initialization: formulas, side by side, the grid, the sigma_w sweep
activations     Activations: the curves and their slopes, dying ReLU runs
remedies        Remedies: the failing baselines and each remedy, Glorot & Bengio's Figure 2
loss_scaling    Remedies: float32, mixed_float16 and LossScaleOptimizer on the same network
residual_scaling  Remedies: skips scaled by beta = 1, 1/sqrt(L), 0; theory; training
through_time    Through time: the cells compared, the LSTM forget bias, clipping in action
phase           Phase diagram: signal ratio over (sigma_w2, sigma_b2), the critical line
your_network    Your network: blocks, diagnosis, comparisons and code of any Keras model
"""
