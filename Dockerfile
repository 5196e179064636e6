# syntax=docker/dockerfile:1
# Comptoir: the PWA built with Node, then the Python package on a slim image, run unprivileged.
#   docker build -t comptoir .
#   docker run -p 8000:8000 -v comptoir-var:/app/var comptoir

# --- 1. the PWA ---------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS pwa
WORKDIR /src/pwa
# Dependencies first, so a source change does not reinstall them.
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY pwa/schema-viewer/package.json pwa/schema-viewer/package-lock.json ./schema-viewer/
RUN cd schema-viewer && npm ci --no-audit --no-fund --loglevel=error
COPY pwa/ ./
# vite.config.ts writes the build to ../backend/comptoir/static/app, i.e. /src/backend/...
RUN npm run build
# The /schema viewer's files, to ../backend/comptoir/static/schema-viewer.
RUN cd schema-viewer && npm run build

# --- 2. the Python package, installed into a virtual environment --------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/comptoir
WORKDIR /src
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY --from=pwa /src/backend/comptoir/static/app/ backend/comptoir/static/app/
COPY --from=pwa /src/backend/comptoir/static/schema-viewer/ backend/comptoir/static/schema-viewer/
RUN /opt/comptoir/bin/pip install .

# --- 3. the image that runs ---------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/comptoir/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COMPTOIR_VAR_DIR=/app/var
# Invoice PDFs: WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and the font the
# documents are set in (the Makefile's pdf-libraries target installs the same).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 comptoir \
    && useradd --system --uid 10001 --gid comptoir --home-dir /app --shell /usr/sbin/nologin comptoir \
    && mkdir -p /app/var \
    && chown -R comptoir:comptoir /app
COPY --from=build /opt/comptoir /opt/comptoir
WORKDIR /app
USER comptoir
# The SQLite database (the default) and the generated secret key live here.
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('COMPTOIR_PORT', '8000'), timeout=4)"
# Migrate, then serve; exec so the server is PID 1 and receives the stop signal.
CMD ["sh", "-c", "comptoir migrate && exec comptoir serve --host 0.0.0.0 --no-migrate"]
