# DataTruth app image: the same install path as the README (./dev install), run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATATRUTH_DATA_DIR=/data DATATRUTH_HOSTED=false
RUN useradd --create-home --uid 10001 datatruth && mkdir -p /app /data && chown datatruth /app /data
WORKDIR /app
COPY --chown=datatruth . /app
USER datatruth
RUN ./dev install && .venv/bin/datatruth demo build

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD .venv/bin/python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"
CMD [".venv/bin/streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0"]
