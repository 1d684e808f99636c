"""Insights computed on top of an answer: forecasts of time series."""
