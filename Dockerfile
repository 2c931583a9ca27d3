# Avtalsassistenten: ingest the demo corpus at build time is left to `make run`; this image holds
# the code and its dependencies (CPU-only torch, as in `make install`).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-swe make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install --no-cache-dir -e .
ENV AVTAL_HOME=/data/var
VOLUME ["/data/var"]
CMD ["avtal", "ingest", "data/corpus"]
