"""Streamlit helpers shared by the pages: the page context and rendering of errors, tables and downloads."""
