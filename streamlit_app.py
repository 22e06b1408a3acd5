"""Gradient Lab: the router. Page order, titles and icons live only here."""
import streamlit as st

from pages import ui

st.set_page_config(page_title="Gradient Lab", page_icon="📉", layout="wide")

PAGES = {
    "Gradient Lab": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/slides.py", title="Slides", icon="🎞️"),
    ],
    "Topics": [
        st.Page("pages/problem.py", title="The problem", icon="✖️"),
        st.Page("pages/why.py", title="Why it happens", icon="🔍"),
        st.Page("pages/initialization.py", title="Initialization", icon="🎚️"),
        st.Page("pages/phase.py", title="Phase diagram", icon="🧭"),
        st.Page("pages/activations.py", title="Activations", icon="〰️"),
        st.Page("pages/remedies.py", title="Remedies", icon="🩹"),
        st.Page("pages/through_time.py", title="Through time (RNNs)", icon="🔁"),
    ],
    "Beyond the notes": [
        st.Page("pages/your_network.py", title="Your network", icon="🧪"),
    ],
    "In class": [
        st.Page("pages/classroom.py", title="Class poll", icon="🧑‍🏫"),
    ],
}

ui.run_page(st.navigation(PAGES))
ui.share_link()
