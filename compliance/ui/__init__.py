"""Streamlit pages: the only part of the product that imports streamlit."""
