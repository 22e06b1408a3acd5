"""Charts: pure functions from DataFrames to Altair charts, organised by what is drawn.

base          palette, status names, number format, axis titles, the one log chart builder
profiles      per-layer profiles of one or several networks, gains, activation histograms
grids         one number per network over a grid: the init x activation heatmap, sweeps
curves        activation functions and their slopes (Keras, tf.GradientTape)
training      training runs: per-step curves and layer x step heatmaps
residual_scaling  skips h + beta branch(h): signal per beta, measured and theory
through_time  gradients through time in recurrent networks
precision     half precision: zero-gradient fractions per layer, the loss scale over steps
phase         the phase diagram over (sigma_w2, sigma_b2) with theory's lines
finite_width  many seeds of one network: the fan of ln gain² per layer, the spread vs L/n
flow          any Keras model's gradient flow (core.flow), per layer and per block
forensics     a diverged run's last steps, per layer or per step (core.forensics)
export        PNG, SVG and zip files of charts (vl-convert)
challenges    the class's answers to a challenge, and the measurement behind it
"""
