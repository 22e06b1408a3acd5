"""Home: what Gradient Lab teaches, a map of the topics, and how to read the charts."""
import streamlit as st

import datetime as dt

from pages import ui

st.title("📉 Gradient Lab")
st.markdown(
    "**See vanishing and exploding gradients happen.** Build a real deep network with "
    "Keras, change one thing (depth, initialization, activation, a remedy) and watch "
    "what happens to the gradient at every layer. Every number on these pages comes "
    "from a real TensorFlow forward and backward pass, or from a formula labelled "
    "*theory*.")
st.caption("For students in class and at home, instructors projecting a live demo, and "
           "practitioners checking a deep network's gradient flow.")

today = dt.date.today()  # the course notes' study-diary strip
strip = st.columns(3)
strip[0].metric("Today", today.strftime("%a %d %b %Y"))
strip[1].metric("Days since the course notes began (18 Aug 2025)",
                (today - dt.date(2025, 8, 18)).days)
strip[2].metric("Day of the Gradient Lab project (day 1: 23 Nov 2026)",
                (today - dt.date(2026, 11, 23)).days + 1)

st.subheader("The topics")
TOPICS = [
    ("pages/problem.py", "The problem", "✖️",
     "The multiplication effect: 1.5 x 1.5 x ... explodes, 0.5 x 0.5 x ... vanishes, "
     "through up to 150 layers."),
    ("pages/why.py", "Why it happens", "🔍",
     "Saturating activations, variance that grows or shrinks layer by layer, sigmoid's "
     "0.5 mean, and repeated multiplication through time in recurrent networks."),
    ("pages/initialization.py", "Initialization", "🎚️",
     "Xavier/Glorot, He, LeCun and orthogonal: starting the weights in the Goldilocks "
     "zone."),
    ("pages/activations.py", "Activations", "〰️",
     "Sigmoid, tanh, ReLU and dying ReLU, Leaky ReLU, ELU, SELU."),
    ("pages/remedies.py", "Remedies", "🩹",
     "Good initialization, non-saturating activations, batch normalization, gradient "
     "clipping, L2 and residual connections, each tested on the same network."),
    ("pages/through_time.py", "Through time", "🔁",
     "Recurrent networks: the same matrix multiplies the gradient at every time step."),
]
for path, title, icon, blurb in TOPICS:
    with st.container(border=True):
        ui.page_link(path, label=f"**{title}**", icon=icon)
        st.caption(blurb)

st.subheader("How to read the charts")
left, right = st.columns(2)
left.markdown(
    "**Back-propagated signal** `‖dLoss/dh_l‖`: the gradient of the loss with respect "
    "to the output of hidden layer *l*. This is what vanishes or explodes as it "
    "travels from the output back toward the input: the lesson of every page.\n\n"
    "**Weight gradient** `‖dLoss/dW_l‖`: what the optimizer actually uses to update "
    "layer *l*. At initialization it can look flat across layers even while the "
    "signal vanishes, because the shrinking forward activations and the shrinking "
    "backward signal cancel (Glorot & Bengio, 2010). So look at both.")
right.markdown(
    "**Log axes**: each gridline is ten times the one below, so a straight line means "
    "the same factor per layer, exactly what repeated multiplication gives.\n\n"
    "**Overflow and underflow are shown, not hidden**: a value too large for the "
    "number format becomes `inf` (▲ at the top edge), `inf × 0` gives `nan` (◆), and "
    "a value too small becomes exactly `0` (▼ at the bottom edge). Hover any point "
    "for its exact value.\n\n"
    "**Layers** are numbered from the input: layer 1 is nearest the data, layer *L* "
    "nearest the output and the loss.")
