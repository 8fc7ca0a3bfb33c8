"""The Streamlit layer: the only part of aeviz that imports streamlit. Pages call into here; here calls the core."""
