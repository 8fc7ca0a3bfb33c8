"""Analyses of a trained autoencoder: clusters, per-feature importance, generation and anomalies.

Pure functions over numpy arrays and models (no Streamlit); the app's exploration pages only draw their results.
"""
