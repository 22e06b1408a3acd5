"""Remedies: a baseline that fails, and each remedy applied on the same seed and data."""
import streamlit as st

st.title("🩹 Remedies")
st.info("This page is being built.", icon="🚧")
